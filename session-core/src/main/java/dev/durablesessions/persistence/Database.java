package dev.durablesessions.persistence;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;

/**
 * The journal's database: embedded H2 (a file under the data directory by default) or
 * PostgreSQL, chosen by the JDBC URL. Produces the pekko-persistence-jdbc wiring for it and
 * applies the schema idempotently at start (plain JDBC, before any actor uses the journal).
 */
public record Database(String url, String user, String password, int maxConnections) {

  public enum Kind { H2, POSTGRES }

  public static Database fromConfig(Config root) {
    Config c = root.getConfig("durable-sessions.database");
    return new Database(c.getString("url"), c.getString("user"), c.getString("password"), c.getInt("max-connections"));
  }

  /**
   * The database the journal of an actor system built from {@code root} writes to (the shared
   * database {@link #pekkoConfig()} sets up), for SQL of our own beside the journal's.
   */
  public static Database ofJournal(Config root) {
    String shared = root.getString("jdbc-journal.use-shared-db");
    Config c = root.getConfig("pekko-persistence-jdbc.shared-databases." + shared + ".db");
    return new Database(c.getString("url"), c.getString("user"), c.getString("password"), c.getInt("maxConnections"));
  }

  public Kind kind() {
    if (url.startsWith("jdbc:h2:")) return Kind.H2;
    if (url.startsWith("jdbc:postgresql:")) return Kind.POSTGRES;
    throw new IllegalArgumentException("unsupported database URL (use jdbc:h2: or jdbc:postgresql:): " + url);
  }

  /** The journal, snapshot store and read journal, all on one shared connection pool. */
  public Config pekkoConfig() {
    Kind kind = kind();
    String profile = kind == Kind.H2 ? "slick.jdbc.H2Profile$" : "slick.jdbc.PostgresProfile$";
    String driver = kind == Kind.H2 ? "org.h2.Driver" : "org.postgresql.Driver";
    Map<String, Object> db = Map.of(
        "url", url,
        "user", user,
        "password", password,
        "driver", driver,
        "numThreads", maxConnections,
        "maxConnections", maxConnections,
        "minConnections", 1);
    return ConfigFactory.empty()
        .withValue("pekko-persistence-jdbc.shared-databases.default.profile", ConfigValueFactory.fromAnyRef(profile))
        .withValue("pekko-persistence-jdbc.shared-databases.default.db", ConfigValueFactory.fromMap(db))
        .withValue("jdbc-journal.use-shared-db", ConfigValueFactory.fromAnyRef("default"))
        .withValue("jdbc-snapshot-store.use-shared-db", ConfigValueFactory.fromAnyRef("default"))
        .withValue("jdbc-read-journal.use-shared-db", ConfigValueFactory.fromAnyRef("default"))
        .withValue("pekko.persistence.journal.plugin", ConfigValueFactory.fromAnyRef("jdbc-journal"))
        .withValue("pekko.persistence.snapshot-store.plugin", ConfigValueFactory.fromAnyRef("jdbc-snapshot-store"));
  }

  public Connection connect() throws SQLException {
    return DriverManager.getConnection(url, user, password);
  }

  /** Creates the journal, snapshot and erasure audit tables if they are missing; safe to run on every start. */
  public void createSchema() {
    String script = kind() == Kind.H2 ? "/db/h2.sql" : "/db/postgres.sql";
    try (Connection connection = connect(); Statement statement = connection.createStatement()) {
      for (String sql : statements(script)) statement.execute(sql);
    } catch (SQLException e) {
      throw new IllegalStateException("could not create the journal schema at " + url + ": " + e.getMessage(), e);
    }
  }

  private static String[] statements(String resource) {
    try (InputStream in = Database.class.getResourceAsStream(resource)) {
      if (in == null) throw new IllegalStateException("missing " + resource);
      String text = new String(in.readAllBytes(), StandardCharsets.UTF_8).replaceAll("(?m)^--.*$", "");
      return java.util.Arrays.stream(text.split(";")).map(String::trim).filter(s -> !s.isEmpty()).toArray(String[]::new);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
