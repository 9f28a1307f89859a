package dev.durablesessions.session.resume;

import dev.durablesessions.session.SessionEntity;
import dev.durablesessions.session.SessionEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.persistence.query.EventEnvelope;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.persistence.query.javadsl.CurrentEventsByPersistenceIdQuery;
import org.apache.pekko.stream.javadsl.Sink;

/**
 * Reads a session's events from the journal (Pekko Persistence Query), for offsets older than
 * the session's in-memory tail and for history paging. Reads are bounded by the caller.
 */
public final class SessionJournal {
  private final ActorSystem<?> system;
  private final CurrentEventsByPersistenceIdQuery query;
  private final org.apache.pekko.persistence.query.javadsl.CurrentPersistenceIdsQuery ids;
  /** Direct reads of the journal table for {@link #read}; null: through the query plugin. */
  private final JournalRows rows;

  public SessionJournal(ActorSystem<?> system, String readJournalPluginId) {
    this(system, PersistenceQuery.get(system.classicSystem())
        .getReadJournalFor(CurrentEventsByPersistenceIdQuery.class, readJournalPluginId),
        JournalRows.forSystem(system, readJournalPluginId));
  }

  private SessionJournal(ActorSystem<?> system, CurrentEventsByPersistenceIdQuery query, JournalRows rows) {
    this(system, query, (org.apache.pekko.persistence.query.javadsl.CurrentPersistenceIdsQuery) query, rows);
  }

  private SessionJournal(ActorSystem<?> system, CurrentEventsByPersistenceIdQuery query,
      org.apache.pekko.persistence.query.javadsl.CurrentPersistenceIdsQuery ids, JournalRows rows) {
    this.system = system;
    this.query = query;
    this.ids = ids;
    this.rows = rows;
  }

  public static SessionJournal fromConfig(ActorSystem<?> system) {
    return new SessionJournal(system, system.settings().config().getString("durable-sessions.session.read-journal-plugin-id"));
  }

  /** Up to {@code limit} ids of sessions with events in the journal that {@code include} accepts. */
  public CompletionStage<List<String>> sessionIds(int limit, java.util.function.Predicate<String> include) {
    String prefix = SessionEntity.TYPE_KEY.name() + "|";
    return ids.currentPersistenceIds()
        .filter(id -> id.startsWith(prefix))
        .map(id -> id.substring(prefix.length()))
        .filter(include::test)
        .take(limit)
        .runWith(Sink.seq(), system);
  }

  /** The events with offsets in [from, to] as a stream, for exports that must not hold them all. */
  public org.apache.pekko.stream.javadsl.Source<SessionEvent, org.apache.pekko.NotUsed> stream(String sessionId, long from, long to) {
    return query
        .currentEventsByPersistenceId(SessionEntity.persistenceId(sessionId).id(), from, to)
        .map(EventEnvelope::event)
        .map(SessionEvent.class::cast);
  }

  /** A catch-up read of more events than this runs as several queries at once. */
  static final int CHUNK = 500;
  static final int MAX_QUERIES = 4;

  /** Queries of split reads running at once on this node, at most {@link #MAX_SPLIT_QUERIES}. */
  private static final java.util.concurrent.atomic.AtomicInteger SPLIT_QUERIES = new java.util.concurrent.atomic.AtomicInteger();
  static final int MAX_SPLIT_QUERIES = 4;

  private static boolean reserve(int queries) {
    while (true) {
      int now = SPLIT_QUERIES.get();
      if (now + queries > MAX_SPLIT_QUERIES) return false;
      if (SPLIT_QUERIES.compareAndSet(now, now + queries)) return true;
    }
  }

  private int chunk = CHUNK;
  private int maxQueries = MAX_QUERIES;

  /** The same journal, splitting catch-up reads of more than {@code chunk} events into up to {@code maxQueries} queries (tests). */
  public SessionJournal withChunks(int chunk, int maxQueries) {
    SessionJournal j = new SessionJournal(system, query, ids, rows);
    j.chunk = chunk;
    j.maxQueries = maxQueries;
    return j;
  }

  /**
   * The same as {@link #read}, for long catch-up pages: more than {@link #CHUNK} events are read
   * as up to {@link #MAX_QUERIES} queries of consecutive ranges at once (a read's cost is mostly
   * per event, in the query plugin and deserialization, and one query keeps one thread busy).
   * The answer is the events of the first ranges that came back whole, then those of the first
   * range that did not: never a gap, so a log that ends (or a replica that lags) inside the page
   * gives what one query would have given up to there. At most {@link #MAX_SPLIT_QUERIES} such
   * queries run at once on a node; a read that finds them taken runs as one query.
   */
  public CompletionStage<List<SessionEvent>> readConcurrently(String sessionId, long from, long to) {
    long count = to - from + 1;
    if (count <= chunk) return read(sessionId, from, to);
    int queries = (int) Math.min(maxQueries, (count + chunk - 1) / chunk);
    // Many catch-ups at once (a node's devices reconnecting after a restart) read one query
    // each, as before: the journal's connection pool is shared with the writes.
    if (!reserve(queries)) return read(sessionId, from, to);
    long size = (count + queries - 1) / queries;
    List<CompletableFuture<List<SessionEvent>>> reads = new ArrayList<>();
    List<Long> ends = new ArrayList<>();
    for (long start = from; start <= to; start += size) {
      long end = Math.min(to, start + size - 1);
      reads.add(read(sessionId, start, end).toCompletableFuture());
      ends.add(end);
    }
    CompletableFuture<Void> all = CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new));
    all.whenComplete((done, failure) -> SPLIT_QUERIES.addAndGet(-queries));
    return all.thenApply(done -> {
      List<SessionEvent> events = new ArrayList<>((int) count);
      for (int i = 0; i < reads.size(); i++) {
        List<SessionEvent> part = reads.get(i).join();
        events.addAll(part);
        boolean whole = !part.isEmpty() && part.get(part.size() - 1).offset() == ends.get(i)
            && part.size() == ends.get(i) - (i == 0 ? from : ends.get(i - 1) + 1) + 1;
        if (!whole) break;
      }
      return events;
    });
  }

  /** The same journal read only through the query plugin (tests compare the two ways). */
  public SessionJournal throughQueryPlugin() {
    SessionJournal j = new SessionJournal(system, query, ids, null);
    j.chunk = chunk;
    j.maxQueries = maxQueries;
    return j;
  }

  /** Whether {@link #read} queries the journal table directly. */
  public boolean readsDirectly() {
    return rows != null;
  }

  /**
   * Events with offsets in [from, to], in order; fewer if the log ends earlier. With
   * {@code durable-sessions.session.direct-journal-reads} (the default on the JDBC journal),
   * one SQL query ({@link JournalRows}); else through the query plugin.
   */
  public CompletionStage<List<SessionEvent>> read(String sessionId, long from, long to) {
    if (rows != null) return rows.read(sessionId, from, to);
    return query
        .currentEventsByPersistenceId(SessionEntity.persistenceId(sessionId).id(), from, to)
        .map(EventEnvelope::event)
        .map(SessionEvent.class::cast)
        .runWith(Sink.seq(), system);
  }
}
