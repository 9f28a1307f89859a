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

  /**
   * PostgreSQL in a schema of its own, for tests that act on every row of a table (a retention
   * sweep), which other tests, and other runs at the same time, share in the default schema.
   * {@link #dropOwnSchema} removes it.
   */
  public static Database postgresInOwnSchema() {
    Database shared = postgres();
    String schema = "ds_test_" + UUID.randomUUID().toString().replace("-", "");
    try (Connection c = shared.connect(); java.sql.Statement s = c.createStatement()) {
      s.execute("CREATE SCHEMA " + schema);
    } catch (SQLException e) {
      throw new IllegalStateException("could not create schema " + schema, e);
    }
    String url = shared.url() + (shared.url().contains("?") ? "&" : "?") + "currentSchema=" + schema;
    Database db = new Database(url, shared.user(), shared.password(), 4);
    db.createSchema();
    return db;
  }

  /** Drops the schema of a {@link #postgresInOwnSchema()} database; anything else is left alone. */
  public static void dropOwnSchema(Database db) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("currentSchema=(ds_test_[0-9a-f]{32})").matcher(db.url());
    if (db.kind() != Database.Kind.POSTGRES || !m.find()) return;
    try (Connection c = db.connect(); java.sql.Statement s = c.createStatement()) {
      s.execute("DROP SCHEMA " + m.group(1) + " CASCADE");
    } catch (SQLException e) {
      throw new IllegalStateException("could not drop schema " + m.group(1), e);
    }
  }

  private static String env(String name, String fallback) {
    String v = System.getenv(name);
    return v == null || v.isBlank() ? fallback : v;
  }
}
