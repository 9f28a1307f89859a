package dev.durablesessions.session.transfer;

import dev.durablesessions.CborSerializable;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.SingletonActor;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;

/**
 * Which sessions wait in which queue for a human: one event-sourced cluster singleton. The
 * sessions stay the source of truth (a claim goes to the session, which decides); this is an
 * index they keep up to date after each change, and re-register in when they recover, so a
 * stale entry is at worst skipped by a claimer.
 */
public final class QueueDirectory extends EventSourcedBehavior<QueueDirectory.Command, QueueDirectory.Event, QueueDirectory.State> {

  public sealed interface Command extends CborSerializable {}

  public record Enqueue(String sessionId, String queue, Instant since, HandoffNote note) implements Command {}

  public record Remove(String sessionId) implements Command {}

  public record GetListing(ActorRef<Listing> replyTo) implements Command {}

  public record Entry(String sessionId, String queue, Instant since, HandoffNote note) implements CborSerializable {}

  /** Waiting sessions by queue, oldest first. */
  public record Listing(Map<String, List<Entry>> queues) implements CborSerializable {}

  public sealed interface Event extends CborSerializable {}

  public record Enqueued(Entry entry) implements Event {}

  public record Removed(String sessionId) implements Event {}

  public record State(Map<String, Entry> waiting) implements CborSerializable {
    State with(Entry e) {
      LinkedHashMap<String, Entry> copy = new LinkedHashMap<>(waiting);
      copy.put(e.sessionId(), e);
      return new State(Collections.unmodifiableMap(copy));
    }

    State without(String sessionId) {
      LinkedHashMap<String, Entry> copy = new LinkedHashMap<>(waiting);
      copy.remove(sessionId);
      return new State(Collections.unmodifiableMap(copy));
    }

    Listing listing() {
      Map<String, List<Entry>> byQueue = new LinkedHashMap<>();
      List<Entry> all = new ArrayList<>(waiting.values());
      all.sort(Comparator.comparing(Entry::since));
      for (Entry e : all) byQueue.computeIfAbsent(e.queue(), q -> new ArrayList<>()).add(e);
      return new Listing(byQueue);
    }
  }

  /** Starts (or finds) the singleton on this node and returns its proxy. */
  public static ActorRef<Command> init(ActorSystem<?> system) {
    // A failed write or recovery restarts it (after a backoff, logged by Pekko) instead of
    // stopping it: a cluster singleton that stops is not started again until its node leaves.
    Behavior<Command> behavior = new QueueDirectory(
        dev.durablesessions.persistence.JournalGuard.restartBackoff(system.settings().config()).withLoggingEnabled(true));
    return ClusterSingleton.get(system).init(SingletonActor.of(
        org.apache.pekko.actor.typed.javadsl.Behaviors.supervise(behavior)
            .onFailure(SupervisorStrategy.restartWithBackoff(java.time.Duration.ofMillis(200), java.time.Duration.ofSeconds(5), 0.2)),
        "queue-directory"));
  }

  private QueueDirectory(org.apache.pekko.actor.typed.BackoffSupervisorStrategy onJournalFailure) {
    super(PersistenceId.ofUniqueId("queue-directory"), onJournalFailure);
  }

  @Override
  public State emptyState() {
    return new State(Map.of());
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(500, 2);
  }

  @Override
  public CommandHandler<Command, Event, State> commandHandler() {
    return newCommandHandlerBuilder()
        .forAnyState()
        .onCommand(Enqueue.class, (state, c) -> {
          Entry entry = new Entry(c.sessionId(), c.queue(), c.since(), c.note());
          return entry.equals(state.waiting().get(c.sessionId())) ? Effect().none() : Effect().persist(new Enqueued(entry));
        })
        .onCommand(Remove.class, (state, c) ->
            state.waiting().containsKey(c.sessionId()) ? Effect().persist(new Removed(c.sessionId())) : Effect().none())
        .onCommand(GetListing.class, (state, c) -> Effect().none().thenRun(s -> c.replyTo().tell(s.listing())))
        .build();
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder()
        .forAnyState()
        .onEvent(Enqueued.class, (state, e) -> state.with(e.entry()))
        .onEvent(Removed.class, (state, e) -> state.without(e.sessionId()))
        .build();
  }
}
