package dev.durablesessions.testing;

import dev.durablesessions.persistence.Database;
import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.UserPrincipal;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * A PostgreSQL server of a test's own, which the test may stop and start again (a database
 * outage): {@code initdb} into a temporary folder, {@code pg_ctl} on a free loopback port.
 *
 * <p>The binaries are the Debian ones under {@code /usr/lib/postgresql/<version>/bin} (the
 * newest), or those in {@code DS_TEST_PG_BIN}. PostgreSQL refuses to run as root; as root the
 * server runs as the {@code postgres} user ({@code runuser}), in a folder it owns. Without the
 * binaries the test is skipped, and under CI=true it fails.
 */
public final class TemporaryPostgres implements AutoCloseable {
  private static final String SERVICE_USER = "postgres";

  private final Path bin;
  private final Path dir;
  private final Path data;
  private final int port;
  private final boolean asServiceUser;
  private final Thread cleanup;
  private boolean running;

  private TemporaryPostgres(Path bin, Path dir, int port, boolean asServiceUser) {
    this.bin = bin;
    this.dir = dir;
    this.data = dir.resolve("data");
    this.port = port;
    this.asServiceUser = asServiceUser;
    // A test that dies does not leave its server running.
    this.cleanup = new Thread(this::stopQuietly, "temporary-postgres-cleanup");
    Runtime.getRuntime().addShutdownHook(cleanup);
  }

  /** Creates the cluster and starts the server; its database has the journal schema. */
  public static TemporaryPostgres start() {
    Path bin = binaries();
    boolean root = "root".equals(System.getProperty("user.name"));
    try {
      Path dir = Files.createTempDirectory("ds-pg-");
      if (root) {
        UserPrincipal owner;
        try {
          owner = dir.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(SERVICE_USER);
        } catch (IOException noSuchUser) {
          owner = null;
        }
        boolean runuser = Files.isExecutable(Paths.get("/usr/sbin/runuser")) || Files.isExecutable(Paths.get("/sbin/runuser"));
        if (owner == null || !runuser) unavailable("running as root, PostgreSQL needs runuser and a " + SERVICE_USER + " user");
        Files.setOwner(dir, owner);
      }
      TemporaryPostgres pg = new TemporaryPostgres(bin, dir, freePort(), root);
      pg.run(120, pg.tool("initdb"), "-D", pg.data.toString(), "-U", "postgres", "-A", "trust", "-E", "UTF8",
          "--no-sync", "--locale=C");
      pg.startServer();
      pg.database().createSchema();
      return pg;
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The journal database on this server (the {@code postgres} database). */
  public Database database() {
    return new Database("jdbc:postgresql://127.0.0.1:" + port + "/postgres", "postgres", "", 4);
  }

  /** The outage: the server stops at once, as if killed (connections are cut, nothing is shut down cleanly). */
  public void stopServer() {
    run(60, tool("pg_ctl"), "-D", data.toString(), "-m", "immediate", "-w", "stop");
    running = false;
  }

  /** Starts the server (again), on the same port and data; returns once it accepts connections. */
  public void startServer() {
    // fsync off: a stopped server keeps what it committed in the OS's cache; only a machine crash would lose it.
    run(60, tool("pg_ctl"), "-D", data.toString(), "-l", dir.resolve("server.log").toString(), "-w", "-t", "60",
        "-o", "-p " + port + " -k " + dir + " -c listen_addresses=127.0.0.1 -c fsync=off", "start");
    running = true;
  }

  /** The server's log so far (for a failing test's message). */
  public String serverLog() {
    try {
      return Files.readString(dir.resolve("server.log"));
    } catch (IOException e) {
      return "(no server log: " + e.getMessage() + ")";
    }
  }

  @Override
  public void close() {
    stopQuietly();
    try {
      Runtime.getRuntime().removeShutdownHook(cleanup);
    } catch (IllegalStateException shuttingDown) {
      // the hook runs (or ran) anyway
    }
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
    } catch (IOException e) {
      // a temporary folder left behind is harmless
    }
  }

  private void stopQuietly() {
    if (!running) return;
    try {
      stopServer();
    } catch (RuntimeException | AssertionError e) {
      // best effort: the server may be gone already
    }
  }

  private String tool(String name) {
    return bin.resolve(name).toString();
  }

  private void run(int timeoutSeconds, String... command) {
    List<String> argv = new ArrayList<>();
    if (asServiceUser) argv.addAll(List.of("runuser", "-u", SERVICE_USER, "--"));
    argv.addAll(List.of(command));
    try {
      Process p = new ProcessBuilder(argv).directory(dir.toFile()).redirectErrorStream(true).start();
      // pg_ctl start leaves the server running with our pipe as its output unless -l is given (it is).
      if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        Assertions.fail(String.join(" ", argv) + " did not finish in " + timeoutSeconds + " s");
      }
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (p.exitValue() != 0) {
        Assertions.fail(String.join(" ", argv) + " failed (" + p.exitValue() + "):\n" + out + "\n" + serverLog());
      }
    } catch (IOException e) {
      Assertions.fail("could not run " + String.join(" ", argv) + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static Path binaries() {
    String configured = System.getenv("DS_TEST_PG_BIN");
    Path found = null;
    if (configured != null && !configured.isBlank()) {
      found = Paths.get(configured);
    } else {
      try (Stream<Path> versions = Files.list(Paths.get("/usr/lib/postgresql"))) {
        found = versions.map(v -> v.resolve("bin"))
            .filter(b -> Files.isExecutable(b.resolve("initdb")) && Files.isExecutable(b.resolve("pg_ctl")))
            .max(Comparator.comparingInt(TemporaryPostgres::version))
            .orElse(null);
      } catch (IOException noneInstalled) {
        found = null;
      }
    }
    if (found == null || !Files.isExecutable(found.resolve("initdb")) || !Files.isExecutable(found.resolve("pg_ctl"))) {
      unavailable("initdb and pg_ctl not found (DS_TEST_PG_BIN, or /usr/lib/postgresql/<version>/bin)");
    }
    return found;
  }

  /** Skips the test, or fails it under CI=true. */
  private static void unavailable(String why) {
    if ("true".equalsIgnoreCase(System.getenv("CI"))) Assertions.fail(why + " (CI=true: tests on a PostgreSQL of their own are required)");
    Assumptions.abort(why);
  }

  private static int version(Path bin) {
    try {
      return Integer.parseInt(bin.getParent().getFileName().toString());
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
