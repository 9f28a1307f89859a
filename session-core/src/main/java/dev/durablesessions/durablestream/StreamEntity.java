package dev.durablesessions.durablestream;

import dev.durablesessions.durablestream.StreamCommand.AcquireFork;
import dev.durablesessions.durablestream.StreamCommand.Append;
import dev.durablesessions.durablestream.StreamCommand.AppendBatch;
import dev.durablesessions.durablestream.StreamCommand.AppendItem;
import dev.durablesessions.durablestream.StreamCommand.BatchReply;
import dev.durablesessions.durablestream.StreamCommand.CheckExpiry;
import dev.durablesessions.durablestream.StreamCommand.Create;
import dev.durablesessions.durablestream.StreamCommand.Delete;
import dev.durablesessions.durablestream.StreamCommand.Describe;
import dev.durablesessions.durablestream.StreamCommand.ForkGrant;
import dev.durablesessions.durablestream.StreamCommand.Passivate;
import dev.durablesessions.durablestream.StreamCommand.Read;
import dev.durablesessions.durablestream.StreamCommand.ReleaseFork;
import dev.durablesessions.durablestream.StreamCommand.WaitTimedOut;
import dev.durablesessions.durablestream.StreamReply.AppendReply;
import dev.durablesessions.durablestream.StreamReply.Conflict;
import dev.durablesessions.durablestream.StreamReply.Gone;
import dev.durablesessions.durablestream.StreamReply.NotFound;
import dev.durablesessions.durablestream.StreamReply.ReadReply;
import dev.durablesessions.durablestream.StreamReply.Unavailable;
import dev.durablesessions.persistence.JournalGuard;
import dev.durablesessions.session.metrics.SessionMetrics;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.JournalPersistFailed;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.RecoveryFailed;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReplyBuilder;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * One Durable Streams stream: a sharded, event-sourced entity on the same journal as sessions.
 * It serializes everything that must be atomic per stream (producer checks, Stream-Seq, close,
 * the append itself, all decided by {@link AppendDecisions}): a request is answered only after
 * its event is committed, and reads waiting at the tail ({@link TailWaiters}) are woken only then.
 *
 * <p>The command handler is built per phase of the path (see {@link StreamState.Life}), so what
 * each phase allows is read off its block: an expired stream is deleted before anything else;
 * an absent path can only be created; a live stream does everything; a soft-deleted one is
 * only read by its forks. A fork holds a reference on its source, released when the fork is
 * deleted or expires; a soft-deleted source goes away with its last fork, and so on up the chain.
 */
public final class StreamEntity
    extends EventSourcedBehaviorWithEnforcedReplies<StreamCommand, StreamEvent, StreamState> {

  public static final EntityTypeKey<StreamCommand> TYPE_KEY = EntityTypeKey.create(StreamCommand.class, "DStream");

  public static void initSharding(ActorSystem<?> system, StreamSettings settings, Clock clock) {
    ClusterSharding.get(system).init(
        Entity.of(TYPE_KEY, ctx -> create(ctx.getEntityId(), settings, clock)).withStopMessage(Passivate.INSTANCE));
  }

  public static Behavior<StreamCommand> create(String name, StreamSettings settings, Clock clock) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      StreamEntity entity = new StreamEntity(name, settings, new Expiry(clock, timers), new TailWaiters(timers), ctx);
      return entity.journal.around(entity, StreamCommand.class);
    }));
  }

  private static final Unavailable UNAVAILABLE = new Unavailable(JournalGuard.UNAVAILABLE);

  private final String name;
  private final StreamSettings settings;
  private final Expiry expiry;
  private final TailWaiters waiters;
  private final ActorContext<StreamCommand> ctx;
  private final JournalGuard<StreamCommand> journal;
  /** Counted in the active-streams gauge: once per actor, however often a journal failure restarts it. */
  private boolean counted;

  private StreamEntity(String name, StreamSettings settings, Expiry expiry, TailWaiters waiters, ActorContext<StreamCommand> ctx) {
    super(PersistenceId.of(TYPE_KEY.name(), name), JournalGuard.restartBackoff(ctx.getSystem().settings().config()));
    this.name = name;
    this.settings = settings;
    this.expiry = expiry;
    this.waiters = waiters;
    this.ctx = ctx;
    this.journal = new JournalGuard<>("stream", name, ctx, this::refuseWhileJournalDown);
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
  public StreamState emptyState() {
    return new StreamState();
  }

  /** A hard delete leaves an empty state: snapshot it so a re-created path does not replay the old one. */
  @Override
  public boolean shouldSnapshot(StreamState state, StreamEvent event, long sequenceNr) {
    return event instanceof StreamEvent.Deleted d && !d.soft();
  }

  @Override
  public SignalHandler<StreamState> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.instance(), state -> {
          if (!counted) SessionMetrics.STREAMS_ACTIVE.inc();
          counted = true;
          journal.recovered();
          expiry.arm(state);
        })
        .onSignal(JournalPersistFailed.class, (state, failed) -> journalFailed("write", failed.getFailure()))
        .onSignal(RecoveryFailed.class, (state, failed) -> journalFailed("recovery", failed.getFailure()))
        .onSignal(PostStop.instance(), state -> {
          journal.stopped();
          if (counted) SessionMetrics.STREAMS_ACTIVE.dec();
          waiters.stopped();
        })
        .build();
  }

  @Override
  public EventHandler<StreamState, StreamEvent> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onAnyEvent(StreamState::apply);
  }

  @Override
  public CommandHandlerWithReply<StreamCommand, StreamEvent, StreamState> commandHandler() {
    CommandHandlerWithReplyBuilder<StreamCommand, StreamEvent, StreamState> builder = newCommandHandlerWithReplyBuilder();
    // Past its deadline: the stream is deleted first, then the request is handled again against what is left.
    builder.forState(expiry::expired)
        .onCommand(Create.class, this::expire)
        .onCommand(Describe.class, this::expire)
        .onCommand(Delete.class, this::expire)
        .onCommand(Read.class, this::expire)
        .onCommand(Append.class, this::expire)
        .onCommand(AppendBatch.class, this::expire)
        .onCommand(AcquireFork.class, this::expire)
        .onCommand(CheckExpiry.class, (s, c) -> expire(s, null));
    builder.forState(StreamState::absent)
        .onCommand(Create.class, this::createStream)
        .onCommand(Describe.class, (s, c) -> Effect().reply(c.replyTo(), NotFound.STREAM))
        .onCommand(Delete.class, (s, c) -> Effect().reply(c.replyTo(), NotFound.STREAM))
        .onCommand(Read.class, (s, c) -> Effect().reply(c.replyTo(), NotFound.STREAM))
        .onCommand(Append.class, (s, c) -> Effect().reply(c.replyTo(), NotFound.STREAM))
        .onCommand(AppendBatch.class, (s, c) -> refuseBatch(c, NotFound.STREAM))
        .onCommand(AcquireFork.class, (s, c) -> Effect().reply(c.replyTo(), new NotFound("source stream not found")));
    builder.forState(StreamState::live)
        .onCommand(Create.class, this::createAgain)
        .onCommand(Describe.class, this::describe)
        .onCommand(Delete.class, this::delete)
        .onCommand(Read.class, this::read)
        .onCommand(Append.class, this::append)
        .onCommand(AppendBatch.class, this::appendBatch)
        .onCommand(AcquireFork.class, this::grantFork);
    builder.forState(StreamState::softDeleted)
        .onCommand(Create.class, (s, c) -> Effect().reply(c.replyTo(), new Conflict(
            "this path was deleted while forks still read it; it cannot be re-created until they are gone")))
        .onCommand(Describe.class, (s, c) -> Effect().reply(c.replyTo(), Gone.STREAM))
        .onCommand(Delete.class, (s, c) -> Effect().reply(c.replyTo(), Gone.STREAM))
        .onCommand(Read.class, (s, c) -> c.allowSoftDeleted() ? read(s, c) : Effect().reply(c.replyTo(), Gone.STREAM))
        .onCommand(Append.class, (s, c) -> Effect().reply(c.replyTo(), Gone.STREAM))
        .onCommand(AppendBatch.class, (s, c) -> refuseBatch(c, Gone.STREAM))
        .onCommand(AcquireFork.class, (s, c) -> Effect().reply(c.replyTo(), new Conflict("source stream is deleted")));
    builder.forAnyState()
        .onCommand(ReleaseFork.class, this::releaseFork)
        .onCommand(WaitTimedOut.class, this::waitTimedOut)
        .onCommand(CheckExpiry.class, (s, c) -> {
          expiry.arm(s); // a deadline beyond the longest timer is checked again then
          return Effect().noReply();
        })
        .onCommand(Passivate.class, this::passivate);
    return builder.build();
  }

  // ---- create, describe, delete ----

  private ReplyEffect<StreamEvent, StreamState> createStream(StreamState s, Create c) {
    long at = expiry.now();
    ForkGrant fork = c.fork();
    StreamConfig config = c.config();
    boolean ownExpiry = config.ttlSeconds() != null || config.expiresAt() != null;
    Long ttl = ownExpiry || fork == null ? config.ttlSeconds() : fork.ttlSeconds();
    Long expiresAt = ownExpiry || fork == null ? config.expiresAt() : fork.expiresAt();
    List<StreamEvent> events = new ArrayList<>(3);
    events.add(new StreamEvent.Created(UUID.randomUUID().toString().substring(0, 8), c.contentType(), ttl, expiresAt,
        false, fork == null ? null : fork.source(), fork == null ? 0 : fork.forkOffset(), config, at));
    if (c.prefix() != null) events.add(appended(c.prefix(), false, at));
    if (c.body() != null) events.add(appended(c.body(), config.closed(), at));
    else if (config.closed()) events.add(new StreamEvent.Closed(null, at));
    journal.writing(() -> c.replyTo().tell(UNAVAILABLE));
    return Effect().persist(events)
        .thenRun(ns -> {
          journal.written();
          expiry.arm(ns);
        })
        .thenReply(c.replyTo(), ns -> new StreamReply.Created(ns.meta()));
  }

  private static StreamEvent.Appended appended(StreamMessage m, boolean close, long at) {
    return new StreamEvent.Appended(m.data(), m.values(), null, null, close, at);
  }

  /** A create of a live path: the same configuration is the idempotent 200, another one a conflict. */
  private ReplyEffect<StreamEvent, StreamState> createAgain(StreamState s, Create c) {
    if (!s.config.sameAs(c.config(), s.contentType)) {
      return Effect().reply(c.replyTo(), new Conflict("a stream exists at this path with a different configuration"));
    }
    expiry.renew(s);
    return Effect().reply(c.replyTo(), new StreamReply.Exists(s.meta()));
  }

  private ReplyEffect<StreamEvent, StreamState> describe(StreamState s, Describe c) {
    if (c.renew()) expiry.renew(s);
    return Effect().reply(c.replyTo(), new StreamReply.Described(s.meta()));
  }

  private ReplyEffect<StreamEvent, StreamState> delete(StreamState s, Delete c) {
    boolean soft = !s.forks.isEmpty();
    String source = s.forkSource;
    journal.writing(() -> c.replyTo().tell(UNAVAILABLE));
    return Effect().persist(new StreamEvent.Deleted(soft, false, expiry.now()))
        .thenRun(ns -> {
          journal.written();
          if (!soft) releaseSource(source);
          wakeWaiters(ns);
        })
        .thenReply(c.replyTo(), ns -> new StreamReply.Deleted());
  }

  // ---- forks ----

  private ReplyEffect<StreamEvent, StreamState> grantFork(StreamState s, AcquireFork c) {
    if (c.contentType() != null && !c.contentType().equals(StreamRules.normalise(s.contentType))) {
      return Effect().reply(c.replyTo(), new Conflict("content type differs from the source's"));
    }
    long offset = c.forkOffset() == null ? s.tail() : c.forkOffset();
    if (offset > s.tail()) return Effect().reply(c.replyTo(), new StreamReply.BadRequest("fork offset is beyond the source's tail"));
    journal.writing(() -> c.replyTo().tell(UNAVAILABLE));
    return Effect().persist(new StreamEvent.ForkAcquired(c.fork()))
        .thenRun(ns -> journal.written())
        .thenReply(c.replyTo(), ns -> new StreamReply.ForkGranted(ns.meta(), offset));
  }

  private ReplyEffect<StreamEvent, StreamState> releaseFork(StreamState s, ReleaseFork c) {
    if (!s.forks.contains(c.fork())) return Effect().noReply();
    List<StreamEvent> events = new ArrayList<>(2);
    events.add(new StreamEvent.ForkReleased(c.fork()));
    boolean gc = s.softDeleted() && s.forks.size() == 1;
    if (gc) events.add(new StreamEvent.Deleted(false, false, expiry.now()));
    String source = s.forkSource;
    return Effect().persist(events).thenRun(ns -> {
      if (gc) releaseSource(source);
    }).thenNoReply();
  }

  private void releaseSource(String source) {
    if (source != null) ClusterSharding.get(ctx.getSystem()).entityRefFor(TYPE_KEY, source).tell(new ReleaseFork(name));
  }

  // ---- append and close ----

  private ReplyEffect<StreamEvent, StreamState> append(StreamState s, Append c) {
    AppendItem item = new AppendItem(c.body(), c.close(), c.contentType(), c.producer(), c.streamSeq());
    return appendAll(s, List.of(item), replies -> c.replyTo().tell(replies.get(0)));
  }

  private ReplyEffect<StreamEvent, StreamState> appendBatch(StreamState s, AppendBatch b) {
    return appendAll(s, b.appends(), replies -> b.replyTo().tell(new BatchReply(replies)));
  }

  private ReplyEffect<StreamEvent, StreamState> refuseBatch(AppendBatch b, AppendReply refusal) {
    b.replyTo().tell(new BatchReply(Collections.nCopies(b.appends().size(), refusal)));
    return Effect().noReply();
  }

  /**
   * Decides each append in order ({@link AppendDecisions}), writes every accepted one in one
   * journal write, and answers all of them after the commit: exactly what sending them one by
   * one would do, with one write instead of many.
   */
  private ReplyEffect<StreamEvent, StreamState> appendAll(StreamState s, List<AppendItem> items, Consumer<List<AppendReply>> answer) {
    long at = expiry.now();
    AppendDecisions decided = AppendDecisions.decide(s, items, at);
    if (decided.events().isEmpty()) {
      expiry.renew(s);
      answer.accept(decided.replies(s));
      return Effect().noReply();
    }
    long started = System.nanoTime();
    journal.writing(() -> answer.accept(decided.repliesUnwritten(UNAVAILABLE)));
    return Effect().persist(decided.events())
        .thenRun(ns -> {
          journal.written();
          SessionMetrics.STREAM_APPEND_LATENCY.observe((System.nanoTime() - started) / 1e9);
          for (StreamEvent e : decided.events()) if (e instanceof StreamEvent.Appended) SessionMetrics.STREAM_APPENDS.inc();
          answer.accept(decided.replies(ns));
          wakeWaiters(ns);
          if (ns.ttlSeconds != null) expiry.arm(ns);
        })
        .thenNoReply();
  }

  // ---- reads ----

  /** A read of a live stream (or of a soft-deleted one, by a fork): answered now, or at the tail with {@code live}, later. */
  private ReplyEffect<StreamEvent, StreamState> read(StreamState s, Read r) {
    if (r.renew()) expiry.renew(s);
    ReadReply reply = s.read(r.from(), r.upTo(), r.maxBytes(), r.allowSoftDeleted());
    if (reply instanceof StreamReply.Page page && page.waitsForMore() && r.waitMillis() > 0 && r.upTo() >= s.tail()) {
      waiters.await(r, s.tail());
      return Effect().noReply();
    }
    return Effect().reply(r.replyTo(), reply);
  }

  /** After an append, close or delete: every waiting read that now has something to say is answered. */
  private void wakeWaiters(StreamState written) {
    waiters.wake(written, read -> expiry.renewFor(written, read));
  }

  private ReplyEffect<StreamEvent, StreamState> waitTimedOut(StreamState s, WaitTimedOut t) {
    Read r = waiters.timedOut(t.waiter());
    if (r != null) {
      expiry.renewFor(s, r);
      r.replyTo().tell(s.read(r.from(), r.upTo(), r.maxBytes(), r.allowSoftDeleted()));
    }
    return Effect().noReply();
  }

  // ---- expiry, passivation ----

  /**
   * The stream expired: delete it (softly when forks read it) and handle {@code retry} again
   * against what is left, so the request sees the stream as gone.
   */
  private ReplyEffect<StreamEvent, StreamState> expire(StreamState s, StreamCommand retry) {
    boolean soft = !s.forks.isEmpty();
    String source = s.forkSource;
    if (retry != null) journal.writing(() -> refuseWhileJournalDown(retry));
    return Effect().persist(new StreamEvent.Deleted(soft, true, expiry.now()))
        .thenRun(ns -> {
          journal.written();
          if (!soft) releaseSource(source);
          wakeWaiters(ns);
          if (retry != null) ctx.getSelf().tell(retry);
        })
        .thenNoReply();
  }

  /** A renewal by reads is written only now, as the stream goes to sleep. */
  private ReplyEffect<StreamEvent, StreamState> passivate(StreamState s, Passivate p) {
    return expiry.unwritten(s)
        .map(touched -> Effect().persist(touched).thenStop().thenNoReply())
        .orElseGet(() -> Effect().stop().thenNoReply());
  }

  // ---- journal outage ----

  /** A write or recovery failed: waiting reads are told now (the restart forgets nothing else they need). */
  private void journalFailed(String phase, Throwable cause) {
    journal.failed(phase, cause);
    waiters.failAll(UNAVAILABLE);
  }

  /** While the journal is down every request is answered unavailable; fork releases and timers wait for the recovery. */
  private boolean refuseWhileJournalDown(StreamCommand command) {
    if (command instanceof Create c) c.replyTo().tell(UNAVAILABLE);
    else if (command instanceof Describe c) c.replyTo().tell(UNAVAILABLE);
    else if (command instanceof Append c) c.replyTo().tell(UNAVAILABLE);
    else if (command instanceof Delete c) c.replyTo().tell(UNAVAILABLE);
    else if (command instanceof Read c) c.replyTo().tell(UNAVAILABLE);
    else if (command instanceof AcquireFork c) c.replyTo().tell(UNAVAILABLE);
    else if (command instanceof AppendBatch c) c.replyTo().tell(new BatchReply(Collections.nCopies(c.appends().size(), UNAVAILABLE)));
    else if (command instanceof ReleaseFork || command instanceof WaitTimedOut || command instanceof CheckExpiry
        || command instanceof Passivate) return false;
    else throw new IllegalStateException("unhandled command " + command);
    return true;
  }
}
