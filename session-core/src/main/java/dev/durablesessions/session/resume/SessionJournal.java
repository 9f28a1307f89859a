package dev.durablesessions.session.resume;

import dev.durablesessions.session.SessionEntity;
import dev.durablesessions.session.SessionEvent;
import java.util.List;
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

  public SessionJournal(ActorSystem<?> system, String readJournalPluginId) {
    this.system = system;
    this.query = PersistenceQuery.get(system.classicSystem())
        .getReadJournalFor(CurrentEventsByPersistenceIdQuery.class, readJournalPluginId);
    this.ids = (org.apache.pekko.persistence.query.javadsl.CurrentPersistenceIdsQuery) query;
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

  /** Events with offsets in [from, to], in order; fewer if the log ends earlier. */
  public CompletionStage<List<SessionEvent>> read(String sessionId, long from, long to) {
    return query
        .currentEventsByPersistenceId(SessionEntity.persistenceId(sessionId).id(), from, to)
        .map(EventEnvelope::event)
        .map(SessionEvent.class::cast)
        .runWith(Sink.seq(), system);
  }
}
