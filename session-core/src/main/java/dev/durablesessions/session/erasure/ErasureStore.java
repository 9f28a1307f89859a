package dev.durablesessions.session.erasure;

import dev.durablesessions.persistence.Database;
import dev.durablesessions.session.ErasureReply;
import dev.durablesessions.session.SessionEntity;
import dev.durablesessions.session.SessionEvent;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;

/**
 * The SQL of erasure, on the journal's own database: deleting a session's journal and snapshot
 * rows together with writing its audit record (one transaction, so "rows gone" and "record
 * present" are never seen apart), reading the records back, and finding closed sessions past
 * the retention. Plain JDBC on {@code durable-sessions.erasure.dispatcher}, never on an actor's
 * thread; every method answers with a CompletionStage.
 *
 * <p>The table and column names are those of the schema scripts (db/h2.sql, db/postgres.sql),
 * quoted so one text serves H2 (which keeps the quoted lower-case names) and PostgreSQL.
 */
public final class ErasureStore {
  private static final String RECORD_COLUMNS =
      "\"session_id\", \"erased_by\", \"role\", \"reason\", \"erased_at\", \"head\", \"events\", \"snapshots\"";
  private static final String UNIQUE_VIOLATION = "23505";

  private final Database db;
  private final Executor blocking;

  public ErasureStore(Database db, Executor blocking) {
    this.db = db;
    this.blocking = blocking;
  }

  /** On the database the journal of {@code system} uses, with the erasure dispatcher. */
  public static ErasureStore forJournal(ActorSystem<?> system) {
    Executor executor = system.dispatchers().lookup(DispatcherSelector.fromConfig("durable-sessions.erasure.dispatcher"));
    return new ErasureStore(Database.ofJournal(system.settings().config()), executor);
  }

  /**
   * Deletes every journal row of the session before its tombstone and every snapshot, and
   * records the erasure; idempotent. If a record exists already (a retry, or a purge finishing
   * one that a crash interrupted), leftovers are deleted, counted into it, and it is returned
   * with {@code already}.
   */
  public CompletionStage<ErasureReply.Erased> purge(String sessionId, SessionEvent.SessionErased tombstone) {
    return CompletableFuture.supplyAsync(() -> {
      try {
        return purgeOnce(sessionId, tombstone);
      } catch (SQLException e) {
        // Two incarnations finishing the same purge at once: one inserted the record first.
        if (!UNIQUE_VIOLATION.equals(e.getSQLState())) throw new CompletionException(e);
        try {
          return purgeOnce(sessionId, tombstone);
        } catch (SQLException again) {
          throw new CompletionException(again);
        }
      }
    }, blocking);
  }

  private ErasureReply.Erased purgeOnce(String sessionId, SessionEvent.SessionErased tombstone) throws SQLException {
    String pid = SessionEntity.persistenceId(sessionId).id();
    try (Connection c = db.connect()) {
      c.setAutoCommit(false);
      try {
        ErasureRecord existing = find(c, sessionId).orElse(null);
        long snapshots = update(c, "DELETE FROM \"snapshot\" WHERE \"persistence_id\" = ?", pid);
        long events;
        try (PreparedStatement s = c.prepareStatement(
            "DELETE FROM \"event_journal\" WHERE \"persistence_id\" = ? AND \"sequence_number\" < ?")) {
          s.setString(1, pid);
          s.setLong(2, tombstone.offset());
          events = s.executeUpdate();
        }
        ErasureRecord record;
        if (existing == null) {
          record = new ErasureRecord(sessionId, tombstone.by().subject(), tombstone.by().role().wire(), tombstone.reason(),
              tombstone.at().truncatedTo(ChronoUnit.MICROS), tombstone.head(), events, snapshots); // as the column keeps it
          insert(c, record);
        } else {
          record = existing.plus(events, snapshots);
          if (events > 0 || snapshots > 0) {
            try (PreparedStatement s = c.prepareStatement(
                "UPDATE \"session_erasure\" SET \"events\" = ?, \"snapshots\" = ? WHERE \"session_id\" = ?")) {
              s.setLong(1, record.events());
              s.setLong(2, record.snapshots());
              s.setString(3, sessionId);
              s.executeUpdate();
            }
          }
        }
        c.commit();
        return new ErasureReply.Erased(record, existing != null);
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    }
  }

  /** The erasure record of one session, if it was erased. */
  public CompletionStage<Optional<ErasureRecord>> find(String sessionId) {
    return CompletableFuture.supplyAsync(() -> {
      try (Connection c = db.connect()) {
        return find(c, sessionId);
      } catch (SQLException e) {
        throw new CompletionException(e);
      }
    }, blocking);
  }

  /** Up to {@code limit} records erased before {@code before} (null: any), newest first. */
  public CompletionStage<List<ErasureRecord>> list(Instant before, int limit) {
    return CompletableFuture.supplyAsync(() -> {
      String sql = "SELECT " + RECORD_COLUMNS + " FROM \"session_erasure\""
          + (before == null ? "" : " WHERE \"erased_at\" < ?")
          + " ORDER BY \"erased_at\" DESC, \"session_id\" LIMIT ?";
      try (Connection c = db.connect(); PreparedStatement s = c.prepareStatement(sql)) {
        int i = 1;
        if (before != null) s.setObject(i++, OffsetDateTime.ofInstant(before, ZoneOffset.UTC));
        s.setInt(i, limit);
        List<ErasureRecord> out = new ArrayList<>();
        try (ResultSet rs = s.executeQuery()) {
          while (rs.next()) out.add(record(rs));
        }
        return out;
      } catch (SQLException e) {
        throw new CompletionException(e);
      }
    }, blocking);
  }

  /**
   * Up to {@code limit} ids of sessions whose {@code session.closed} event was written before
   * {@code cutoff}, oldest closure first. The event carries the {@code tag} (the journal's tag
   * table is the index); the time is the journal's write timestamp of that event.
   */
  public CompletionStage<List<String>> closedBefore(String tag, Instant cutoff, int limit) {
    return CompletableFuture.supplyAsync(() -> {
      String prefix = SessionEntity.TYPE_KEY.name() + "|";
      String sql = "SELECT j.\"persistence_id\" FROM \"event_journal\" j"
          + " JOIN \"event_tag\" t ON t.\"event_id\" = j.\"ordering\""
          + " WHERE t.\"tag\" = ? AND j.\"write_timestamp\" < ? ORDER BY j.\"ordering\" LIMIT ?";
      try (Connection c = db.connect(); PreparedStatement s = c.prepareStatement(sql)) {
        s.setString(1, tag);
        s.setLong(2, cutoff.toEpochMilli());
        s.setInt(3, limit);
        List<String> ids = new ArrayList<>();
        try (ResultSet rs = s.executeQuery()) {
          while (rs.next()) {
            String pid = rs.getString(1);
            if (pid.startsWith(prefix)) ids.add(pid.substring(prefix.length()));
          }
        }
        return ids;
      } catch (SQLException e) {
        throw new CompletionException(e);
      }
    }, blocking);
  }

  private static Optional<ErasureRecord> find(Connection c, String sessionId) throws SQLException {
    try (PreparedStatement s = c.prepareStatement(
        "SELECT " + RECORD_COLUMNS + " FROM \"session_erasure\" WHERE \"session_id\" = ?")) {
      s.setString(1, sessionId);
      try (ResultSet rs = s.executeQuery()) {
        return rs.next() ? Optional.of(record(rs)) : Optional.empty();
      }
    }
  }

  private static void insert(Connection c, ErasureRecord r) throws SQLException {
    try (PreparedStatement s = c.prepareStatement(
        "INSERT INTO \"session_erasure\" (" + RECORD_COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
      s.setString(1, r.sessionId());
      s.setString(2, r.erasedBy());
      s.setString(3, r.role());
      s.setString(4, r.reason().wire());
      s.setObject(5, OffsetDateTime.ofInstant(r.erasedAt(), ZoneOffset.UTC));
      s.setLong(6, r.head());
      s.setLong(7, r.events());
      s.setLong(8, r.snapshots());
      s.executeUpdate();
    }
  }

  private static ErasureRecord record(ResultSet rs) throws SQLException {
    return new ErasureRecord(rs.getString(1), rs.getString(2), rs.getString(3), ErasureReason.fromWire(rs.getString(4)),
        rs.getObject(5, OffsetDateTime.class).toInstant(), rs.getLong(6), rs.getLong(7), rs.getLong(8));
  }

  private static long update(Connection c, String sql, String pid) throws SQLException {
    try (PreparedStatement s = c.prepareStatement(sql)) {
      s.setString(1, pid);
      return s.executeUpdate();
    }
  }
}
