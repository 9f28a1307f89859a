package dev.durablesessions.bench.baseline;

/** What the node's main does to its JVM before Pekko starts, done the same way for the baselines. */
final class Jvm {
  private Jvm() {}

  /** As {@code Node.main}: at least two common-pool threads, so async completions do not each start a thread. */
  static void commonPoolAsTheNode() {
    if (System.getProperty("java.util.concurrent.ForkJoinPool.common.parallelism") == null) {
      System.setProperty("java.util.concurrent.ForkJoinPool.common.parallelism",
          String.valueOf(Math.max(2, Runtime.getRuntime().availableProcessors())));
    }
  }

  static int httpPort() {
    return Integer.parseInt(System.getenv().getOrDefault("DS_HTTP_PORT", "8080"));
  }
}
