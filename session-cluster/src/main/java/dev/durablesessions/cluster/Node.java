package dev.durablesessions.cluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.durablesessions.persistence.Database;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * The runnable node. Configuration: reference.conf of each module, then the file named by
 * {@code DS_CONFIG} (default {@code config/application.conf}, if present), then environment
 * variables for what operators change (docs/OPERATIONS.md). The journal schema is applied
 * before the actor system starts.
 */
public final class Node {
  private Node() {}

  public static void main(String[] args) {
    // With fewer than two common-pool threads (a 2-core machine gets one), CompletableFuture
    // runs every async completion on a new thread: Pekko's pipeToSelf behind each ask then
    // creates thousands of threads per second under load. Must be set before either class loads.
    if (System.getProperty("java.util.concurrent.ForkJoinPool.common.parallelism") == null) {
      System.setProperty("java.util.concurrent.ForkJoinPool.common.parallelism",
          String.valueOf(Math.max(2, Runtime.getRuntime().availableProcessors())));
    }
    ActorSystem<Void> system = start(loadConfig());
    system.getWhenTerminated().thenRun(() -> System.exit(0));
  }

  public static Config loadConfig() {
    String path = System.getenv().getOrDefault("DS_CONFIG", "config/application.conf");
    File file = new File(path);
    Config overrides = file.isFile() ? ConfigFactory.parseFile(file) : ConfigFactory.empty();
    return ConfigFactory.defaultOverrides().withFallback(overrides).withFallback(ConfigFactory.load()).resolve();
  }

  public static ActorSystem<Void> start(Config config) {
    Database db = Database.fromConfig(config);
    createH2Directory(db.url());
    db.createSchema();
    Config full = ListenAddresses.resolve(db.pekkoConfig().withFallback(config).resolve());
    return ActorSystem.create(Guardian.create(), full.getString("durable-sessions.cluster-name"), full);
  }

  private static void createH2Directory(String url) {
    Matcher m = Pattern.compile("^jdbc:h2:file:([^;]+)").matcher(url);
    if (!m.find()) return;
    try {
      Path parent = Path.of(m.group(1)).toAbsolutePath().getParent();
      if (parent != null) Files.createDirectories(parent);
    } catch (java.io.IOException e) {
      throw new IllegalStateException("cannot create the data directory for " + url, e);
    }
  }
}
