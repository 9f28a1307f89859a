package dev.durablesessions.durablestream;

import dev.durablesessions.persistence.JournalGuard;
import dev.durablesessions.session.metrics.SessionMetrics;
import dev.durablesessions.durablestream.StreamCommand.AcquireFork;
import dev.durablesessions.durablestream.StreamCommand.Append;
import dev.durablesessions.durablestream.StreamCommand.CheckExpiry;
import dev.durablesessions.durablestream.StreamCommand.Create;
import dev.durablesessions.durablestream.StreamCommand.Delete;
import dev.durablesessions.durablestream.StreamCommand.Describe;
import dev.durablesessions.durablestream.StreamCommand.ForkGrant;
import dev.durablesessions.durablestream.StreamCommand.Passivate;
import dev.durablesessions.durablestream.StreamCommand.Read;
import dev.durablesessions.durablestream.StreamCommand.ReleaseFork;
import dev.durablesessions.durablestream.StreamCommand.WaitTimedOut;
import dev.durablesessions.durablestream.StreamEvent.ProducerStamp;
import dev.durablesessions.durablestream.StreamReply.Code;
import dev.durablesessions.durablestream.StreamReply.Meta;
import dev.durablesessions.durablestream.StreamState.Life;
import dev.durablesessions.producer.ProducerRule;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
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
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * One Durable Streams stream: a sharded, event-sourced entity on the same journal as sessions.
 * It serializes everything that must be atomic per stream (producer checks, Stream-Seq, close,
 * the append itself): a request is answered only after its event is committed, and readers
 * waiting at the tail (long-poll, SSE) are woken only then.
 *
 * <p>Expiry is checked lazily on every request and by a timer while the stream is in memory; an
 * expired stream with forks becomes soft-deleted (its data stays readable through them). A fork
 * holds a reference on its source, released when the fork is deleted or expires; a soft-deleted
 * source goes away with its last fork, and so on up the chain.
 */
public final class StreamEntity
    extends EventSourcedBehaviorWithEnforcedReplies<StreamCommand, StreamEvent, StreamState> {

  public static final EntityTypeKey<StreamCommand> TYPE_KEY = EntityTypeKey.create(StreamCommand.class, "DStream");
  private static final String EXPIRY_TIMER = "expiry";

  public static void initSharding(ActorSystem<?> system, StreamSettings settings, Clock clock) {
    ClusterSharding.get(system).init(
        Entity.of(TYPE_KEY, ctx -> create(ctx.getEntityId(), settings, clock)).withStopMessage(Passivate.INSTANCE));
  }

  public static Behavior<StreamCommand> create(String name, StreamSettings settings, Clock clock) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      StreamEntity entity = new StreamEntity(name, settings, clock, ctx, timers);
      return entity.journal.around(entity, StreamCommand.class);
    }));
  }

  private final String name;
  private final StreamSettings settings;
  private final Clock clock;
  private final ActorContext<StreamCommand> ctx;
  private final TimerScheduler<StreamCommand> timers;
  /** Reads waiting at the tail for an append or close (long-poll and SSE), by id. */
  private final Map<Long, Read> waiters = new LinkedHashMap<>();
  private long nextWaiter;
  private long persistedAccess;
  private final JournalGuard<StreamCommand> journal;
  /** Counted in the active-streams gauge: once per actor, however often a journal failure restarts it. */
  private boolean counted;

  private StreamEntity(String name, StreamSettings settings, Clock clock, ActorContext<StreamCommand> ctx,
      TimerScheduler<StreamCommand> timers) {
    super(PersistenceId.of(TYPE_KEY.name(), name), JournalGuard.restartBackoff(ctx.getSystem().settings().config()));
    this.name = name;
    this.settings = settings;
    this.clock = clock;
    this.ctx = ctx;
    this.timers = timers;
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
          persistedAccess = state.lastAccess;
          armExpiry(state);
        })
        .onSignal(JournalPersistFailed.class, (state, failed) -> journalFailed("write", failed.getFailure()))
        .onSignal(RecoveryFailed.class, (state, failed) -> journalFailed("recovery", failed.getFailure()))
        .onSignal(org.apache.pekko.actor.typed.PostStop.instance(), state -> {
          journal.stopped();
          if (counted) SessionMetrics.STREAMS_ACTIVE.dec();
          SessionMetrics.STREAM_WAITING_READS.dec(waiters.size());
        })
        .build();
  }

  @Override
  public EventHandler<StreamState, StreamEvent> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onAnyEvent(StreamState::apply);
  }

  @Override
  public CommandHandlerWithReply<StreamCommand, StreamEvent, StreamState> commandHandler() {
    return newCommandHandlerWithReplyBuilder().forAnyState()
        .onCommand(Create.class, this::onCreate)
        .onCommand(Describe.class, this::onDescribe)
        .onCommand(Append.class, this::onAppend)
        .onCommand(StreamCommand.AppendBatch.class, this::onAppendBatch)
        .onCommand(Delete.class, this::onDelete)
        .onCommand(Read.class, this::onRead)
        .onCommand(AcquireFork.class, this::onAcquireFork)
        .onCommand(ReleaseFork.class, this::onReleaseFork)
        .onCommand(WaitTimedOut.class, this::onWaitTimedOut)
        .onCommand(CheckExpiry.class, (s, c) -> {
          if (s.expired(now())) return expire(s, null);
          armExpiry(s); // a deadline beyond the longest timer is checked again then
          return Effect().noReply();
        })
        .onCommand(Passivate.class, this::onPassivate)
        .build();
  }

  // ---- create, describe, delete ----

  private ReplyEffect<StreamEvent, StreamState> onCreate(StreamState s, Create c) {
    if (s.expired(now())) return expire(s, c);
    if (s.life() == Life.LIVE) {
      boolean same = s.config.sameAs(c.config(), s.contentType);
      if (same) renew(s);
      return Effect().reply(c.replyTo(), StreamReply.of(same ? Code.OK : Code.CONFLICT,
          same ? null : "a stream exists at this path with a different configuration", meta(s)));
    }
    if (s.life() == Life.SOFT_DELETED) {
      return Effect().reply(c.replyTo(), StreamReply.of(Code.CONFLICT,
          "this path was deleted while forks still read it; it cannot be re-created until they are gone", null));
    }
    long at = now();
    ForkGrant fork = c.fork();
    StreamConfig config = c.config();
    boolean ownExpiry = config.ttlSeconds() != null || config.expiresAt() != null;
    Long ttl = ownExpiry || fork == null ? config.ttlSeconds() : fork.ttlSeconds();
    Long expiresAt = ownExpiry || fork == null ? config.expiresAt() : fork.expiresAt();
    List<StreamEvent> events = new ArrayList<>(3);
    events.add(new StreamEvent.Created(UUID.randomUUID().toString().substring(0, 8), c.contentType(), ttl, expiresAt,
        false, fork == null ? null : fork.source(), fork == null ? 0 : fork.forkOffset(), config, at));
    if (c.prefix() != null) events.add(appended(c.prefix(), null, null, false, at));
    if (c.body() != null) events.add(appended(c.body(), null, null, config.closed(), at));
    else if (config.closed()) events.add(new StreamEvent.Closed(null, at));
    journal.writing(() -> c.replyTo().tell(StreamReply.unavailable(JournalGuard.UNAVAILABLE)));
    return Effect().persist(events)
        .thenRun(ns -> {
          journal.written();
          armExpiry(ns);
        })
        .thenReply(c.replyTo(), ns -> StreamReply.of(Code.CREATED, null, meta(ns)));
  }

  private ReplyEffect<StreamEvent, StreamState> onDescribe(StreamState s, Describe c) {
    if (s.expired(now())) return expire(s, c);
    if (s.life() != Life.LIVE) return Effect().reply(c.replyTo(), missingReply(s));
    if (c.renew()) renew(s);
    return Effect().reply(c.replyTo(), StreamReply.of(Code.OK, null, meta(s)));
  }

  private ReplyEffect<StreamEvent, StreamState> onDelete(StreamState s, Delete c) {
    if (s.expired(now())) return expire(s, c);
    if (s.life() != Life.LIVE) return Effect().reply(c.replyTo(), missingReply(s));
    boolean soft = !s.forks.isEmpty();
    String source = s.forkSource;
    journal.writing(() -> c.replyTo().tell(StreamReply.unavailable(JournalGuard.UNAVAILABLE)));
    return Effect().persist(new StreamEvent.Deleted(soft, false, now()))
        .thenRun(ns -> {
          journal.written();
          if (!soft) releaseSource(source);
          wakeWaiters(ns);
        })
        .thenReply(c.replyTo(), ns -> StreamReply.of(Code.OK, null, null));
  }

  private static StreamReply missingReply(StreamState s) {
    return s.life() == Life.SOFT_DELETED
        ? StreamReply.of(Code.GONE, "stream deleted (forks still read it)", null)
        : StreamReply.of(Code.NOT_FOUND, "stream not found", null);
  }

  // ---- forks ----

  private ReplyEffect<StreamEvent, StreamState> onAcquireFork(StreamState s, AcquireFork c) {
    if (s.expired(now())) return expire(s, c);
    if (s.life() == Life.ABSENT) return Effect().reply(c.replyTo(), StreamReply.of(Code.NOT_FOUND, "source stream not found", null));
    if (s.life() == Life.SOFT_DELETED) {
      return Effect().reply(c.replyTo(), StreamReply.of(Code.CONFLICT, "source stream is deleted", null));
    }
    if (c.contentType() != null && !c.contentType().equals(StreamRules.normalise(s.contentType))) {
      return Effect().reply(c.replyTo(), StreamReply.of(Code.CONFLICT, "content type differs from the source's", meta(s)));
    }
    long offset = c.forkOffset() == null ? s.tail() : c.forkOffset();
    if (offset > s.tail()) {
      return Effect().reply(c.replyTo(), StreamReply.of(Code.BAD_REQUEST, "fork offset is beyond the source's tail", meta(s)));
    }
    journal.writing(() -> c.replyTo().tell(StreamReply.unavailable(JournalGuard.UNAVAILABLE)));
    return Effect().persist(new StreamEvent.ForkAcquired(c.fork()))
        .thenRun(ns -> journal.written())
        .thenReply(c.replyTo(), ns -> new StreamReply(Code.OK, null, meta(ns), List.of(), 0, offset, false, null, 0, 0, 0, 0, 0));
  }

  private ReplyEffect<StreamEvent, StreamState> onReleaseFork(StreamState s, ReleaseFork c) {
    if (!s.forks.contains(c.fork())) return Effect().noReply();
    List<StreamEvent> events = new ArrayList<>(2);
    events.add(new StreamEvent.ForkReleased(c.fork()));
    boolean gc = s.life() == Life.SOFT_DELETED && s.forks.size() == 1;
    if (gc) events.add(new StreamEvent.Deleted(false, false, now()));
    String source = s.forkSource;
    return Effect().persist(events).thenRun(ns -> {
      if (gc) releaseSource(source);
    }).thenNoReply();
  }

  private void releaseSource(String source) {
    if (source != null) ClusterSharding.get(ctx.getSystem()).entityRefFor(TYPE_KEY, source).tell(new ReleaseFork(name));
  }

  // ---- append and close ----

  private ReplyEffect<StreamEvent, StreamState> onAppend(StreamState s, Append c) {
    StreamCommand.AppendItem item = new StreamCommand.AppendItem(c.body(), c.close(), c.contentType(), c.producer(), c.streamSeq());
    return appendAll(s, c, List.of(item), replies -> c.replyTo().tell(replies.get(0)));
  }

  private ReplyEffect<StreamEvent, StreamState> onAppendBatch(StreamState s, StreamCommand.AppendBatch b) {
    return appendAll(s, b, b.appends(), replies -> b.replyTo().tell(new StreamCommand.BatchReply(replies)));
  }

  /**
   * Decides each append in order against the stream as the appends before it leave it (not yet
   * written), writes every accepted one in one journal write, and answers all of them after
   * the commit: exactly what sending them one by one would do, with one write instead of many.
   */
  private ReplyEffect<StreamEvent, StreamState> appendAll(StreamState s, StreamCommand command,
      List<StreamCommand.AppendItem> items, java.util.function.Consumer<List<StreamReply>> answer) {
    long at = now();
    if (s.expired(at)) return expire(s, command);
    if (s.life() != Life.LIVE) {
      StreamReply missing = missingReply(s);
      List<StreamReply> replies = new ArrayList<>(items.size());
      for (int i = 0; i < items.size(); i++) replies.add(missing);
      answer.accept(replies);
      return Effect().noReply();
    }
    Draft draft = new Draft(s);
    List<StreamEvent> events = new ArrayList<>(items.size());
    StreamReply[] replies = new StreamReply[items.size()];
    Decision[] accepted = new Decision[items.size()];
    for (int i = 0; i < items.size(); i++) {
      Object d = decide(draft, items.get(i), at);
      if (d instanceof StreamReply refused) {
        replies[i] = refused;
      } else {
        Decision decision = (Decision) d;
        accepted[i] = decision;
        if (decision.event() != null) events.add(decision.event());
      }
    }
    if (events.isEmpty()) {
      for (int i = 0; i < replies.length; i++) if (replies[i] == null) replies[i] = accepted[i].reply(s);
      renew(s);
      answer.accept(List.of(replies));
      return Effect().noReply();
    }
    long started = System.nanoTime();
    journal.writing(() -> {
      // Refusals decided before the write stand; the appends that were to be written are unavailable.
      StreamReply unavailable = StreamReply.unavailable(JournalGuard.UNAVAILABLE);
      List<StreamReply> answers = new ArrayList<>(replies.length);
      for (StreamReply r : replies) answers.add(r != null ? r : unavailable);
      answer.accept(answers);
    });
    return Effect().persist(events)
        .thenRun(ns -> {
          journal.written();
          SessionMetrics.STREAM_APPEND_LATENCY.observe((System.nanoTime() - started) / 1e9);
          persistedAccess = at;
          for (int i = 0; i < replies.length; i++) {
            if (replies[i] != null) continue;
            if (accepted[i].event() instanceof StreamEvent.Appended) SessionMetrics.STREAM_APPENDS.inc();
            replies[i] = accepted[i].reply(ns);
          }
          answer.accept(List.of(replies));
          wakeWaiters(ns);
          if (ns.ttlSeconds != null) armExpiry(ns);
        })
        .thenNoReply();
  }

  /**
   * The stream as a batch's earlier appends leave it: closed flag, producers, Stream-Seq and
   * tail on top of the committed state (which only the event handler changes).
   */
  private static final class Draft {
    final StreamState committed;
    boolean closed;
    ProducerStamp closedBy;
    String lastStreamSeq;
    long tail;
    final Map<String, ProducerRule.Position> producers = new java.util.HashMap<>(4);

    Draft(StreamState s) {
      committed = s;
      closed = s.closed;
      closedBy = s.closedBy;
      lastStreamSeq = s.lastStreamSeq;
      tail = s.tail();
    }

    ProducerRule.Verdict check(ProducerStamp p) {
      ProducerRule.Position known = producers.containsKey(p.id()) ? producers.get(p.id()) : committed.producer(p.id());
      return ProducerRule.check(known, p.epoch(), p.seq());
    }

    Meta meta() {
      StreamState s = committed;
      return StreamEntity.meta(committed, tail, closed);
    }
  }

  /**
   * An accepted append: its event (null for a repeated close that changes nothing) and how to
   * answer once written: the tail and closed flag right after it, and its producer.
   */
  private record Decision(StreamEvent event, Code code, long tail, boolean closed, ProducerStamp producer) {
    StreamReply reply(StreamState s) {
      Meta m = StreamEntity.meta(s, tail, closed);
      return producer == null ? StreamReply.of(code, null, m) : StreamReply.producer(code, m, producer.epoch(), producer.seq());
    }
  }

  /** The protocol's decision for one append, in its order: a refusal (a reply) or a {@link Decision}. */
  private static Object decide(Draft d, StreamCommand.AppendItem c, long at) {
    ProducerStamp p = c.producer();
    if (d.closed) {
      if (p != null && p.equals(d.closedBy)) return StreamReply.producer(Code.DUPLICATE, d.meta(), p.epoch(), p.seq());
      if (p != null && d.check(p) instanceof ProducerRule.Fenced f) return stale(d.tail, f.currentEpoch());
      if (c.body() == null && p == null) return new Decision(null, Code.APPENDED, d.tail, true, null);
      return StreamReply.of(Code.CLOSED, "stream is closed", d.meta());
    }
    if (c.body() != null && !StreamRules.normalise(d.committed.contentType).equals(c.contentType())) {
      return StreamReply.of(Code.CONFLICT, "content type differs from the stream's", d.meta());
    }
    if (p != null) {
      ProducerRule.Verdict verdict = d.check(p);
      if (verdict instanceof ProducerRule.Repeat r) return StreamReply.producer(Code.DUPLICATE, d.meta(), r.epoch(), r.lastSeq());
      if (verdict instanceof ProducerRule.Fenced f) return stale(d.tail, f.currentEpoch());
      if (verdict instanceof ProducerRule.NewEpochNotAtZero) {
        return StreamReply.of(Code.BAD_REQUEST, "a new producer epoch must start at seq 0", d.meta());
      }
      if (verdict instanceof ProducerRule.Gap g) return StreamReply.gap(d.meta(), g.expected(), g.received());
    }
    if (c.streamSeq() != null && d.lastStreamSeq != null && c.streamSeq().compareTo(d.lastStreamSeq) <= 0) {
      return StreamReply.of(Code.CONFLICT, "Stream-Seq must be greater than the last one (" + d.lastStreamSeq + ")", d.meta());
    }
    StreamEvent event = c.body() == null ? new StreamEvent.Closed(p, at) : appended(c.body(), p, c.streamSeq(), c.close(), at);
    if (p != null) d.producers.put(p.id(), new ProducerRule.Position(p.epoch(), p.seq()));
    if (c.streamSeq() != null && c.body() != null) d.lastStreamSeq = c.streamSeq();
    if (c.body() != null) d.tail++;
    if (c.body() == null || c.close()) {
      d.closed = true;
      d.closedBy = p;
    }
    Code code = p == null || c.body() == null ? Code.APPENDED : Code.PRODUCER_ACCEPTED;
    return new Decision(event, code, d.tail, d.closed, p);
  }

  private static StreamReply stale(long tail, long currentEpoch) {
    return new StreamReply(Code.STALE_EPOCH, "stale producer epoch", null, List.of(), 0, tail, false, null, 0,
        currentEpoch, 0, 0, 0);
  }

  private static StreamEvent.Appended appended(StreamMessage m, ProducerStamp p, String streamSeq, boolean close, long at) {
    return new StreamEvent.Appended(m.data(), m.values(), p, streamSeq, close, at);
  }

  // ---- reads ----

  private ReplyEffect<StreamEvent, StreamState> onRead(StreamState s, Read r) {
    if (s.expired(now())) return expire(s, r);
    if (r.renew() && s.live()) renew(s);
    StreamReply reply = read(s, r);
    if (reply.code() == Code.OK && reply.messages().isEmpty() && !reply.closedAtTail() && r.waitMillis() > 0
        && r.upTo() >= s.tail()) {
      long id = nextWaiter++;
      Read waiting = new Read(s.tail(), r.upTo(), r.waitMillis(), r.maxBytes(), r.renew(), r.allowSoftDeleted(), r.replyTo());
      waiters.put(id, waiting);
      SessionMetrics.STREAM_WAITING_READS.inc();
      timers.startSingleTimer(id, new WaitTimedOut(id), Duration.ofMillis(r.waitMillis()));
      return Effect().noReply();
    }
    return Effect().reply(r.replyTo(), reply);
  }

  private StreamReply read(StreamState s, Read r) {
    if (s.life() == Life.ABSENT || s.life() == Life.SOFT_DELETED && !r.allowSoftDeleted()) return missingReply(s);
    long tail = s.tail();
    long from = r.from() == StreamOffsets.NOW ? tail : r.from() == StreamOffsets.FROM_START ? 0 : r.from();
    if (from > tail) return StreamReply.of(Code.BAD_REQUEST, "offset is beyond the stream's tail", meta(s));
    long limit = Math.min(r.upTo(), tail);
    if (from < s.forkOffset) return StreamReply.inherit(meta(s), s.forkSource, Math.min(s.forkOffset, limit));
    List<StreamMessage> out = new ArrayList<>();
    int bytes = 0;
    for (long o = from; o < limit; o++) {
      StreamMessage m = s.messages.get((int) (o - s.forkOffset));
      if (!out.isEmpty() && bytes + m.size() > r.maxBytes()) break;
      out.add(m);
      bytes += m.size();
    }
    return StreamReply.read(meta(s), out, from, from + out.size() == tail);
  }

  private ReplyEffect<StreamEvent, StreamState> onWaitTimedOut(StreamState s, WaitTimedOut t) {
    Read r = waiters.remove(t.waiter());
    if (r != null) {
      SessionMetrics.STREAM_WAITING_READS.dec();
      if (r.renew() && s.live()) renew(s);
      r.replyTo().tell(read(s, r));
    }
    return Effect().noReply();
  }

  /** After an append, close or delete: answer every waiting read that now has something to say. */
  private void wakeWaiters(StreamState s) {
    for (Iterator<Map.Entry<Long, Read>> it = waiters.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<Long, Read> w = it.next();
      StreamReply reply = read(s, w.getValue());
      if (reply.code() == Code.OK && reply.messages().isEmpty() && !reply.closedAtTail()) continue;
      timers.cancel(w.getKey());
      if (w.getValue().renew() && s.live()) renew(s);
      w.getValue().replyTo().tell(reply);
      it.remove();
      SessionMetrics.STREAM_WAITING_READS.dec();
    }
  }

  // ---- expiry, TTL renewal, passivation ----

  /**
   * The stream expired: delete it (softly when forks read it) and handle {@code retry} again
   * against what is left, so the request sees the stream as gone.
   */
  private ReplyEffect<StreamEvent, StreamState> expire(StreamState s, StreamCommand retry) {
    boolean soft = !s.forks.isEmpty();
    String source = s.forkSource;
    if (retry != null) journal.writing(() -> refuseWhileJournalDown(retry));
    return Effect().persist(new StreamEvent.Deleted(soft, true, now()))
        .thenRun(ns -> {
          journal.written();
          if (!soft) releaseSource(source);
          wakeWaiters(ns);
          if (retry != null) ctx.getSelf().tell(retry);
        })
        .thenNoReply();
  }

  /**
   * Pekko's scheduler refuses delays beyond about 248 days (and the stream would stop on it), while
   * Stream-TTL and Stream-Expires-At may lie years ahead: a later deadline is re-checked daily.
   */
  private static final Duration LONGEST_EXPIRY_TIMER = Duration.ofDays(1);

  private void armExpiry(StreamState s) {
    if (!s.live() || s.ttlSeconds == null && s.expiresAt == null) {
      timers.cancel(EXPIRY_TIMER);
      return;
    }
    long deadline = Long.MAX_VALUE;
    if (s.expiresAt != null) deadline = s.expiresAt;
    if (s.ttlSeconds != null) deadline = Math.min(deadline, s.lastAccess + s.ttlSeconds * 1000);
    long delay = Math.max(1, deadline - now() + 5);
    timers.startSingleTimer(EXPIRY_TIMER, CheckExpiry.INSTANCE, Duration.ofMillis(Math.min(delay, LONGEST_EXPIRY_TIMER.toMillis())));
  }

  /** Reads and writes renew a sliding TTL; the renewal is written when the stream goes to sleep. */
  private void renew(StreamState s) {
    s.lastAccess = Math.max(s.lastAccess, now());
    if (s.ttlSeconds != null) armExpiry(s);
  }

  private ReplyEffect<StreamEvent, StreamState> onPassivate(StreamState s, Passivate p) {
    if (s.live() && s.ttlSeconds != null && s.lastAccess > persistedAccess) {
      return Effect().persist(new StreamEvent.Touched(s.lastAccess)).thenStop().thenNoReply();
    }
    return Effect().stop().thenNoReply();
  }

  // ---- journal outage ----

  /** A write or recovery failed: waiting reads are told now (the restart forgets nothing else they need). */
  private void journalFailed(String phase, Throwable cause) {
    journal.failed(phase, cause);
    StreamReply unavailable = StreamReply.unavailable(JournalGuard.UNAVAILABLE);
    for (Map.Entry<Long, Read> w : waiters.entrySet()) {
      timers.cancel(w.getKey());
      w.getValue().replyTo().tell(unavailable);
    }
    SessionMetrics.STREAM_WAITING_READS.dec(waiters.size());
    waiters.clear();
  }

  /** While the journal is down every request is answered unavailable; fork releases and timers wait for the recovery. */
  private boolean refuseWhileJournalDown(StreamCommand command) {
    StreamReply unavailable = StreamReply.unavailable(JournalGuard.UNAVAILABLE);
    if (command instanceof Create c) c.replyTo().tell(unavailable);
    else if (command instanceof Describe c) c.replyTo().tell(unavailable);
    else if (command instanceof Append c) c.replyTo().tell(unavailable);
    else if (command instanceof Delete c) c.replyTo().tell(unavailable);
    else if (command instanceof Read c) c.replyTo().tell(unavailable);
    else if (command instanceof AcquireFork c) c.replyTo().tell(unavailable);
    else if (command instanceof StreamCommand.AppendBatch c) {
      c.replyTo().tell(new StreamCommand.BatchReply(java.util.Collections.nCopies(c.appends().size(), unavailable)));
    } else if (command instanceof ReleaseFork || command instanceof WaitTimedOut || command instanceof CheckExpiry
        || command instanceof Passivate) {
      return false;
    } else {
      throw new IllegalStateException("unhandled command " + command);
    }
    return true;
  }

  private static Meta meta(StreamState s) {
    if (s.life() == Life.ABSENT) return null;
    return meta(s, s.tail(), s.closed);
  }

  /** The stream's metadata as it stands after an append not yet applied to {@code s}: its tail and closed flag then. */
  private static Meta meta(StreamState s, long tail, boolean closed) {
    return new Meta(s.incarnation, s.contentType, tail, closed, s.ttlSeconds, s.expiresAt, s.config, s.forkOffset);
  }

  private long now() {
    return clock.millis();
  }
}
