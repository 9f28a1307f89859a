package dev.durablesessions.session.resume;

import dev.durablesessions.session.ErrorCode;
import dev.durablesessions.session.Feed;
import dev.durablesessions.session.Outcome;
import dev.durablesessions.session.SessionCommand;
import dev.durablesessions.session.SessionEntity;
import dev.durablesessions.session.SessionEvent;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;

/**
 * Follows one session for one consumer (a socket's connection actor, the demo agent): hands it
 * every event after a starting offset exactly once and in order, through catch-up from the
 * journal, live delivery, and the session moving or restarting.
 *
 * <p>It subscribes through sharding, watches the incarnation that answered, and renews the
 * subscription with keep-alives that carry the last delivered offset, so a new incarnation
 * (passivation, rebalance, node loss) learns about it again and back-fills it. Journal pages
 * are handed over only when the consumer says it is {@link Ready}; the next page is read while
 * the consumer works through the last one, and held (one page at most) until it is ready, so a
 * slow consumer never makes it read further ahead. A consumer that could not keep what it was
 * handed {@link Rewind rewinds} it instead of losing events. Spawn it as the consumer's child: it stops with the consumer.
 */
public final class SessionFollower {

  public sealed interface Command {}

  /** The consumer took the last catch-up page and has room for another. */
  public enum Ready implements Command { INSTANCE }

  /**
   * The consumer kept the events up to {@code offset} and dropped the rest (its queue was
   * full): everything after it comes again from the journal, once the consumer says it is
   * {@link Ready}.
   */
  public record Rewind(long offset) implements Command {}

  /** Unsubscribe and stop; {@code reason} tells the session why (socket_closed, heartbeat_timeout, left, ...). */
  public record Stop(String reason) implements Command {}

  /** The consumer saw its client alive at {@code at}; reported to the session with the next keep-alive. */
  public record Activity(java.time.Instant at) implements Command {}

  /** The client confirmed it processed everything up to {@code offset}: a delivery receipt for the session. */
  public record Acknowledged(long offset, java.time.Instant at) implements Command {}

  private record FromSession(Feed feed) implements Command {}

  private record PageRead(List<SessionEvent> events) implements Command {}

  private record PageFailed(Throwable cause) implements Command {}

  private record RetryRead(ResumeCursor.Read read) implements Command {}

  private record SessionStopped(ActorRef<SessionCommand> incarnation) implements Command {}

  private enum KeepAliveTick implements Command { INSTANCE }

  /** What the consumer receives. */
  public sealed interface Delivery {}

  /** Sent once, when the session first accepted the subscription. */
  public record Attached(String sessionId, long head, long afterOffset) implements Delivery {}

  /** Events in offset order. If {@code wantsReady}, answer {@link Ready} when there is room for more. */
  public record Deliver(List<SessionEvent> events, boolean wantsReady) implements Delivery {}

  /** The subscription was refused; the follower has stopped. */
  public record Failed(ErrorCode code, String message) implements Delivery {}

  public static Behavior<Command> create(
      ClusterSharding sharding,
      SessionJournal journal,
      FollowerSettings settings,
      String sessionId,
      SessionCommand.Attach attach,
      long afterOffset,
      ActorRef<Delivery> consumer) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
        new SessionFollower(ctx, timers, sharding, journal, settings, sessionId, attach, afterOffset, consumer).start()));
  }

  private final ActorContext<Command> ctx;
  private final TimerScheduler<Command> timers;
  private final EntityRef<SessionCommand> session;
  private final SessionJournal journal;
  private final FollowerSettings settings;
  private final String sessionId;
  private final SessionCommand.Attach attach;
  private final ActorRef<Delivery> consumer;
  private java.time.Instant lastActivity = java.time.Instant.now();
  private long acknowledged = -1;
  private final ActorRef<Feed> feed;
  private final ResumeCursor cursor;
  private ActorRef<SessionCommand> incarnation;
  private boolean attached;
  private boolean awaitingReady;
  /** A page read ahead while the consumer was not ready: handed to the cursor when it is. */
  private List<SessionEvent> readAhead;

  private SessionFollower(
      ActorContext<Command> ctx,
      TimerScheduler<Command> timers,
      ClusterSharding sharding,
      SessionJournal journal,
      FollowerSettings settings,
      String sessionId,
      SessionCommand.Attach attach,
      long afterOffset,
      ActorRef<Delivery> consumer) {
    this.ctx = ctx;
    this.timers = timers;
    this.session = sharding.entityRefFor(SessionEntity.TYPE_KEY, sessionId);
    this.journal = journal;
    this.settings = settings;
    this.sessionId = sessionId;
    this.attach = attach;
    this.consumer = consumer;
    this.feed = ctx.messageAdapter(Feed.class, FromSession::new);
    this.cursor = new ResumeCursor(afterOffset, settings.maxHeld(), settings.pageSize());
  }

  private Behavior<Command> start() {
    session.tell(new SessionCommand.Subscribe(feed, attach, cursor.delivered(), settings.pageSize()));
    timers.startTimerWithFixedDelay(KeepAliveTick.INSTANCE, settings.keepAliveInterval());
    return running();
  }

  private Behavior<Command> running() {
    return Behaviors.receive(Command.class)
        .onMessage(FromSession.class, m -> onFeed(m.feed()))
        .onMessage(PageRead.class, m -> {
          if (awaitingReady) {
            readAhead = m.events();
            return Behaviors.same();
          }
          return onPage(m.events());
        })
        .onMessage(PageFailed.class, m -> {
          ctx.getLog().warn("journal read for session {} failed, retrying: {}", sessionId, m.cause().toString());
          retryLater(cursor.onReadFailed());
          return Behaviors.same();
        })
        .onMessage(RetryRead.class, m -> {
          read(m.read());
          return Behaviors.same();
        })
        .onMessage(Ready.class, m -> {
          awaitingReady = false;
          if (readAhead == null) return Behaviors.same();
          List<SessionEvent> page = readAhead;
          readAhead = null;
          return onPage(page);
        })
        .onMessage(Rewind.class, m -> {
          ResumeCursor.Step step = cursor.rewind(m.offset());
          // Nothing more until the consumer has room again; a rewind never hands out events at once.
          // (A page read ahead before it still goes to the cursor, which ignores what no longer fits.)
          awaitingReady = true;
          if (step.read() != null) read(step.read());
          return Behaviors.same();
        })
        .onMessage(SessionStopped.class, m -> {
          if (m.incarnation().equals(incarnation)) {
            // The incarnation we followed is gone (passivated, moved, crashed): ask for the next one at once.
            incarnation = null;
            session.tell(new SessionCommand.Subscribe(feed, attach, cursor.delivered(), settings.pageSize()));
          }
          return Behaviors.same();
        })
        .onMessage(KeepAliveTick.class, m -> {
          session.tell(new SessionCommand.KeepAlive(feed, attach, cursor.delivered(), settings.pageSize(), lastActivity));
          return Behaviors.same();
        })
        .onMessage(Acknowledged.class, m -> {
          if (m.offset() > acknowledged) {
            acknowledged = m.offset();
            if (m.at().isAfter(lastActivity)) lastActivity = m.at();
            ActorRef<SessionCommand> target = incarnation;
            SessionCommand.Acknowledge ack = new SessionCommand.Acknowledge(feed, m.offset(), m.at());
            if (target != null) target.tell(ack);
            else session.tell(ack);
          }
          return Behaviors.same();
        })
        .onMessage(Activity.class, m -> {
          if (m.at().isAfter(lastActivity)) lastActivity = m.at();
          return Behaviors.same();
        })
        .onMessage(Stop.class, m -> stopping(m.reason()))
        .build();
  }

  /**
   * Unsubscribes and waits (briefly) for the session to confirm, so that the session records
   * the reason given here rather than seeing an unexplained stop (which counts as a lost connection).
   */
  private Behavior<Command> stopping(String reason) {
    ActorRef<SessionCommand> target = incarnation;
    SessionCommand.Unsubscribe unsubscribe = new SessionCommand.Unsubscribe(feed, reason);
    if (target != null) target.tell(unsubscribe);
    else session.tell(unsubscribe);
    timers.cancelAll();
    timers.startSingleTimer(StopNow.INSTANCE, java.time.Duration.ofSeconds(3));
    return Behaviors.receive(Command.class)
        .onMessage(FromSession.class, m -> m.feed() instanceof Feed.Detached ? Behaviors.stopped() : Behaviors.same())
        .onMessage(StopNow.class, m -> Behaviors.stopped())
        .onAnyMessage(m -> Behaviors.same())
        .build();
  }

  private enum StopNow implements Command { INSTANCE }

  private Behavior<Command> onFeed(Feed message) {
    if (message instanceof Feed.Attached a) {
      if (!a.session().equals(incarnation)) {
        if (incarnation != null) ctx.unwatch(incarnation);
        incarnation = a.session();
        ctx.watchWith(incarnation, new SessionStopped(incarnation));
      }
      if (!attached) {
        attached = true;
        consumer.tell(new Attached(a.sessionId(), a.head(), cursor.delivered()));
      }
      return perform(cursor.onAttached(a.replayFrom()), false);
    } else if (message instanceof Feed.Events e) {
      return perform(cursor.onLive(e.events()), false);
    } else if (message instanceof Outcome.Refused r) {
      consumer.tell(new Failed(r.code(), r.message()));
      return Behaviors.stopped();
    } else if (message instanceof Feed.Detached) {
      return Behaviors.same();
    }
    throw new IllegalStateException("unhandled feed message " + message);
  }

  private Behavior<Command> perform(ResumeCursor.Step step, boolean fromJournal) {
    if (!step.deliver().isEmpty()) {
      consumer.tell(new Deliver(step.deliver(), fromJournal));
      if (fromJournal) awaitingReady = true;
    }
    if (step.read() != null) read(step.read());
    return Behaviors.same();
  }

  /** A journal page for the cursor (the consumer is ready for it). */
  private Behavior<Command> onPage(List<SessionEvent> page) {
    if (page.isEmpty()) {
      // The journal has not got what the session announced yet (a lagging replica): retry shortly.
      retryLater(cursor.onReadFailed());
      return Behaviors.same();
    }
    return perform(cursor.onJournalPage(page), true);
  }

  private void retryLater(ResumeCursor.Step step) {
    if (step.read() != null) timers.startSingleTimer(new RetryRead(step.read()), settings.readRetryDelay());
  }

  private void read(ResumeCursor.Read read) {
    ctx.pipeToSelf(journal.readConcurrently(sessionId, read.from(), read.to()),
        (events, failure) -> failure == null ? new PageRead(events) : new PageFailed(failure));
  }
}
