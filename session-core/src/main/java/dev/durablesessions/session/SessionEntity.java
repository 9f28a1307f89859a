package dev.durablesessions.session;

import dev.durablesessions.session.AppendBody.AppendDelta;
import dev.durablesessions.session.AppendBody.EndStream;
import dev.durablesessions.session.AppendBody.PostMessage;
import dev.durablesessions.session.AppendBody.SendSignal;
import dev.durablesessions.session.AppendBody.StartStream;
import dev.durablesessions.session.Outcome.Accepted;
import dev.durablesessions.session.Outcome.Refused;
import dev.durablesessions.session.SessionCommand.Append;
import dev.durablesessions.session.SessionCommand.Create;
import dev.durablesessions.session.SessionCommand.FlushDeltas;
import dev.durablesessions.session.SessionCommand.GetSummary;
import dev.durablesessions.session.SessionCommand.Join;
import dev.durablesessions.session.SessionCommand.KeepAlive;
import dev.durablesessions.session.SessionCommand.Leave;
import dev.durablesessions.session.SessionCommand.Passivate;
import dev.durablesessions.session.SessionCommand.Subscribe;
import dev.durablesessions.session.SessionCommand.SubscriberTerminated;
import dev.durablesessions.session.SessionCommand.Unsubscribe;
import dev.durablesessions.session.SessionEvent.MessagePosted;
import dev.durablesessions.session.SessionEvent.ParticipantJoined;
import dev.durablesessions.session.SessionEvent.ParticipantLeft;
import dev.durablesessions.session.SessionEvent.SessionCreated;
import dev.durablesessions.session.SessionEvent.SignalSent;
import dev.durablesessions.session.SessionEvent.StreamEnded;
import dev.durablesessions.session.SessionEvent.StreamStarted;
import dev.durablesessions.session.producer.ProducerCheck;
import dev.durablesessions.session.producer.ProducerStamp;
import dev.durablesessions.session.producer.SeqRange;
import dev.durablesessions.session.resume.RecentEvents;
import dev.durablesessions.session.streaming.DeltaCoalescer;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReplyBuilder;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * One session: a sharded, event-sourced actor whose journal sequence numbers are the offsets.
 *
 * <p>Persist, then publish: subscribers receive an event only from the callback that runs
 * after the journal confirmed the write, so nobody ever sees an event that is not durable.
 * Subscribers are runtime state (actor refs), kept outside {@link SessionState}; they renew
 * themselves with keep-alives, so an incarnation that lost them re-learns them.
 */
public final class SessionEntity
    extends EventSourcedBehaviorWithEnforcedReplies<SessionCommand, SessionEvent, SessionState> {

  public static final EntityTypeKey<SessionCommand> TYPE_KEY = EntityTypeKey.create(SessionCommand.class, "Session");

  public static PersistenceId persistenceId(String sessionId) {
    return PersistenceId.of(TYPE_KEY.name(), sessionId);
  }

  /**
   * Starts sharding for sessions on this node.
   *
   * @param lifecycle node-local listener told when a session is created or recovered; may be null
   */
  public static void initSharding(
      ActorSystem<?> system, SessionSettings settings, Clock clock, ActorRef<SessionLifecycle> lifecycle) {
    ClusterSharding.get(system)
        .init(
            Entity.of(TYPE_KEY, ctx -> create(ctx.getEntityId(), settings, clock, lifecycle))
                .withStopMessage(Passivate.INSTANCE));
  }

  public static Behavior<SessionCommand> create(
      String sessionId, SessionSettings settings, Clock clock, ActorRef<SessionLifecycle> lifecycle) {
    return Behaviors.setup(
        ctx -> Behaviors.withTimers(timers -> new SessionEntity(sessionId, settings, clock, lifecycle, ctx, timers)));
  }

  private static final String FLUSH_TIMER = "flush-deltas";

  private final String sessionId;
  private final SessionSettings settings;
  private final Clock clock;
  private final ActorRef<SessionLifecycle> lifecycle;
  private final ActorContext<SessionCommand> ctx;
  private final TimerScheduler<SessionCommand> timers;
  private final RecentEvents recent;
  private final DeltaCoalescer coalescer;
  private final Map<ActorRef<Feed>, Participant> subscribers = new HashMap<>();

  private SessionEntity(
      String sessionId,
      SessionSettings settings,
      Clock clock,
      ActorRef<SessionLifecycle> lifecycle,
      ActorContext<SessionCommand> ctx,
      TimerScheduler<SessionCommand> timers) {
    super(persistenceId(sessionId), SupervisorStrategy.restartWithBackoff(
        java.time.Duration.ofMillis(200), java.time.Duration.ofSeconds(5), 0.2));
    this.sessionId = sessionId;
    this.settings = settings;
    this.clock = clock;
    this.lifecycle = lifecycle;
    this.ctx = ctx;
    this.timers = timers;
    this.recent = new RecentEvents(settings.recentEvents());
    this.coalescer = new DeltaCoalescer(settings.coalesceMaxBytes());
  }

  @Override
  public String journalPluginId() {
    return settings.journalPluginId();
  }

  @Override
  public String snapshotPluginId() {
    return settings.snapshotPluginId();
  }

  @Override
  public SessionState emptyState() {
    return SessionState.empty();
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(settings.snapshotEvery(), 2);
  }

  @Override
  public SignalHandler<SessionState> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.instance(), state -> {
          if (state.created() && lifecycle != null) lifecycle.tell(new SessionLifecycle.Active(sessionId, false));
        })
        .build();
  }

  // ---------------------------------------------------------------- commands

  @Override
  public CommandHandlerWithReply<SessionCommand, SessionEvent, SessionState> commandHandler() {
    CommandHandlerWithReplyBuilder<SessionCommand, SessionEvent, SessionState> builder = newCommandHandlerWithReplyBuilder();
    builder
        .forState(state -> !state.created())
        .onCommand(Create.class, this::create)
        .onCommand(Join.class, (s, c) -> Effect().reply(c.replyTo(), notFound()))
        .onCommand(Leave.class, (s, c) -> Effect().reply(c.replyTo(), notFound()))
        .onCommand(Append.class, (s, c) -> Effect().reply(c.replyTo(), notFound()))
        .onCommand(GetSummary.class, (s, c) -> Effect().reply(c.replyTo(), notFound()))
        .onCommand(Subscribe.class, (s, c) -> refuseSubscriber(c.subscriber(), notFound()))
        .onCommand(KeepAlive.class, (s, c) -> refuseSubscriber(c.subscriber(), notFound()))
        .onCommand(Passivate.class, (s, c) -> Effect().stop().thenNoReply())
        .onAnyCommand((s, c) -> Effect().noReply());
    builder
        .forState(SessionState::created)
        .onCommand(Create.class, (s, c) -> Effect().reply(c.replyTo(),
            new Refused(ErrorCode.SESSION_EXISTS, "session " + sessionId + " already exists")))
        .onCommand(Join.class, this::join)
        .onCommand(Leave.class, this::leave)
        .onCommand(Append.class, this::append)
        .onCommand(Subscribe.class, (s, c) -> subscribe(s, c.subscriber(), c.participant(), c.afterOffset(), c.maxReplay()))
        .onCommand(KeepAlive.class, this::keepAlive)
        .onCommand(Unsubscribe.class, (s, c) -> removeSubscriber(c.subscriber()))
        .onCommand(SubscriberTerminated.class, (s, c) -> removeSubscriber(c.subscriber()))
        .onCommand(GetSummary.class, (s, c) -> Effect().reply(c.replyTo(), summary(s)))
        .onCommand(FlushDeltas.class, (s, c) -> flush(s))
        .onCommand(Passivate.class, this::passivate);
    return builder.build();
  }

  private ReplyEffect<SessionEvent, SessionState> create(SessionState state, Create cmd) {
    Instant now = clock.instant();
    List<SessionEvent> events = List.of(
        new SessionCreated(1, cmd.by(), now, null, sessionId),
        new ParticipantJoined(2, cmd.by(), now, null, cmd.by()));
    return Effect().persist(events)
        .thenRun(s -> {
          publish(events);
          if (lifecycle != null) lifecycle.tell(new SessionLifecycle.Active(sessionId, true));
        })
        .thenReply(cmd.replyTo(), s -> new Accepted(1, null, false));
  }

  private ReplyEffect<SessionEvent, SessionState> join(SessionState state, Join cmd) {
    if (state.isParticipant(cmd.participant())) {
      return Effect().reply(cmd.replyTo(), new Accepted(state.head(), null, true));
    }
    return write(state, cmd.replyTo(), null, (offset, at) -> new ParticipantJoined(offset, cmd.participant(), at, null, cmd.participant()));
  }

  private ReplyEffect<SessionEvent, SessionState> leave(SessionState state, Leave cmd) {
    if (!state.isParticipant(cmd.participant())) {
      return Effect().reply(cmd.replyTo(), new Refused(ErrorCode.NOT_A_PARTICIPANT, cmd.participant().id() + " is not a participant"));
    }
    return write(state, cmd.replyTo(), null, (offset, at) -> new ParticipantLeft(offset, cmd.participant(), at, null, cmd.participant()));
  }

  private ReplyEffect<SessionEvent, SessionState> append(SessionState state, Append cmd) {
    Participant by = cmd.by();
    if (!by.role().mayAppend()) {
      return Effect().reply(cmd.replyTo(), new Refused(ErrorCode.FORBIDDEN, "role " + by.role().wire() + " may not append"));
    }
    Refused invalid = validate(state, by, cmd.body());
    if (invalid != null) return Effect().reply(cmd.replyTo(), invalid);

    ProducerStamp stamp = cmd.producer();
    if (stamp != null) {
      ProducerCheck check = ProducerCheck.of(state.producer(stamp.id()), coalescer.heldRange(stamp.id()), stamp);
      if (check instanceof ProducerCheck.Rejected r) {
        return Effect().reply(cmd.replyTo(), new Refused(r.code(), r.message()));
      } else if (check instanceof ProducerCheck.Committed c) {
        return Effect().reply(cmd.replyTo(), new Accepted(c.offset(), stamp.seq(), true));
      } else if (check instanceof ProducerCheck.Pending) {
        coalescer.holdDuplicate(cmd.replyTo(), stamp.seq());
        return Effect().noReply();
      }
    }

    if (cmd.body() instanceof AppendDelta delta && settings.coalescing()) {
      return coalesce(state, by, delta, stamp, cmd.replyTo());
    }
    SeqRange range = stamp == null ? null : SeqRange.of(stamp);
    return write(state, cmd.replyTo(), stamp, (offset, at) -> toEvent(offset, at, by, range, cmd.body()));
  }

  /** Null if the body may be appended by {@code by} now; the refusal otherwise. Changes nothing. */
  private Refused validate(SessionState state, Participant by, AppendBody body) {
    if (body instanceof PostMessage m) {
      if (m.text() == null) return invalid("message needs text");
    } else if (body instanceof StartStream s) {
      if (blank(s.messageId())) return invalid("stream.start needs a messageId");
      if (state.streamOwner(s.messageId()) != null) {
        return new Refused(ErrorCode.STREAM_EXISTS, "stream " + s.messageId() + " is already open");
      }
    } else if (body instanceof AppendDelta d) {
      if (blank(d.messageId()) || d.text() == null) return invalid("stream.delta needs a messageId and text");
      if (!by.id().equals(state.streamOwner(d.messageId()))) return streamNotOpen(d.messageId(), by);
    } else if (body instanceof EndStream e) {
      if (blank(e.messageId()) || e.reason() == null) return invalid("stream.end needs a messageId and a reason");
      if (!by.id().equals(state.streamOwner(e.messageId()))) return streamNotOpen(e.messageId(), by);
    } else if (body instanceof SendSignal g) {
      if (g.kind() == null || g.to() == null || !g.to().isValid()) {
        return invalid("signal needs a kind and exactly one of to.role or to.participant");
      }
    }
    return null;
  }

  private ReplyEffect<SessionEvent, SessionState> coalesce(
      SessionState state, Participant by, AppendDelta delta, ProducerStamp stamp, ActorRef<Outcome> replyTo) {
    if (coalescer.accepts(by, delta.messageId(), stamp, delta.text())) {
      coalescer.hold(by, delta.messageId(), stamp, delta.text(), replyTo);
      return coalescer.full() ? flush(state) : Effect().noReply();
    }
    if (coalescer.isEmpty()) {
      coalescer.hold(by, delta.messageId(), stamp, delta.text(), replyTo);
      timers.startSingleTimer(FLUSH_TIMER, FlushDeltas.INSTANCE, settings.coalesceLinger());
      return Effect().noReply();
    }
    // A different message or producer: write what is held, then hold this one.
    ReplyEffect<SessionEvent, SessionState> effect = flush(state);
    coalescer.hold(by, delta.messageId(), stamp, delta.text(), replyTo);
    timers.startSingleTimer(FLUSH_TIMER, FlushDeltas.INSTANCE, settings.coalesceLinger());
    return effect;
  }

  /** Writes the held deltas, if any, as one event and answers every sequence they stand for. */
  private ReplyEffect<SessionEvent, SessionState> flush(SessionState state) {
    timers.cancel(FLUSH_TIMER);
    if (coalescer.isEmpty()) return Effect().noReply();
    DeltaCoalescer.Drained drained = coalescer.drain(state.head() + 1, clock.instant());
    List<SessionEvent> events = List.of(drained.event());
    return Effect().persist(events)
        .thenRun(s -> {
          publish(events);
          answer(drained);
        })
        .thenNoReply();
  }

  @FunctionalInterface
  private interface EventAt {
    SessionEvent at(long offset, Instant at);
  }

  /**
   * Persists one event after whatever deltas are held (so order is kept), auto-joining an
   * author who is not yet a participant, and answers with the event's offset.
   */
  private ReplyEffect<SessionEvent, SessionState> write(
      SessionState state, ActorRef<Outcome> replyTo, ProducerStamp stamp, EventAt make) {
    timers.cancel(FLUSH_TIMER);
    Instant now = clock.instant();
    long offset = state.head();
    List<SessionEvent> events = new ArrayList<>(3);
    DeltaCoalescer.Drained drained = coalescer.isEmpty() ? null : coalescer.drain(++offset, now);
    if (drained != null) events.add(drained.event());
    SessionEvent event = make.at(offset + 1, now);
    if (!state.isParticipant(event.by()) && !(event instanceof ParticipantJoined) && !(event instanceof ParticipantLeft)) {
      events.add(new ParticipantJoined(++offset, event.by(), now, null, event.by()));
      event = make.at(offset + 1, now);
    }
    events.add(event);
    long written = event.offset();
    Long seq = stamp == null ? null : stamp.seq();
    List<SessionEvent> batch = List.copyOf(events);
    return Effect().persist(batch)
        .thenRun(s -> {
          publish(batch);
          if (drained != null) answer(drained);
        })
        .thenReply(replyTo, s -> new Accepted(written, seq, false));
  }

  private static SessionEvent toEvent(long offset, Instant at, Participant by, SeqRange range, AppendBody body) {
    if (body instanceof PostMessage m) {
      String id = blank(m.messageId()) ? UUID.randomUUID().toString() : m.messageId();
      return new MessagePosted(offset, by, at, range, id, m.text());
    } else if (body instanceof StartStream s) {
      return new StreamStarted(offset, by, at, range, s.messageId());
    } else if (body instanceof AppendDelta d) {
      return new SessionEvent.StreamDelta(offset, by, at, range, d.messageId(), d.text(), 1);
    } else if (body instanceof EndStream e) {
      return new StreamEnded(offset, by, at, range, e.messageId(), e.reason(), e.error());
    } else if (body instanceof SendSignal g) {
      return new SignalSent(offset, by, at, range, g.kind(), g.to(), g.text());
    }
    throw new IllegalStateException("unhandled append " + body.getClass().getName());
  }

  private ReplyEffect<SessionEvent, SessionState> passivate(SessionState state, Passivate cmd) {
    // Held deltas were acknowledged to nobody yet; writing them before stopping spares the
    // producers a retry.
    if (coalescer.isEmpty()) return Effect().stop().thenNoReply();
    timers.cancel(FLUSH_TIMER);
    DeltaCoalescer.Drained drained = coalescer.drain(state.head() + 1, clock.instant());
    List<SessionEvent> events = List.of(drained.event());
    return Effect().persist(events)
        .thenRun(s -> {
          publish(events);
          answer(drained);
        })
        .thenStop()
        .thenNoReply();
  }

  // ---------------------------------------------------------------- subscribers

  private ReplyEffect<SessionEvent, SessionState> subscribe(
      SessionState state, ActorRef<Feed> subscriber, Participant participant, long afterOffset, int maxReplay) {
    if (afterOffset < 0) {
      return refuseSubscriber(subscriber, new Refused(ErrorCode.INVALID_OFFSET, "offset must be >= 0"));
    }
    if (afterOffset > state.head()) {
      return refuseSubscriber(subscriber, new Refused(ErrorCode.OFFSET_BEYOND_HEAD,
          "offset " + afterOffset + " is beyond the head " + state.head()));
    }
    if (subscribers.put(subscriber, participant) == null) {
      ctx.watchWith(subscriber, new SubscriberTerminated(subscriber));
    }
    long head = state.head();
    if (head - afterOffset <= maxReplay && recent.covers(afterOffset, head)) {
      subscriber.tell(new Feed.Attached(sessionId, ctx.getSelf(), head, afterOffset + 1));
      List<SessionEvent> backlog = afterOffset < head ? recent.after(afterOffset) : List.of();
      if (!backlog.isEmpty()) subscriber.tell(new Feed.Events(backlog));
    } else {
      // Older than the tail, or more than the subscriber takes at once: it reads (afterOffset, head] from the journal.
      subscriber.tell(new Feed.Attached(sessionId, ctx.getSelf(), head, head + 1));
    }
    return Effect().noReply();
  }

  private ReplyEffect<SessionEvent, SessionState> keepAlive(SessionState state, KeepAlive cmd) {
    if (subscribers.containsKey(cmd.subscriber())) return Effect().noReply();
    return subscribe(state, cmd.subscriber(), cmd.participant(), cmd.deliveredOffset(), cmd.maxReplay());
  }

  private ReplyEffect<SessionEvent, SessionState> removeSubscriber(ActorRef<Feed> subscriber) {
    if (subscribers.remove(subscriber) != null) ctx.unwatch(subscriber);
    return Effect().noReply();
  }

  private ReplyEffect<SessionEvent, SessionState> refuseSubscriber(ActorRef<Feed> subscriber, Refused refused) {
    subscriber.tell(refused);
    return Effect().noReply();
  }

  private void publish(List<SessionEvent> events) {
    if (subscribers.isEmpty()) return;
    Feed.Events message = new Feed.Events(events);
    for (ActorRef<Feed> subscriber : subscribers.keySet()) subscriber.tell(message);
  }

  private static void answer(DeltaCoalescer.Drained drained) {
    long offset = drained.event().offset();
    for (DeltaCoalescer.Ack ack : drained.acks()) ack.replyTo().tell(new Accepted(offset, ack.seq(), ack.duplicate()));
  }

  private SummaryReply summary(SessionState s) {
    return new SummaryReply.Summary(
        sessionId, s.head(), s.createdAt(), s.createdBy(),
        List.copyOf(s.participants().values()), List.copyOf(s.openStreams().keySet()), subscribers.size());
  }

  // ---------------------------------------------------------------- events

  @Override
  public EventHandler<SessionState, SessionEvent> eventHandler() {
    return newEventHandlerBuilder()
        .forAnyState()
        .onAnyEvent((state, event) -> {
          // The tail is a cache of the log, filled on replay and on write alike.
          recent.add(event);
          return state.apply(event, settings.producerWindow());
        });
  }

  private Refused notFound() {
    return new Refused(ErrorCode.SESSION_NOT_FOUND, "no session " + sessionId);
  }

  private static Refused invalid(String message) {
    return new Refused(ErrorCode.INVALID_FRAME, message);
  }

  private static Refused streamNotOpen(String messageId, Participant by) {
    return new Refused(ErrorCode.STREAM_NOT_OPEN, "stream " + messageId + " is not open for " + by.id());
  }

  private static boolean blank(String s) {
    return s == null || s.isBlank();
  }
}
