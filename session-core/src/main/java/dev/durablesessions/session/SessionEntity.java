package dev.durablesessions.session;

import dev.durablesessions.session.dispatch.Dispatcher;
import dev.durablesessions.session.dispatch.SessionNeed;

import dev.durablesessions.persistence.JournalGuard;
import dev.durablesessions.session.AppendBody.AppendDelta;
import dev.durablesessions.session.Outcome.Accepted;
import dev.durablesessions.session.Outcome.Refused;
import dev.durablesessions.session.SessionCommand.Append;
import dev.durablesessions.session.SessionCommand.Attach;
import dev.durablesessions.session.SessionCommand.ChangeControl;
import dev.durablesessions.session.SessionCommand.Create;
import dev.durablesessions.session.SessionCommand.Erase;
import dev.durablesessions.session.SessionCommand.FlushDeltas;
import dev.durablesessions.session.SessionCommand.GetSummary;
import dev.durablesessions.session.SessionCommand.GraceExpired;
import dev.durablesessions.session.SessionCommand.Join;
import dev.durablesessions.session.SessionCommand.KeepAlive;
import dev.durablesessions.session.SessionCommand.Leave;
import dev.durablesessions.session.SessionCommand.Passivate;
import dev.durablesessions.session.SessionCommand.ReattachCheck;
import dev.durablesessions.session.SessionCommand.StallCheck;
import dev.durablesessions.session.SessionCommand.Subscribe;
import dev.durablesessions.session.SessionCommand.SubscriberTerminated;
import dev.durablesessions.session.SessionCommand.Unsubscribe;
import dev.durablesessions.session.SessionEvent.ParticipantJoined;
import dev.durablesessions.session.SessionEvent.SessionErased;
import dev.durablesessions.session.erasure.ErasureReason;
import dev.durablesessions.session.erasure.ErasureStore;
import dev.durablesessions.session.metrics.SessionMetrics;
import dev.durablesessions.session.presence.Attachment;
import dev.durablesessions.session.presence.PresenceRules;
import dev.durablesessions.session.producer.ProducerCheck;
import dev.durablesessions.session.producer.ProducerStamp;
import dev.durablesessions.session.producer.SeqRange;
import dev.durablesessions.session.resume.RecentEvents;
import dev.durablesessions.session.answer.DeltaCoalescer;
import dev.durablesessions.session.answer.OpenStreams;
import dev.durablesessions.session.transfer.ControlRules;
import dev.durablesessions.session.transfer.QueueDirectory;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionException;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.JournalPersistFailed;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.RecoveryFailed;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReplyBuilder;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReplyBuilderByState;
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
 * themselves with keep-alives, so an incarnation that lost them re-learns them, and presence
 * (durable) is reconciled with who actually re-attached.
 *
 * <p>Erasure happens here too, so that no incarnation ever runs on rows deleted under it: the
 * entity writes its tombstone (after which it persists nothing and refuses everything with
 * session_erased), cuts off its subscribers, and only then deletes its older rows, off the
 * actor's thread. Any later incarnation, on any node, replays just the tombstone.
 *
 * <p>Why this file is still over ~400 lines: it is the one place that turns decisions into
 * Pekko effects (persist, then publish, then reply; timers; stop), and those effects can only
 * be built inside the behavior. The decisions themselves live in rule classes
 * ({@code PresenceRules}, {@code ControlRules}, {@code AppendRules}, {@code ProducerCheck}),
 * delivery in {@link Subscribers}. What is left here: the per-phase handler wiring, the batch
 * write with coalesced deltas, erasure (whose ordering against the actor's own writes is the
 * point) and the journal-outage answers. Candidates to move next: the post-write side effects
 * (stall timers, queue index, lifecycle) and the erasure purge, into their own classes.
 */
public final class SessionEntity
    extends EventSourcedBehaviorWithEnforcedReplies<SessionCommand, SessionEvent, SessionState> {

  public static final EntityTypeKey<SessionCommand> TYPE_KEY = EntityTypeKey.create(SessionCommand.class, "Session");

  /** The tag of {@code session.closed} events: the journal's tag table is the index retention finds closed sessions in. */
  public static final String CLOSED_TAG = "session-closed";

  private static final Set<String> CLOSED_TAGS = Set.of(CLOSED_TAG);

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(SessionEntity.class);

  public static PersistenceId persistenceId(String sessionId) {
    return PersistenceId.of(TYPE_KEY.name(), sessionId);
  }

  /**
   * Starts sharding for sessions on this node (and the queue directory they report to).
   *
   * @param lifecycle node-local listener told when a session is created or recovered; may be null
   */
  public static void initSharding(
      ActorSystem<?> system, SessionSettings settings, Clock clock, ActorRef<SessionLifecycle> lifecycle) {
    ActorRef<QueueDirectory.Command> queues = QueueDirectory.init(system);
    ActorRef<Dispatcher.Command> dispatcher = Dispatcher.proxy(system);
    ErasureStore erasures = ErasureStore.forJournal(system);
    ClusterSharding.get(system)
        .init(
            Entity.of(TYPE_KEY, ctx -> create(ctx.getEntityId(), settings, clock, lifecycle, queues, dispatcher, erasures))
                .withStopMessage(Passivate.INSTANCE));
  }

  public static Behavior<SessionCommand> create(
      String sessionId, SessionSettings settings, Clock clock, ActorRef<SessionLifecycle> lifecycle,
      ActorRef<QueueDirectory.Command> queues, ErasureStore erasures) {
    return create(sessionId, settings, clock, lifecycle, queues, null, erasures);
  }

  /** @param dispatcher told the session's {@link SessionNeed} whenever it changes; may be null */
  public static Behavior<SessionCommand> create(
      String sessionId, SessionSettings settings, Clock clock, ActorRef<SessionLifecycle> lifecycle,
      ActorRef<QueueDirectory.Command> queues, ActorRef<Dispatcher.Command> dispatcher, ErasureStore erasures) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      SessionEntity entity = new SessionEntity(sessionId, settings, clock, lifecycle, queues, dispatcher, erasures, ctx, timers);
      return entity.journal.around(entity, SessionCommand.class);
    }));
  }

  private static final String FLUSH_TIMER = "flush-deltas";

  private final String sessionId;
  private final SessionSettings settings;
  private final Clock clock;
  private final ActorRef<SessionLifecycle> lifecycle;
  private final ActorRef<QueueDirectory.Command> queues;
  private final ActorRef<Dispatcher.Command> dispatcher;
  /** What the dispatcher was last told (null: nothing yet in this incarnation). */
  private SessionNeed reportedNeed;
  /** The offset of the user message that opened the current turn, if this incarnation saw it (0: not known). */
  private long turnOpenedAt;
  private final ErasureStore erasures;
  private final ActorContext<SessionCommand> ctx;
  private final TimerScheduler<SessionCommand> timers;
  private final RecentEvents recent;
  private final DeltaCoalescer coalescer;
  private final Subscribers subscribers;
  private final JournalGuard<SessionCommand> journal;
  private final PresenceRules presenceRules;
  /** Counted in the active-sessions gauge: once per actor, however often a journal failure restarts it. */
  private boolean counted;

  private SessionEntity(
      String sessionId, SessionSettings settings, Clock clock, ActorRef<SessionLifecycle> lifecycle,
      ActorRef<QueueDirectory.Command> queues, ActorRef<Dispatcher.Command> dispatcher, ErasureStore erasures,
      ActorContext<SessionCommand> ctx, TimerScheduler<SessionCommand> timers) {
    super(persistenceId(sessionId), JournalGuard.restartBackoff(ctx.getSystem().settings().config()));
    this.sessionId = sessionId;
    this.settings = settings;
    this.clock = clock;
    this.lifecycle = lifecycle;
    this.queues = queues;
    this.dispatcher = dispatcher;
    this.erasures = erasures;
    this.ctx = ctx;
    this.timers = timers;
    this.recent = new RecentEvents(settings.recentEvents());
    this.subscribers = new Subscribers(sessionId, ctx, recent);
    this.coalescer = new DeltaCoalescer(settings.coalesceMaxBytes());
    this.presenceRules = new PresenceRules(settings.grace(), settings.reattachWindow(), settings.receiptInterval());
    this.journal = new JournalGuard<>("session", sessionId, ctx, this::refuseWhileJournalDown);
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
  public Set<String> tagsFor(SessionEvent event) {
    return event instanceof SessionEvent.SessionClosed ? CLOSED_TAGS : Set.of();
  }

  @Override
  public SignalHandler<SessionState> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.instance(), state -> {
          if (!counted) SessionMetrics.SESSIONS_ACTIVE.inc();
          counted = true;
          journal.recovered();
          recovered(state);
        })
        .onSignal(JournalPersistFailed.class, (state, failed) -> {
          // The events of the failed write were applied to the tail already; the restart replays what is really there.
          recent.clear();
          journal.failed("write", failed.getFailure());
        })
        .onSignal(RecoveryFailed.class, (state, failed) -> journal.failed("recovery", failed.getFailure()))
        .onSignal(org.apache.pekko.actor.typed.PostStop.instance(), state -> {
          journal.stopped();
          if (counted) SessionMetrics.SESSIONS_ACTIVE.dec();
          if (lifecycle != null && state.created()) lifecycle.tell(new SessionLifecycle.Inactive(sessionId));
          subscribers.stopped();
        })
        .build();
  }

  /** A new incarnation: re-arm what was pending and give devices a window to re-attach. */
  private void recovered(SessionState state) {
    if (state.erased()) {
      // Finishes a deletion a crash or an outage interrupted (leftover rows, a snapshot); else a no-op.
      purge(state.tombstone(), null);
      return;
    }
    if (!state.created()) return;
    if (lifecycle != null) lifecycle.tell(new SessionLifecycle.Active(sessionId, false));
    reportNeed(state, true);
    applyTimers(presenceRules.recovered(state, clock.instant()).timers());
    for (String messageId : state.openStreams().keySet()) {
      if (!state.stalled().containsKey(messageId)) armStallCheck(messageId);
    }
    if (queues != null && state.control() instanceof dev.durablesessions.session.transfer.Control.Queued q) {
      queues.tell(new QueueDirectory.Enqueue(sessionId, q.queue(), q.since(), q.note()));
    } else if (queues != null && state.control() instanceof dev.durablesessions.session.transfer.Control.TransferPending t
        && t.invited().queue() != null) {
      queues.tell(new QueueDirectory.Enqueue(sessionId, t.invited().queue(), t.since(), t.note()));
    }
  }

  // ---------------------------------------------------------------- commands

  /**
   * One handler set per phase, so what a phase allows is visible here: an erased session refuses
   * everything (erasing again finishes the deletion); one not created yet only accepts being
   * created; a closed one refuses appends and control changes (a retried append that was
   * written before the close is still answered as the duplicate it is); an open one does it all.
   * Every command that carries a {@code replyTo} gets an answer in every phase; a command type no
   * phase knows is a programming error and fails loudly.
   */
  @Override
  public CommandHandlerWithReply<SessionCommand, SessionEvent, SessionState> commandHandler() {
    CommandHandlerWithReplyBuilder<SessionCommand, SessionEvent, SessionState> builder = newCommandHandlerWithReplyBuilder();
    // A phase's own handlers come first: the first handler that matches a command wins.
    refusingAll(builder.forState(SessionState::erased)
        .onCommand(Create.class, (s, c) -> Effect().reply(c.replyTo(), erasedRefusal()))
        .onCommand(Erase.class, this::eraseAgain), this::erasedRefusal);
    refusingAll(builder.forState(state -> !state.created())
        .onCommand(Create.class, this::create)
        .onCommand(Erase.class, (s, c) -> Effect().reply(c.replyTo(), notFound())), this::notFound);
    live(builder.forState(SessionState::closed)
        .onCommand(Append.class, this::appendWhenClosed)
        .onCommand(SessionCommand.Assign.class, (s, c) -> Effect().reply(c.replyTo(), closedRefusal()))
        .onCommand(SessionCommand.RecordWebhookFailure.class, (s, c) -> Effect().reply(c.replyTo(), closedRefusal()))
        .onCommand(ChangeControl.class, (s, c) -> Effect().reply(c.replyTo(), closedRefusal())));
    live(builder.forState(SessionState::created)
        .onCommand(Append.class, this::append)
        .onCommand(SessionCommand.Assign.class, (s, c) -> applyLease(s,
            dev.durablesessions.session.dispatch.LeaseRules.assign(s, c.agent(), c.expectedEpoch(), c.reason()), c.replyTo()))
        .onCommand(ChangeControl.class, this::changeControl)
        .onCommand(SessionCommand.RecordWebhookFailure.class, this::recordWebhookFailure));
    return builder.build();
  }

  private static ReplyEffect<SessionEvent, SessionState> unknownCommand(SessionState state, SessionCommand command) {
    throw new IllegalStateException("no handler for " + command.getClass().getName() + " in this phase");
  }

  /**
   * A phase in which the session does nothing: every other request is refused with
   * {@code refusal}, a subscriber is told so, a goodbye is acknowledged, timers and renewals of
   * an earlier phase are dropped, passivation stops the actor. Create and Erase differ per
   * phase, so the caller registers them before this.
   */
  private void refusingAll(
      CommandHandlerWithReplyBuilderByState<SessionCommand, SessionEvent, SessionState, SessionState> phase,
      java.util.function.Supplier<Refused> refusal) {
    phase
        .onCommand(Join.class, (s, c) -> Effect().reply(c.replyTo(), refusal.get()))
        .onCommand(Leave.class, (s, c) -> Effect().reply(c.replyTo(), refusal.get()))
        .onCommand(Append.class, (s, c) -> Effect().reply(c.replyTo(), refusal.get()))
        .onCommand(ChangeControl.class, (s, c) -> Effect().reply(c.replyTo(), refusal.get()))
        .onCommand(SessionCommand.Assign.class, (s, c) -> Effect().reply(c.replyTo(), refusal.get()))
        .onCommand(SessionCommand.EndLease.class, (s, c) -> Effect().reply(c.replyTo(), refusal.get()))
        .onCommand(SessionCommand.RecordWebhookFailure.class, (s, c) -> Effect().reply(c.replyTo(), refusal.get()))
        .onCommand(GetSummary.class, (s, c) -> Effect().reply(c.replyTo(), refusal.get()))
        .onCommand(SessionCommand.GetState.class, (s, c) -> Effect().reply(c.replyTo(), refusal.get()))
        .onCommand(Subscribe.class, (s, c) -> refuseSubscriber(c.subscriber(), refusal.get()))
        .onCommand(KeepAlive.class, (s, c) -> refuseSubscriber(c.subscriber(), refusal.get()))
        .onCommand(Unsubscribe.class, (s, c) -> {
          c.subscriber().tell(new Feed.Detached());
          return Effect().noReply();
        })
        .onCommand(Passivate.class, (s, c) -> Effect().stop().thenNoReply())
        // No replyTo: nothing to answer, nothing to do in a phase without subscribers, presence or streams.
        .onCommand(SessionCommand.Acknowledge.class, (s, c) -> Effect().noReply())
        .onCommand(SubscriberTerminated.class, (s, c) -> Effect().noReply())
        .onCommand(GraceExpired.class, (s, c) -> Effect().noReply())
        .onCommand(ReattachCheck.class, (s, c) -> Effect().noReply())
        .onCommand(StallCheck.class, (s, c) -> Effect().noReply())
        .onCommand(FlushDeltas.class, (s, c) -> Effect().noReply())
        .onCommand(SessionCommand.ReportNeed.class, (s, c) -> Effect().noReply())
        .onAnyCommand(SessionEntity::unknownCommand);
  }

  /** What an open and a closed session both do: membership, subscribers, presence, timers, views, erasure. */
  private void live(CommandHandlerWithReplyBuilderByState<SessionCommand, SessionEvent, SessionState, SessionState> phase) {
    phase
        .onCommand(Create.class, (s, c) -> Effect().reply(c.replyTo(),
            new Refused(ErrorCode.SESSION_EXISTS, "session " + sessionId + " already exists")))
        .onCommand(Join.class, this::join)
        .onCommand(Leave.class, this::leave)
        .onCommand(Subscribe.class, (s, c) -> subscribe(s, c.subscriber(), c.attach(), c.afterOffset(), c.maxReplay()))
        .onCommand(KeepAlive.class, this::keepAlive)
        .onCommand(SessionCommand.Acknowledge.class, this::acknowledge)
        .onCommand(Unsubscribe.class, (s, c) -> {
          c.subscriber().tell(new Feed.Detached());
          return detach(s, c.subscriber(), c.reason());
        })
        .onCommand(SubscriberTerminated.class, (s, c) -> detach(s, c.subscriber(), "connection_lost"))
        .onCommand(GraceExpired.class, (s, c) -> applyPresence(s, presenceRules.graceExpired(s, c.participantId(), clock.instant()), false))
        .onCommand(ReattachCheck.class,
            (s, c) -> applyPresence(s, presenceRules.reattachCheck(s, subscribers.attachments(), clock.instant()), false))
        .onCommand(StallCheck.class, this::stallCheck)
        .onCommand(GetSummary.class, (s, c) -> Effect().reply(c.replyTo(), summary(s)))
        .onCommand(SessionCommand.GetState.class, (s, c) -> Effect().reply(c.replyTo(), new StateReply.StateNow(s)))
        .onCommand(FlushDeltas.class, (s, c) -> flush(s))
        .onCommand(SessionCommand.ReportNeed.class, (s, c) -> {
          reportNeed(s, true);
          return Effect().noReply();
        })
        .onCommand(Erase.class, this::erase)
        .onCommand(SessionCommand.EndLease.class, (s, c) -> applyLease(s,
            dev.durablesessions.session.dispatch.LeaseRules.end(s, c.agent(), c.epoch(), c.ending(), c.reason()), c.replyTo()))
        .onCommand(Passivate.class, this::passivate)
        .onAnyCommand(SessionEntity::unknownCommand);
  }

  private ReplyEffect<SessionEvent, SessionState> create(SessionState state, Create cmd) {
    if (!cmd.by().role().mayAppend() || cmd.by().role() == Role.SYSTEM) {
      return Effect().reply(cmd.replyTo(), new Refused(ErrorCode.FORBIDDEN, "role " + cmd.by().role().wire() + " may not create sessions"));
    }
    return persist(state, List.of(
        (o, at) -> new SessionEvent.SessionCreated(o, cmd.by(), at, null, sessionId, cmd.pool()),
        (o, at) -> new ParticipantJoined(o, cmd.by(), at, null, cmd.by())), cmd.replyTo(), null, false);
  }

  private ReplyEffect<SessionEvent, SessionState> join(SessionState state, Join cmd) {
    if (state.isParticipant(cmd.participant())) {
      return Effect().reply(cmd.replyTo(), new Accepted(state.head(), null, true));
    }
    return persist(state, List.of((o, at) -> new ParticipantJoined(o, cmd.participant(), at, null, cmd.participant())),
        cmd.replyTo(), null, false);
  }

  private ReplyEffect<SessionEvent, SessionState> leave(SessionState state, Leave cmd) {
    if (!state.isParticipant(cmd.participant())) {
      return Effect().reply(cmd.replyTo(), new Refused(ErrorCode.NOT_A_PARTICIPANT, cmd.participant().id() + " is not a participant"));
    }
    timers.cancel(graceKey(cmd.participant().id()));
    // Whoever says goodbye stops what they were streaming: those runs end as cancelled.
    List<EventAt> events = new ArrayList<>(
        OpenStreams.endAll(state, owner -> owner.equals(cmd.participant().id()), cmd.participant(), EndReason.CANCELLED, "left"));
    events.add((o, at) -> new SessionEvent.ParticipantLeft(o, cmd.participant(), at, null, cmd.participant()));
    return persist(state, events, cmd.replyTo(), null, false);
  }

  private ReplyEffect<SessionEvent, SessionState> append(SessionState state, Append cmd) {
    ReplyEffect<SessionEvent, SessionState> known = answerKnownProducerSeq(state, cmd);
    if (known != null) return known;
    Participant by = cmd.by();
    ProducerStamp stamp = stamp(cmd);
    // Fenced first: a worker that lost its lease writes nothing, whatever it sends.
    Refused refused = dev.durablesessions.session.dispatch.LeaseRules.checkWrite(state, by, cmd.lease());
    // A refused append does not use up its sequence: the producer may send it again, fixed.
    if (refused == null) refused = AppendRules.check(state, by, cmd.body());
    if (refused != null) return Effect().reply(cmd.replyTo(), refused);

    if (cmd.body() instanceof AppendDelta delta) {
      SessionMetrics.DELTAS_APPENDED.inc();
      if (settings.coalescing()) return coalesce(state, by, delta, stamp, cmd.replyTo());
    }
    SeqRange range = stamp == null ? null : SeqRange.of(stamp);
    return persist(state, List.of((o, at) -> AppendRules.toEvent(o, at, by, range, cmd.body(), state)), cmd.replyTo(),
        stamp == null ? null : stamp.seq(), true);
  }

  /** Closed: a retry of something written before the close is still a duplicate; anything new is refused. */
  private ReplyEffect<SessionEvent, SessionState> appendWhenClosed(SessionState state, Append cmd) {
    ReplyEffect<SessionEvent, SessionState> known = answerKnownProducerSeq(state, cmd);
    return known != null ? known : Effect().reply(cmd.replyTo(), closedRefusal());
  }

  /**
   * The producer rule, before the body is judged: a retry of something already written is a
   * duplicate, even if the same body would be refused now (a stream.start whose stream is open,
   * say). Null when the append is new (or carries no producer) and its body decides.
   */
  private ReplyEffect<SessionEvent, SessionState> answerKnownProducerSeq(SessionState state, Append cmd) {
    Participant by = cmd.by();
    // Producers are scoped to their participant: nobody can fence or gap another's producer.
    if (cmd.producer() != null && (cmd.producer().id() == null || cmd.producer().id().isBlank())) {
      return Effect().reply(cmd.replyTo(), new Refused(ErrorCode.INVALID_REQUEST, "producer needs an id, and epoch and seq >= 0"));
    }
    ProducerStamp stamp = stamp(cmd);
    if (stamp == null) return null;
    ProducerCheck check = ProducerCheck.of(state.producer(stamp.id()), coalescer.heldRange(stamp.id()), stamp);
    if (check instanceof ProducerCheck.Rejected r) {
      return Effect().reply(cmd.replyTo(), new Refused(r.code(), r.message().replace(by.id() + "::", "")));
    } else if (check instanceof ProducerCheck.Committed c) {
      return Effect().reply(cmd.replyTo(), new Accepted(c.offset(), stamp.seq(), true));
    } else if (check instanceof ProducerCheck.Pending) {
      coalescer.holdDuplicate(cmd.replyTo(), stamp.seq());
      return Effect().noReply();
    }
    return null;
  }

  private static ProducerStamp stamp(Append cmd) {
    return cmd.producer() == null ? null
        : new ProducerStamp(cmd.by().id() + "::" + cmd.producer().id(), cmd.producer().epoch(), cmd.producer().seq());
  }

  private ReplyEffect<SessionEvent, SessionState> applyLease(
      SessionState state, dev.durablesessions.session.dispatch.LeaseRules.Decision decision, ActorRef<Outcome> replyTo) {
    if (decision.refused() != null) return Effect().reply(replyTo, decision.refused());
    return persist(state, decision.events(), replyTo, null, false);
  }

  private ReplyEffect<SessionEvent, SessionState> recordWebhookFailure(SessionState state, SessionCommand.RecordWebhookFailure c) {
    return persist(state, List.of((o, at) -> new SessionEvent.AgentWebhookFailed(o, Participant.SESSION, at, null, c.pool(),
        c.attempts(), c.lastStatus(), c.error(), c.idempotencyKey())), c.replyTo(), null, false);
  }

  private ReplyEffect<SessionEvent, SessionState> changeControl(SessionState state, ChangeControl cmd) {
    ControlRules.Decision decision = ControlRules.decide(state, cmd.by(), cmd.request());
    if (decision.refused() != null) return Effect().reply(cmd.replyTo(), decision.refused());
    return persist(state, decision.events(), cmd.replyTo(), null, true);
  }

  private ReplyEffect<SessionEvent, SessionState> coalesce(
      SessionState state, Participant by, AppendDelta delta, ProducerStamp stamp, ActorRef<Outcome> replyTo) {
    if (coalescer.accepts(by, delta.messageId(), stamp, delta.text())) {
      coalescer.hold(by, delta.messageId(), stamp, delta.text(), replyTo);
      return coalescer.full() ? flush(state) : Effect().noReply();
    }
    if (coalescer.isEmpty()) {
      coalescer.hold(by, delta.messageId(), stamp, delta.text(), replyTo);
      if (coalescer.full()) return flush(state);
      timers.startSingleTimer(FLUSH_TIMER, FlushDeltas.INSTANCE, linger());
      return Effect().noReply();
    }
    // A different message or producer: write what is held, then hold this one.
    ReplyEffect<SessionEvent, SessionState> effect = flush(state);
    coalescer.hold(by, delta.messageId(), stamp, delta.text(), replyTo);
    timers.startSingleTimer(FLUSH_TIMER, FlushDeltas.INSTANCE, linger());
    return effect;
  }

  /** Longer while nobody but agents watches: fewer, larger events cost less to store and deliver. */
  private Duration linger() {
    Duration idle = settings.coalesceLingerWithoutAudience();
    return subscribers.audiencePresent() || idle.compareTo(settings.coalesceLinger()) < 0 ? settings.coalesceLinger() : idle;
  }

  /** Writes the held deltas, if any, as one event and answers every sequence they stand for. */
  private ReplyEffect<SessionEvent, SessionState> flush(SessionState state) {
    if (coalescer.isEmpty()) {
      timers.cancel(FLUSH_TIMER);
      return Effect().noReply();
    }
    return persist(state, List.of(), null, null, false);
  }

  /**
   * Persists held deltas (so order is kept), then the given events, in one atomic batch;
   * auto-joins an author who is not a participant yet; publishes after the write; and answers
   * {@code replyTo} (if any) with the offset of the last event.
   */
  private ReplyEffect<SessionEvent, SessionState> persist(
      SessionState state, List<EventAt> makers, ActorRef<Outcome> replyTo, Long seq, boolean autoJoin) {
    timers.cancel(FLUSH_TIMER);
    Instant now = clock.instant();
    long offset = state.head();
    List<SessionEvent> events = new ArrayList<>(makers.size() + 2);
    DeltaCoalescer.Drained drained = coalescer.isEmpty() ? null : coalescer.drain(++offset, now);
    if (drained != null) events.add(drained.event());
    java.util.Set<String> joining = new java.util.HashSet<>();
    for (EventAt make : makers) {
      SessionEvent event = make.at(offset + 1, now);
      Participant author = event.by();
      if (autoJoin && author.role() != Role.SYSTEM && !state.isParticipant(author) && joining.add(author.id())) {
        events.add(new ParticipantJoined(++offset, author, now, null, author));
        event = make.at(offset + 1, now);
      }
      events.add(event);
      offset = event.offset();
    }
    List<SessionEvent> batch = List.copyOf(events);
    long started = System.nanoTime();
    journal.writing(() -> refuseWrite(replyTo, drained));
    var effect = Effect().persist(batch).thenRun(s -> {
      journal.written();
      SessionMetrics.PERSIST_LATENCY.observe((System.nanoTime() - started) / 1e9);
      afterWrite(s, batch);
      if (drained != null) answer(drained);
    });
    if (replyTo == null) return effect.thenNoReply();
    long last = offset;
    return effect.thenReply(replyTo, s -> new Accepted(last, seq, false));
  }

  private ReplyEffect<SessionEvent, SessionState> passivate(SessionState state, Passivate cmd) {
    // Held deltas were acknowledged to nobody yet; writing them before stopping spares the producers a retry.
    if (coalescer.isEmpty()) return Effect().stop().thenNoReply();
    timers.cancel(FLUSH_TIMER);
    DeltaCoalescer.Drained drained = coalescer.drain(state.head() + 1, clock.instant());
    List<SessionEvent> events = List.of(drained.event());
    journal.writing(() -> refuseWrite(null, drained));
    return Effect().persist(events)
        .thenRun(s -> {
          journal.written();
          afterWrite(s, events);
          answer(drained);
        })
        .thenStop()
        .thenNoReply();
  }

  // ---------------------------------------------------------------- erasure

  private ReplyEffect<SessionEvent, SessionState> erase(SessionState state, Erase cmd) {
    Refused refused = mayErase(cmd);
    if (refused != null) return Effect().reply(cmd.replyTo(), refused);
    if (cmd.reason() == ErasureReason.RETENTION && !state.closed()) {
      return Effect().reply(cmd.replyTo(), new Refused(ErrorCode.ILLEGAL_TRANSITION, "retention erases closed sessions only"));
    }
    // Nothing pending may write after the tombstone: timers go, held deltas were never written and now never will be.
    timers.cancelAll();
    if (!coalescer.isEmpty()) {
      for (DeltaCoalescer.Ack ack : coalescer.drain(0, clock.instant()).acks()) ack.replyTo().tell(erasedRefusal());
    }
    SessionErased tombstone = new SessionErased(state.head() + 1, cmd.by(), clock.instant(), null, cmd.reason(), state.head());
    return Effect().persist(tombstone)
        .thenRun(s -> {
          SessionMetrics.SESSIONS_ERASED.labelValues(cmd.reason().wire()).inc();
          reportNeed(s, true);
          cutOffEverythingLive();
          purge(tombstone, cmd.replyTo());
        })
        .thenNoReply();
  }

  /** Asked again: answers with the first record, and finishes the deletion if it had not. */
  private ReplyEffect<SessionEvent, SessionState> eraseAgain(SessionState state, Erase cmd) {
    Refused refused = mayErase(cmd);
    if (refused != null) return Effect().reply(cmd.replyTo(), refused);
    return Effect().none().thenRun(s -> purge(s.tombstone(), cmd.replyTo())).thenNoReply();
  }

  /** Admins erase; the session's own retention task (role system, never in a token) erases closed sessions. */
  private static Refused mayErase(Erase cmd) {
    Role role = cmd.by().role();
    boolean allowed = cmd.reason() == ErasureReason.ADMIN ? role == Role.ADMIN : role == Role.SYSTEM;
    return allowed ? null : new Refused(ErrorCode.FORBIDDEN, "only admins erase sessions");
  }

  /** Subscribers are told (their sockets close with session_erased) and forgotten; the indexes forget the session. */
  private void cutOffEverythingLive() {
    subscribers.cutOff(erasedRefusal());
    if (queues != null) queues.tell(new QueueDirectory.Remove(sessionId));
    if (lifecycle != null) lifecycle.tell(new SessionLifecycle.Inactive(sessionId));
  }

  /**
   * Deletes the rows before the tombstone and records the erasure, off the actor's thread; the
   * answer goes straight to {@code replyTo} (may be null), so it arrives even if this
   * incarnation stops meanwhile. A failure leaves the session erased (the tombstone stands)
   * and is finished by the next request, retention check or start of the session.
   */
  private void purge(SessionErased tombstone, ActorRef<ErasureReply> replyTo) {
    erasures.purge(sessionId, tombstone).whenComplete((done, failure) -> {
      if (failure == null) {
        if (!done.already()) {
          LOG.info("session {} erased by {} ({}): {} events and {} snapshots deleted", sessionId, done.record().erasedBy(),
              done.record().reason().wire(), done.record().events(), done.record().snapshots());
        }
        if (replyTo != null) replyTo.tell(done);
        return;
      }
      Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
      SessionMetrics.ERASURE_PURGE_FAILURES.inc();
      LOG.warn("session {} is erased, but deleting its rows failed (finished on the next erase request or start): {}",
          sessionId, cause.toString());
      if (replyTo != null) {
        // The cause stays in the log: it may name the database.
        replyTo.tell(new Refused(ErrorCode.UNAVAILABLE,
            "session " + sessionId + " is erased, but deleting its history failed; ask again to finish"));
      }
    });
  }

  private Refused erasedRefusal() {
    return new Refused(ErrorCode.SESSION_ERASED, "session " + sessionId + " was erased");
  }

  // ---------------------------------------------------------------- subscribers and presence

  private ReplyEffect<SessionEvent, SessionState> subscribe(
      SessionState state, ActorRef<Feed> subscriber, Attach attach, long afterOffset, int maxReplay) {
    Refused refused = subscribers.attach(state, subscriber, attach, afterOffset, maxReplay, clock.instant());
    return refused != null ? Effect().noReply() : connectPresence(state, attach);
  }

  /** A device that presence does not count yet becomes connected (and its participant's grace ends). */
  private ReplyEffect<SessionEvent, SessionState> connectPresence(SessionState state, Attach attach) {
    return applyPresence(state, presenceRules.attached(state, subscribers.attachments(), attach), true);
  }

  /** Starts and cancels what the rules asked for, then persists their events (if any). */
  private ReplyEffect<SessionEvent, SessionState> applyPresence(SessionState state, PresenceRules.Decision decision, boolean autoJoin) {
    applyTimers(decision.timers());
    return decision.events().isEmpty() ? Effect().noReply() : persist(state, decision.events(), null, null, autoJoin);
  }

  private void applyTimers(List<PresenceRules.TimerRequest> requests) {
    for (PresenceRules.TimerRequest request : requests) {
      if (request instanceof PresenceRules.TimerRequest.StartGrace g) {
        timers.startSingleTimer(graceKey(g.participantId()), new GraceExpired(g.participantId()), g.after());
      } else if (request instanceof PresenceRules.TimerRequest.CancelGrace c) {
        timers.cancel(graceKey(c.participantId()));
      } else if (request instanceof PresenceRules.TimerRequest.StartReattachCheck r) {
        timers.startSingleTimer(ReattachCheck.INSTANCE, r.after());
      } else {
        throw new IllegalStateException("unknown timer request " + request);
      }
    }
  }

  private ReplyEffect<SessionEvent, SessionState> acknowledge(SessionState state, SessionCommand.Acknowledge cmd) {
    Attachment known = subscribers.get(cmd.subscriber());
    if (known == null || cmd.offset() <= known.acked() || cmd.offset() > state.head()) return Effect().noReply();
    Attachment acked = known.acknowledged(cmd.offset(), cmd.at());
    subscribers.update(cmd.subscriber(), acked);
    List<EventAt> receipt = presenceRules.receiptIfDue(state, acked, false);
    return receipt.isEmpty() ? Effect().noReply() : persist(state, receipt, null, null, false);
  }

  private ReplyEffect<SessionEvent, SessionState> keepAlive(SessionState state, KeepAlive cmd) {
    Attachment known = subscribers.get(cmd.subscriber());
    if (known != null) {
      subscribers.update(cmd.subscriber(), known.renewed(cmd.lastActivity(), cmd.deliveredOffset()));
      return Effect().noReply();
    }
    return subscribe(state, cmd.subscriber(), cmd.attach(), cmd.deliveredOffset(), cmd.maxReplay());
  }

  /** A subscriber went away: presence decides whether its device, and then its participant, are gone. */
  private ReplyEffect<SessionEvent, SessionState> detach(SessionState state, ActorRef<Feed> subscriber, String reason) {
    Attachment gone = subscribers.remove(subscriber);
    if (gone == null) return Effect().noReply();
    return applyPresence(state, presenceRules.detached(state, subscribers.attachments(), gone, reason, clock.instant()), false);
  }

  private ReplyEffect<SessionEvent, SessionState> stallCheck(SessionState state, StallCheck cmd) {
    String agent = state.streamOwner(cmd.messageId());
    if (agent == null || state.stalled().containsKey(cmd.messageId())) return Effect().noReply();
    long silent = settings.stallAfter().toMillis();
    return persist(state, List.of((o, at) -> new SessionEvent.AgentStalled(o, Participant.SESSION, at, null, agent, cmd.messageId(), silent)),
        null, null, false);
  }

  private ReplyEffect<SessionEvent, SessionState> refuseSubscriber(ActorRef<Feed> subscriber, Refused refused) {
    subscriber.tell(refused);
    return Effect().noReply();
  }

  /** Everything that follows a confirmed write: delivery, stall timers, the queue index, the lifecycle listener. */
  private void afterWrite(SessionState state, List<SessionEvent> events) {
    SessionMetrics.EVENTS_PERSISTED.inc(events.size());
    for (SessionEvent e : events) {
      if (e instanceof SessionEvent.MessagePosted m && m.by().role() == Role.USER) turnOpenedAt = m.offset();
    }
    reportNeed(state, false);
    for (SessionEvent e : events) if (e instanceof SessionEvent.StreamDelta) SessionMetrics.DELTA_EVENTS.inc();
    subscribers.publish(state, events);
    for (SessionEvent e : events) {
      if (e instanceof SessionEvent.StreamStarted s) armStallCheck(s.messageId());
      else if (e instanceof SessionEvent.StreamDelta d) armStallCheck(d.messageId());
      else if (e instanceof SessionEvent.StreamEnded x) timers.cancel(stallKey(x.messageId()));
      else if (e instanceof SessionEvent.SessionCreated && lifecycle != null) {
        lifecycle.tell(new SessionLifecycle.Active(sessionId, true));
      } else if (queues != null) {
        if (e instanceof SessionEvent.SessionQueued q) {
          queues.tell(new QueueDirectory.Enqueue(sessionId, q.queue(), q.at(), q.note()));
        } else if (e instanceof SessionEvent.TransferRequested t && t.invited().queue() != null) {
          // a warm transfer to a queue waits there too, for whoever accepts first
          queues.tell(new QueueDirectory.Enqueue(sessionId, t.invited().queue(), t.at(), t.note()));
        } else if (e instanceof SessionEvent.SessionClaimed || e instanceof SessionEvent.ControlHandedBack
            || e instanceof SessionEvent.SessionClosed || e instanceof SessionEvent.TransferAccepted
            || e instanceof SessionEvent.TransferCancelled) {
          queues.tell(new QueueDirectory.Remove(sessionId));
        }
      }
    }
  }

  /** Tells the dispatcher what this session needs of its pool, if that changed (or always, if {@code again}). */
  private void reportNeed(SessionState state, boolean again) {
    if (dispatcher == null || !state.created() && !state.erased()) return;
    SessionNeed need = SessionNeed.of(sessionId, state, turnOpenedAt);
    if (!again && need.equals(reportedNeed)) return;
    reportedNeed = need;
    dispatcher.tell(new Dispatcher.Report(need));
  }

  private void armStallCheck(String messageId) {
    timers.startSingleTimer(stallKey(messageId), new StallCheck(messageId), settings.stallAfter());
  }

  private static String stallKey(String messageId) {
    return "stall-" + messageId;
  }

  private static String graceKey(String participantId) {
    return "grace-" + participantId;
  }

  private static void answer(DeltaCoalescer.Drained drained) {
    long offset = drained.event().offset();
    for (DeltaCoalescer.Ack ack : drained.acks()) ack.replyTo().tell(new Accepted(offset, ack.seq(), ack.duplicate()));
  }

  private SummaryReply summary(SessionState s) {
    List<SummaryReply.ParticipantView> views = new ArrayList<>();
    for (Participant p : s.participants().values()) {
      List<SummaryReply.DeviceView> devices = subscribers.devicesOf(p.id());
      views.add(new SummaryReply.ParticipantView(p, s.presenceOf(p.id()), devices, s.agentStatus().get(p.id())));
    }
    return new SummaryReply.Summary(sessionId, s.head(), s.createdAt(), s.createdBy(), views,
        List.copyOf(s.openStreams().keySet()), s.stalled(), s.control(), s.latestNote(), SummaryReply.PendingApproval.of(s.approvals()),
        subscribers.size(), s.pool(), SummaryReply.LeaseView.of(s.assignment()));
  }

  // ---------------------------------------------------------------- events

  @Override
  public EventHandler<SessionState, SessionEvent> eventHandler() {
    return newEventHandlerBuilder()
        .forAnyState()
        .onAnyEvent((state, event) -> {
          // The tail is a cache of the log, filled on replay and on write alike; erasure empties it.
          if (event instanceof SessionErased) recent.clear();
          else recent.add(event);
          return state.apply(event, settings.producerWindow());
        });
  }

  // ---------------------------------------------------------------- journal outage

  /** The write that failed: whoever waits for it is told, including every producer sequence of held deltas it carried. */
  private static void refuseWrite(ActorRef<Outcome> replyTo, DeltaCoalescer.Drained drained) {
    Refused unavailable = new Refused(ErrorCode.UNAVAILABLE, JournalGuard.UNAVAILABLE);
    if (replyTo != null) replyTo.tell(unavailable);
    if (drained != null) for (DeltaCoalescer.Ack ack : drained.acks()) ack.replyTo().tell(unavailable);
  }

  /**
   * While the journal is down: requests are answered unavailable; renewals a follower repeats
   * every keep-alive interval are dropped (the first one after recovery subscribes again);
   * goodbyes and the entity's own timers wait for the recovery, so what they record is not lost.
   */
  private boolean refuseWhileJournalDown(SessionCommand command) {
    Refused unavailable = new Refused(ErrorCode.UNAVAILABLE, JournalGuard.UNAVAILABLE);
    if (command instanceof Create c) c.replyTo().tell(unavailable);
    else if (command instanceof Join c) c.replyTo().tell(unavailable);
    else if (command instanceof Leave c) c.replyTo().tell(unavailable);
    else if (command instanceof Append c) c.replyTo().tell(unavailable);
    else if (command instanceof ChangeControl c) c.replyTo().tell(unavailable);
    else if (command instanceof SessionCommand.Assign c) c.replyTo().tell(unavailable);
    else if (command instanceof SessionCommand.EndLease c) c.replyTo().tell(unavailable);
    else if (command instanceof SessionCommand.RecordWebhookFailure c) c.replyTo().tell(unavailable);
    else if (command instanceof GetSummary c) c.replyTo().tell(unavailable);
    else if (command instanceof SessionCommand.GetState c) c.replyTo().tell(unavailable);
    else if (command instanceof Subscribe || command instanceof KeepAlive || command instanceof SessionCommand.Acknowledge) {
      return true;
    } else if (command instanceof Unsubscribe || command instanceof SubscriberTerminated || command instanceof Passivate
        || command instanceof FlushDeltas || command instanceof GraceExpired || command instanceof StallCheck
        || command instanceof ReattachCheck) {
      return false;
    } else {
      throw new IllegalStateException("unhandled command " + command);
    }
    return true;
  }

  private static Refused closedRefusal() {
    return new Refused(ErrorCode.SESSION_CLOSED, "the session is closed");
  }

  private Refused notFound() {
    return new Refused(ErrorCode.SESSION_NOT_FOUND, "no session " + sessionId);
  }
}
