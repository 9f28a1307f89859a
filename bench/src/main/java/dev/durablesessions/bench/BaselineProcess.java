package dev.durablesessions.bench;

import java.io.File;
import java.nio.file.Path;
import java.util.List;

/**
 * A bare-stack baseline (a main class of {@code dev.durablesessions.bench.baseline}) in its own
 * JVM, started from this bench's jar with the node's JVM flags ({@link NodeProcess#jvm()}), so
 * the figures beside the node's differ by what the node does and nothing else.
 */
final class BaselineProcess {
  static final String RELAY = "dev.durablesessions.bench.baseline.BareRelay";
  static final String APPENDS = "dev.durablesessions.bench.baseline.BareAppends";

  final String mainClass;
  final Path log;
  final int httpPort = NodeProcess.freePort();
  Process process;

  BaselineProcess(String mainClass, Path log) {
    this.mainClass = mainClass;
    this.log = log;
  }

  void start() throws Exception {
    List<String> command = NodeProcess.jvm();
    command.addAll(List.of("-cp", benchJar(), mainClass));
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.environment().put("DS_HTTP_PORT", String.valueOf(httpPort));
    pb.redirectErrorStream(true).redirectOutput(log.toFile());
    process = pb.start();
    try {
      NodeProcess.awaitHealthy(base(), process, log);
    } catch (Exception e) {
      stop();
      throw e;
    }
  }

  /** The jar this class runs from: its manifest puts lib/ on the class path. */
  static String benchJar() throws Exception {
    File jar = new File(BaselineProcess.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    if (!jar.isFile()) throw new IllegalStateException("run the bench from its jar: java -jar bench/target/bench.jar");
    return jar.getPath();
  }

  void stop() {
    if (process != null) ChildProcesses.stopTree(process);
  }

  String base() {
    return "http://127.0.0.1:" + httpPort;
  }
}
