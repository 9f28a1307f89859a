package dev.durablesessions.testing;

import dev.durablesessions.persistence.Database;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.UUID;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * The real databases persistence tests run on. H2 is in-process; PostgreSQL is the machine's
 * server (DS_TEST_PG_URL, default 127.0.0.1:5432/test as postgres). Under CI=true an
 * unreachable PostgreSQL fails the test; elsewhere the PostgreSQL variant is skipped.
 */
public final class TestDatabases {
  private TestDatabases() {}

  public static final String H2 = "h2";
  public static final String POSTGRES = "postgres";

  public static Database named(String name) {
    return switch (name) {
      case H2 -> h2();
      case POSTGRES -> postgres();
      default -> throw new IllegalArgumentException(name);
    };
  }

  /** A fresh in-memory H2 database that lives as long as the JVM (so a "restart" finds it again). */
  public static Database h2() {
    Database db = new Database("jdbc:h2:mem:ds-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1", "sa", "", 4);
    db.createSchema();
    return db;
  }

  public static Database postgres() {
    String url = env("DS_TEST_PG_URL", "jdbc:postgresql://127.0.0.1:5432/test");
    Database db = new Database(url, env("DS_TEST_PG_USER", "postgres"), env("DS_TEST_PG_PASSWORD", ""), 4);
    try (Connection c = db.connect()) {
      c.isValid(2);
    } catch (SQLException e) {
      String why = "PostgreSQL at " + url + " is unreachable: " + e.getMessage();
      if ("true".equalsIgnoreCase(System.getenv("CI"))) Assertions.fail(why + " (CI=true: PostgreSQL tests are required)");
      Assumptions.abort(why);
    }
    db.createSchema();
    return db;
  }

  private static String env(String name, String fallback) {
    String v = System.getenv(name);
    return v == null || v.isBlank() ? fallback : v;
  }
}
