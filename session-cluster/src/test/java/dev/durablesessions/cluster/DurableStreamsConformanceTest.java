package dev.durablesessions.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.durablesessions.persistence.Database;
import dev.durablesessions.testing.TestDatabases;
import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Runs the public Durable Streams conformance suite ({@code @durable-streams/server-conformance-tests}
 * 0.3.6, pinned with its lock file in {@code src/test/conformance}) against a node process started
 * for it, on PostgreSQL and on an H2 file, and fails on any failed test. The suite has 332
 * runnable tests (6 more only run against servers with subscriptions, which this one does not
 * offer); all 332 must pass.
 *
 * <p>Needs Node.js and npm (the suite is JavaScript); the first run installs the suite from the
 * npm registry into {@code target/conformance}. Without npm the test is skipped, except under
 * {@code CI=true}, where it fails.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DurableStreamsConformanceTest {
  static final int RUNNABLE_TESTS = 332;
  static final ObjectMapper JSON = new ObjectMapper();
  Path suite;

  @BeforeAll
  void installSuite() throws Exception {
    if (!onPath("npm") || !onPath("npx")) {
      String why = "Node.js and npm are needed to run the Durable Streams conformance suite";
      if ("true".equalsIgnoreCase(System.getenv("CI"))) fail(why + " (CI=true: the suite is required)");
      Assumptions.abort(why);
    }
    Path source = Path.of("src/test/conformance");
    suite = Path.of("target/conformance");
    Files.createDirectories(suite);
    for (String f : List.of("package.json", "package-lock.json", "conformance.test.mjs", "vitest.config.mjs")) {
      Files.copy(source.resolve(f), suite.resolve(f), StandardCopyOption.REPLACE_EXISTING);
    }
    if (!Files.isDirectory(suite.resolve("node_modules/@durable-streams/server-conformance-tests"))) {
      run(suite, 300, "npm", "ci", "--no-audit", "--no-fund");
    }
  }

  @Test
  void passesEveryTestOnPostgres() throws Exception {
    Database db = TestDatabases.postgres();
    assertAllPass(db.url(), db.user(), "postgres");
  }

  @Test
  void passesEveryTestOnH2File() throws Exception {
    Path dir = Files.createTempDirectory("ds-conformance-h2");
    assertAllPass("jdbc:h2:file:" + dir.resolve("streams"), "sa", "h2");
  }

  private void assertAllPass(String dbUrl, String dbUser, String label) throws Exception {
    Path dir = Files.createTempDirectory("ds-conformance-" + label);
    Path config = dir.resolve("node.conf");
    int port = freePort();
    Files.writeString(config, """
        durable-sessions.database.url = "%s"
        durable-sessions.database.user = "%s"
        durable-sessions.auth.secret = "conformance-secret-conformance-secret-0123"
        durable-sessions.http.host = "127.0.0.1"
        durable-sessions.demo-agent.enabled = off
        durable-sessions.management.enabled = off
        durable-sessions.streams.long-poll-timeout = 500ms
        # The suite sends no tokens: streams are opened explicitly, as an operator would.
        durable-sessions.streams.open = on
        pekko.remote.artery.canonical.port = 0
        pekko.loglevel = WARNING
        """.formatted(dbUrl, dbUser));
    ProcessBuilder pb = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"),
        "-Xmx512m", "-XX:+UseParallelGC", "-cp", System.getProperty("java.class.path"), "dev.durablesessions.cluster.Node");
    pb.environment().put("DS_CONFIG", config.toString());
    pb.environment().put("DS_HTTP_PORT", String.valueOf(port));
    pb.redirectErrorStream(true).redirectOutput(dir.resolve("node.log").toFile());
    Process node = pb.start();
    try {
      awaitHealthy(port, node, dir);
      Path results = dir.resolve("results.json");
      ProcessBuilder vitest = new ProcessBuilder("npx", "vitest", "run", "conformance.test.mjs", "--no-coverage",
          "--reporter=json", "--outputFile.json=" + results.toAbsolutePath());
      vitest.directory(suite.toFile());
      vitest.environment().put("CONFORMANCE_TEST_URL", "http://127.0.0.1:" + port);
      vitest.redirectErrorStream(true).redirectOutput(dir.resolve("vitest.log").toFile());
      Process p = vitest.start();
      if (!p.waitFor(10, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        fail("the conformance suite did not finish in 10 minutes; see " + dir.resolve("vitest.log"));
      }
      assertTrue(Files.exists(results), "no results from the suite; see " + dir.resolve("vitest.log"));
      JsonNode report = JSON.readTree(results.toFile());
      List<String> failed = new ArrayList<>();
      for (JsonNode file : report.path("testResults")) {
        for (JsonNode t : file.path("assertionResults")) {
          if ("failed".equals(t.path("status").asText())) {
            failed.add(t.path("fullName").asText() + ": " + t.path("failureMessages").path(0).asText().lines().findFirst().orElse(""));
          }
        }
      }
      System.out.printf("CONFORMANCE %s: %d passed, %d failed, %d skipped of %d%n", label,
          report.path("numPassedTests").asInt(), report.path("numFailedTests").asInt(),
          report.path("numPendingTests").asInt(), report.path("numTotalTests").asInt());
      assertEquals(List.of(), failed, "failed conformance tests (" + label + ")");
      assertEquals(RUNNABLE_TESTS, report.path("numPassedTests").asInt(), "passed conformance tests (" + label + ")");
    } finally {
      node.destroy();
      if (!node.waitFor(30, TimeUnit.SECONDS)) node.destroyForcibly();
    }
  }

  private static void awaitHealthy(int port, Process node, Path dir) throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (System.nanoTime() < deadline) {
      if (!node.isAlive()) fail("the node exited; see " + dir.resolve("node.log"));
      try {
        HttpRequest health = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health")).build();
        if (http.send(health, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) return;
      } catch (IOException notYet) {
        // still starting
      }
      TimeUnit.MILLISECONDS.sleep(200);
    }
    fail("the node did not become healthy in 90 s; see " + dir.resolve("node.log"));
  }

  private static void run(Path dir, int timeoutSeconds, String... command) throws Exception {
    Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
        .redirectOutput(dir.resolve(command[0] + ".log").toFile()).start();
    if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS) || p.exitValue() != 0) {
      p.destroyForcibly();
      fail(String.join(" ", command) + " failed; see " + dir.resolve(command[0] + ".log").toAbsolutePath());
    }
  }

  private static boolean onPath(String program) {
    String path = System.getenv("PATH");
    if (path == null) return false;
    return Stream.of(path.split(File.pathSeparator)).anyMatch(d -> Files.isExecutable(Path.of(d, program)));
  }

  static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
