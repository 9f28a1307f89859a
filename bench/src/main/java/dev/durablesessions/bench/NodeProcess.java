package dev.durablesessions.bench;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** A node under test in its own JVM (so its heap and CPU are its own), started from the packaged jar. */
final class NodeProcess {
  final int httpPort = freePort();
  final Path dir;
  final String dbUrl;
  final String dbUser;
  final String secret;
  /** HOCON lines appended to the node's config file (a scenario's own settings). */
  String extraConfig = "";
  Process process;

  NodeProcess(Path dir, String dbUrl, String dbUser, String secret) {
    this.dir = dir;
    this.dbUrl = dbUrl;
    this.dbUser = dbUser;
    this.secret = secret;
  }

  /** The java command and flags for a server under test: the node and its baselines start alike. */
  static java.util.List<String> jvm() {
    java.util.List<String> command = new java.util.ArrayList<>(java.util.List.of(
        ProcessHandle.current().info().command().orElse("java"), "-Xms1g", "-Xmx2g", "-XX:+UseParallelGC"));
    String extra = System.getenv("BENCH_NODE_OPTS"); // e.g. -XX:StartFlightRecording=... to profile the node
    if (extra != null && !extra.isBlank()) command.addAll(java.util.List.of(extra.trim().split("\\s+")));
    return command;
  }

  static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  void start() throws Exception {
    Path conf = dir.resolve("bench-node.conf");
    Files.writeString(conf, """
        durable-sessions.database.url = "%s"
        durable-sessions.database.user = "%s"
        durable-sessions.auth.secret = "%s"
        durable-sessions.demo-agent.enabled = off
        durable-sessions.dispatch.persistence-id = "agent-dispatcher-%s"
        durable-sessions.management.enabled = off
        durable-sessions.http.host = "127.0.0.1"
        durable-sessions.http.socket.heartbeat-timeout = 0
        # one bench subject writes for thousands of sessions: limits per identity off
        durable-sessions.http.limits.appends.count = 0
        durable-sessions.http.limits.session-creations.count = 0
        durable-sessions.http.limits.open-sockets = 0
        pekko.remote.artery.canonical.port = 0
        pekko.loglevel = WARNING
        """.formatted(dbUrl, dbUser, secret, java.util.UUID.randomUUID()) + extraConfig);
    File jar = new File("session-cluster/target/session-cluster.jar");
    if (!jar.isFile()) throw new IllegalStateException("build first: ./mvnw -q -DskipTests package");
    java.util.List<String> command = jvm();
    command.addAll(java.util.List.of("-jar", jar.getPath()));
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.environment().put("DS_CONFIG", conf.toString());
    pb.environment().put("DS_HTTP_PORT", String.valueOf(httpPort));
    pb.redirectErrorStream(true).redirectOutput(dir.resolve("node.log").toFile());
    process = pb.start();
    awaitHealthy(base(), process, dir.resolve("node.log"));
  }

  /** Waits for 200 on {@code /health}; fails when the process exits or a minute passes. */
  static void awaitHealthy(String base, Process process, Path log) throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline && process.isAlive()) {
      try {
        if (http.send(HttpRequest.newBuilder(URI.create(base + "/health")).build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200) return;
      } catch (IOException notYet) {
        // still starting
      }
      TimeUnit.MILLISECONDS.sleep(100);
    }
    throw new IllegalStateException("server did not start; see " + log);
  }

  void stop() throws InterruptedException {
    if (process == null) return;
    process.destroy();
    if (!process.waitFor(60, TimeUnit.SECONDS)) process.destroyForcibly().waitFor();
  }

  String base() {
    return "http://127.0.0.1:" + httpPort;
  }

  /** Bytes of live heap after a full GC, from jcmd. */
  long heapUsedAfterGc() throws Exception {
    run("jcmd", String.valueOf(process.pid()), "GC.run");
    String info = run("jcmd", String.valueOf(process.pid()), "GC.heap_info");
    long used = 0;
    var m = java.util.regex.Pattern.compile("used (\\d+)K").matcher(info);
    int n = 0;
    while (m.find() && n < 2) { // young and old generation lines come first
      used += Long.parseLong(m.group(1)) * 1024;
      n++;
    }
    return used;
  }

  private static String run(String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    p.waitFor();
    return out;
  }
}
