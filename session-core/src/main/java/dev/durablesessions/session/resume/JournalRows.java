package dev.durablesessions.session.resume;

import dev.durablesessions.session.SessionEntity;
import dev.durablesessions.session.SessionEvent;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.persistence.jdbc.db.SlickExtension;
import org.apache.pekko.persistence.jdbc.db.SlickExtensionImpl;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import slick.jdbc.JdbcDataSource;

/**
 * A session's events read straight from the journal table: one SQL query for a range of
 * sequence numbers on a pooled connection of the journal's own database (the plugin's shared
 * Slick pool), each row deserialized by Pekko's serialization as the plugin does. The same
 * rows, in the same order, as {@code currentEventsByPersistenceId} of pekko-persistence-jdbc,
 * without its per-event stream machinery and its reads in batches of {@code max-buffer-size}
 * (measured: docs/PERFORMANCE.md, "Catch-up in a frame").
 *
 * <p>The table and column names are those of the schema scripts (db/h2.sql, db/postgres.sql),
 * quoted so one text serves H2 and PostgreSQL. The query runs on
 * {@code durable-sessions.session.journal-read-dispatcher}, never on an actor's thread.
 */
final class JournalRows {
  private static final String QUERY = "SELECT \"sequence_number\", \"event_ser_id\", \"event_ser_manifest\", \"event_payload\""
      + " FROM \"event_journal\" WHERE \"persistence_id\" = ? AND \"deleted\" = false"
      + " AND \"sequence_number\" >= ? AND \"sequence_number\" <= ? ORDER BY \"sequence_number\"";

  private final JdbcDataSource source;
  private final Serialization serialization;
  private final Executor blocking;

  private JournalRows(JdbcDataSource source, Serialization serialization, Executor blocking) {
    this.source = source;
    this.serialization = serialization;
    this.blocking = blocking;
  }

  /**
   * The direct reader of {@code system}'s journal, or null when reads go through the query plugin:
   * {@code durable-sessions.session.direct-journal-reads} is off, or the read journal is not
   * pekko-persistence-jdbc's.
   */
  static JournalRows forSystem(ActorSystem<?> system, String readJournalPluginId) {
    var config = system.settings().config();
    if (!config.getBoolean("durable-sessions.session.direct-journal-reads") || !readJournalPluginId.equals("jdbc-read-journal")
        || !config.hasPath("jdbc-read-journal.use-shared-db")) {
      return null;
    }
    SlickExtensionImpl slick = (SlickExtensionImpl) SlickExtension.get(system.classicSystem());
    JdbcDataSource source = slick.database(config.getConfig(readJournalPluginId)).database().source();
    Executor blocking = system.dispatchers().lookup(DispatcherSelector.fromConfig("durable-sessions.session.journal-read-dispatcher"));
    return new JournalRows(source, SerializationExtension.get(system.classicSystem()), blocking);
  }

  /** Events with offsets in [from, to], in order; fewer if the log ends earlier. */
  CompletionStage<List<SessionEvent>> read(String sessionId, long from, long to) {
    String persistenceId = SessionEntity.persistenceId(sessionId).id();
    return CompletableFuture.supplyAsync(() -> {
      try (Connection c = source.createConnection(); PreparedStatement q = c.prepareStatement(QUERY)) {
        q.setString(1, persistenceId);
        q.setLong(2, from);
        q.setLong(3, to);
        List<SessionEvent> events = new ArrayList<>((int) Math.min(Math.max(0, to - from + 1), 4096));
        try (ResultSet rows = q.executeQuery()) {
          while (rows.next()) {
            Object event = serialization.deserialize(rows.getBytes(4), rows.getInt(2), rows.getString(3)).get();
            events.add((SessionEvent) event);
          }
        }
        return events;
      } catch (SQLException e) {
        throw new CompletionException(e);
      }
    }, blocking);
  }
}
