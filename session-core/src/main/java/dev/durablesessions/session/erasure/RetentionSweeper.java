package dev.durablesessions.session.erasure;

import dev.durablesessions.session.ErasureReply;
import dev.durablesessions.session.Participant;
import dev.durablesessions.session.Role;
import dev.durablesessions.session.SessionCommand;
import dev.durablesessions.session.SessionEntity;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.StashBuffer;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.SingletonActor;

/**
 * Erases closed sessions older than the retention. One runs in the cluster (a singleton, so
 * on the oldest node) and checks every {@code check-interval}: it asks the journal which
 * sessions' {@code session.closed} was written before now minus the retention (the event is
 * tagged, so the tag table is the index), and erases them one at a time through their
 * entities, exactly as an admin's DELETE does, recorded as erased by {@code retention}. Closing
 * is final, so a session found closed stays closed; the entity checks it again all the same.
 */
public final class RetentionSweeper {

  /** Who erases for the retention: the server itself (role system is never in a token). */
  public static final Participant RETENTION = new Participant("retention", Role.SYSTEM, "retention");

  public sealed interface Command {}

  /** Sweep now (after the sweep under way, if any) and report what was done. */
  public record SweepNow(ActorRef<Report> replyTo) implements Command {}

  private enum Tick implements Command { INSTANCE }

  private record Found(List<String> sessionIds, Throwable failure) implements Command {}

  private record Done(String sessionId, ErasureReply reply, Throwable failure) implements Command {}

  /** One sweep: closed before {@code cutoff}; erased (or found erased already), and those that failed (tried again next time). */
  public record Report(Instant cutoff, List<String> erased, List<String> failed) {}

  /** Starts the singleton (when the retention is on) and returns its proxy; null when it is off. */
  public static ActorRef<Command> init(ActorSystem<?> system, RetentionSettings settings, Clock clock) {
    if (!settings.enabled()) return null;
    Behavior<Command> sweeper = create(settings, clock, ClusterSharding.get(system), ErasureStore.forJournal(system));
    return ClusterSingleton.get(system).init(SingletonActor.of(
        Behaviors.supervise(sweeper).onFailure(
            SupervisorStrategy.restartWithBackoff(java.time.Duration.ofSeconds(1), java.time.Duration.ofMinutes(1), 0.2)),
        "session-retention"));
  }

  public static Behavior<Command> create(RetentionSettings settings, Clock clock, ClusterSharding sharding, ErasureStore store) {
    return Behaviors.setup(ctx -> Behaviors.withStash(100, stash -> Behaviors.withTimers(timers -> {
      timers.startTimerWithFixedDelay(Tick.INSTANCE, settings.firstCheckAfter(), settings.checkInterval());
      return new RetentionSweeper(settings, clock, sharding, store, ctx, stash).idle();
    })));
  }

  private final RetentionSettings settings;
  private final Clock clock;
  private final ClusterSharding sharding;
  private final ErasureStore store;
  private final ActorContext<Command> ctx;
  private final StashBuffer<Command> stash;

  private RetentionSweeper(
      RetentionSettings settings, Clock clock, ClusterSharding sharding, ErasureStore store, ActorContext<Command> ctx,
      StashBuffer<Command> stash) {
    this.settings = settings;
    this.clock = clock;
    this.sharding = sharding;
    this.store = store;
    this.ctx = ctx;
    this.stash = stash;
  }

  private Behavior<Command> idle() {
    return Behaviors.receive(Command.class)
        .onMessage(Tick.class, m -> sweep(null))
        .onMessage(SweepNow.class, m -> sweep(m.replyTo()))
        .build();
  }

  private Behavior<Command> sweep(ActorRef<Report> replyTo) {
    return new Sweep(clock.instant().minus(settings.retention()), replyTo).findNext();
  }

  /** One sweep: pages of closed sessions, each erased in turn; another page only while pages come full and erasures succeed. */
  private final class Sweep {
    private final Instant cutoff;
    private final ActorRef<Report> replyTo;
    private final List<String> erased = new ArrayList<>();
    private final List<String> failed = new ArrayList<>();
    private List<String> page = List.of();
    private int next;
    private boolean pageErasedAny;

    Sweep(Instant cutoff, ActorRef<Report> replyTo) {
      this.cutoff = cutoff;
      this.replyTo = replyTo;
    }

    Behavior<Command> findNext() {
      ctx.pipeToSelf(store.closedBefore(SessionEntity.CLOSED_TAG, cutoff, settings.batchSize()), Found::new);
      return Behaviors.receive(Command.class)
          .onMessage(Found.class, this::found)
          .onMessage(Done.class, this::done)
          .onMessage(Tick.class, m -> Behaviors.same())
          .onMessage(SweepNow.class, m -> {
            stash.stash(m);
            return Behaviors.same();
          })
          .build();
    }

    private Behavior<Command> found(Found m) {
      if (m.failure() != null) {
        ctx.getLog().warn("retention: could not look for closed sessions past {}: {}", settings.retention(), m.failure().toString());
        return finish();
      }
      page = m.sessionIds();
      next = 0;
      pageErasedAny = false;
      return eraseNext();
    }

    private Behavior<Command> eraseNext() {
      if (next >= page.size()) {
        // A full page that moved something may have more behind it; a page of failures is retried next time.
        if (page.size() == settings.batchSize() && pageErasedAny) return findNext();
        return finish();
      }
      String sessionId = page.get(next++);
      ctx.ask(ErasureReply.class, sharding.entityRefFor(SessionEntity.TYPE_KEY, sessionId), settings.askTimeout(),
          r -> new SessionCommand.Erase(RETENTION, ErasureReason.RETENTION, r),
          (reply, failure) -> new Done(sessionId, reply, failure));
      return Behaviors.same();
    }

    private Behavior<Command> done(Done m) {
      if (m.reply() instanceof ErasureReply.Erased) {
        erased.add(m.sessionId());
        pageErasedAny = true;
      } else {
        failed.add(m.sessionId());
        ctx.getLog().warn("retention: session {} was not erased: {}", m.sessionId(),
            m.failure() != null ? m.failure().toString() : m.reply());
      }
      return eraseNext();
    }

    private Behavior<Command> finish() {
      if (!erased.isEmpty() || !failed.isEmpty()) {
        ctx.getLog().info("retention: erased {} sessions closed before {} ({} failed, tried again next time)",
            erased.size(), cutoff, failed.size());
      }
      if (replyTo != null) replyTo.tell(new Report(cutoff, List.copyOf(erased), List.copyOf(failed)));
      return stash.unstashAll(idle());
    }
  }
}
