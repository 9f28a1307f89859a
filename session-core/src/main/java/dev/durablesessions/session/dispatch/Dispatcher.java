package dev.durablesessions.session.dispatch;

import dev.durablesessions.CborSerializable;
import dev.durablesessions.session.ErrorCode;
import dev.durablesessions.session.Outcome;
import dev.durablesessions.session.SessionCommand;
import dev.durablesessions.session.SessionEntity;
import dev.durablesessions.session.SessionPatterns;
import dev.durablesessions.session.metrics.DispatchMetrics;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.SingletonActor;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * Gives sessions that need an agent to the workers of their pool: one event-sourced cluster
 * singleton. Sessions report their {@link SessionNeed} after every change; workers (their
 * sockets, and the built-in demo agent) register with their pool and capacity and renew their
 * leases by heartbeats. The dispatcher places each waiting session on the worker with most room
 * (never past its capacity), asks the session for the lease (compare and set on the epoch, so
 * the session, not this index, decides), and tells the worker. A worker not heard from for its
 * pool's lease timeout loses its leases: the session writes {@code agent.failover} and waits
 * again, and the next worker takes it.
 *
 * <p>Recorded here: which sessions wait and which leases it gave, each lease recorded before the
 * session is asked, so after a crash or a move the new incarnation knows every lease that may
 * exist and ends those no live worker claims within the lease timeout. Workers are not recorded:
 * they renew every heartbeat, so a new incarnation learns them within one heartbeat interval.
 */
public final class Dispatcher extends EventSourcedBehavior<Dispatcher.Command, Dispatcher.Event, Dispatcher.State> {

  // ---------------------------------------------------------------- protocol

  public sealed interface Command extends CborSerializable {}

  /** A session's need, after each change of it. */
  public record Report(SessionNeed need) implements Command {}

  /**
   * A worker is there: on its hello ({@code hello}: {@code holding} is all it still works on;
   * its other leases end now), and on every heartbeat ({@code holding} renews those leases).
   *
   * @param worker the worker's ID (unique: one per worker process)
   * @param agent the participant ID it joins sessions as
   * @param sessions the session patterns of its token: it is given only sessions they cover
   */
  public record WorkerUp(String worker, String agent, String pool, int capacity, List<String> sessions,
      Map<String, Long> holding, boolean hello, ActorRef<ToWorker> ref) implements Command {}

  /** The worker's connection ended: it gets nothing new; its leases end unless it comes back in time. */
  public record WorkerDown(String worker, ActorRef<ToWorker> ref) implements Command {}

  /** The worker lets go of a session. */
  public record Release(String worker, String sessionId, long lease, String reason) implements Command {}

  public record GetListing(ActorRef<Listing> replyTo) implements Command {}

  private enum Tick implements Command { INSTANCE }

  private enum Place implements Command { INSTANCE }

  private record AssignAnswered(String sessionId, long epoch, Outcome outcome, Throwable failure) implements Command {}

  private record EndAnswered(String sessionId, long epoch, String ending, String reason, Outcome outcome, Throwable failure)
      implements Command {}

  /** What the dispatcher tells a worker's connection. */
  public sealed interface ToWorker extends CborSerializable {}

  public record Welcome(String worker, String pool, int capacity, long leaseTimeoutMs, long heartbeatIntervalMs,
      Map<String, Long> kept, Map<String, Long> lost) implements ToWorker {}

  /** A new lease; {@code offset} is the session's {@code agent.assigned} event. */
  public record Assigned(String sessionId, long lease, String reason, long offset) implements ToWorker {}

  public record Revoked(String sessionId, long lease, String reason) implements ToWorker {}

  public record Released(String sessionId, long lease) implements ToWorker {}

  public record ReleaseRefused(String sessionId, long lease, String code, String message) implements ToWorker {}

  /** The same worker registered from another connection: this one should close. */
  public record Replaced(String worker) implements ToWorker {}

  // ---------------------------------------------------------------- listing

  public record Listing(List<PoolView> pools) implements CborSerializable {}

  public record PoolView(String name, String mode, long leaseTimeoutMs, long heartbeatIntervalMs, List<WorkerView> workers,
      List<WaitingView> waiting) implements CborSerializable {}

  public record WorkerView(String worker, int capacity, int holding, Instant lastSeen, boolean connected) implements CborSerializable {}

  public record WaitingView(String sessionId, Instant since, String reason) implements CborSerializable {}

  // ---------------------------------------------------------------- events and state

  public sealed interface Event extends CborSerializable {}

  /** The session waits for an agent; an assignment must expect lease {@code epoch}. */
  public record Waiting(String sessionId, String pool, Instant since, String reason, long epoch) implements Event {}

  /** Lease {@code epoch} given to {@code worker}: recorded before the session is asked. */
  public record Placed(String sessionId, String pool, String worker, String agent, long epoch, String reason, Instant at)
      implements Event {}

  /** The session no longer waits (an agent, a human or nobody answers it now). */
  public record NotWaiting(String sessionId) implements Event {}

  /** Lease {@code epoch} of the session ended (or was never taken). */
  public record LeaseGone(String sessionId, long epoch) implements Event {}

  /** The webhook of the session's pool was asked to answer the need {@code key}. */
  public record WebhookAsked(String sessionId, String key) implements Event {}

  public record WaitingEntry(String sessionId, String pool, Instant since, String reason, long epoch) implements CborSerializable {}

  public record Lease(String sessionId, String pool, String worker, String agent, long epoch, String reason, Instant since)
      implements CborSerializable {}

  public record State(Map<String, WaitingEntry> waiting, Map<String, Lease> leases, Map<String, String> asked)
      implements CborSerializable {

    static State empty() {
      return new State(Map.of(), Map.of(), Map.of());
    }

    State apply(Event event) {
      if (event instanceof Waiting w) {
        return new State(put(waiting, w.sessionId(), new WaitingEntry(w.sessionId(), w.pool(), w.since(), w.reason(), w.epoch())),
            leases, asked);
      } else if (event instanceof Placed p) {
        return new State(remove(waiting, p.sessionId()),
            put(leases, p.sessionId(), new Lease(p.sessionId(), p.pool(), p.worker(), p.agent(), p.epoch(), p.reason(), p.at())), asked);
      } else if (event instanceof NotWaiting n) {
        return new State(remove(waiting, n.sessionId()), leases, remove(asked, n.sessionId()));
      } else if (event instanceof LeaseGone g) {
        Lease lease = leases.get(g.sessionId());
        return lease != null && lease.epoch() == g.epoch() ? new State(waiting, remove(leases, g.sessionId()), asked) : this;
      } else if (event instanceof WebhookAsked a) {
        return new State(waiting, leases, put(asked, a.sessionId(), a.key()));
      }
      throw new IllegalStateException("unhandled event " + event);
    }

    int holding(String worker) {
      int n = 0;
      for (Lease l : leases.values()) if (l.worker().equals(worker)) n++;
      return n;
    }

    private static <V> Map<String, V> put(Map<String, V> map, String key, V value) {
      LinkedHashMap<String, V> copy = new LinkedHashMap<>(map);
      copy.put(key, value);
      return Collections.unmodifiableMap(copy);
    }

    private static <V> Map<String, V> remove(Map<String, V> map, String key) {
      if (!map.containsKey(key)) return map;
      LinkedHashMap<String, V> copy = new LinkedHashMap<>(map);
      copy.remove(key);
      return Collections.unmodifiableMap(copy);
    }
  }

  // ---------------------------------------------------------------- start

  /** Starts (or finds) the dispatcher singleton on this node and returns its proxy. */
  public static ActorRef<Command> init(ActorSystem<?> system, Pools pools, ActorRef<WebhookCall> webhooks) {
    Behavior<Command> behavior = Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new Dispatcher(
        ctx, timers, pools, webhooks, Clock.systemUTC(),
        dev.durablesessions.persistence.JournalGuard.restartBackoff(system.settings().config()).withLoggingEnabled(true))));
    return ClusterSingleton.get(system).init(SingletonActor.of(
        Behaviors.supervise(behavior)
            .onFailure(SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.2)),
        "agent-dispatcher"));
  }

  /** The proxy only (no pools needed): what sessions report to. */
  public static ActorRef<Command> proxy(ActorSystem<?> system) {
    return init(system, Pools.fromConfig(system.settings().config()), null);
  }

  private static final Duration TICK = Duration.ofMillis(200);
  /**
   * Of a gap between two ticks longer than the tick, only this much more counts against leases:
   * a longer one means this actor did not run (a GC pause, a starved CPU, a slow journal write
   * it waited on), and the heartbeats that arrived meanwhile are still queued behind the tick.
   */
  static final Duration LONGEST_COUNTED_LATENESS = Duration.ofMillis(300);
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Dispatcher.class);

  private final ActorContext<Command> ctx;
  private final Pools pools;
  private final ActorRef<WebhookCall> webhooks;
  private final Clock clock;
  private final ClusterSharding sharding;
  private final Duration askTimeout;

  /** Soft state, rebuilt within one heartbeat interval after a restart or a move. */
  private final Map<String, WorkerEntry> workers = new HashMap<>();
  /** When each lease was last renewed (by its worker's heartbeat, its assignment or this incarnation's start). */
  private final Map<String, Instant> renewed = new HashMap<>();
  /** Sessions with a question out (assign or end): nothing else is asked of them until it is answered. */
  private final Set<String> asking = new HashSet<>();
  /** Leases whose end was asked for, by session: the answer tells their worker (released, or revoked with the reason). */
  private final Map<String, Lease> ending = new HashMap<>();
  private Instant startedAt;
  private Instant lastTick;
  private boolean placeQueued;

  private record WorkerEntry(String worker, String agent, String pool, int capacity, List<String> sessions, ActorRef<ToWorker> ref,
      Instant lastSeen, boolean connected) {}

  private Dispatcher(
      ActorContext<Command> ctx, TimerScheduler<Command> timers, Pools pools, ActorRef<WebhookCall> webhooks, Clock clock,
      org.apache.pekko.actor.typed.BackoffSupervisorStrategy onJournalFailure) {
    super(PersistenceId.ofUniqueId(ctx.getSystem().settings().config().getString("durable-sessions.dispatch.persistence-id")),
        onJournalFailure);
    this.ctx = ctx;
    this.pools = pools;
    this.webhooks = webhooks;
    this.clock = clock;
    this.sharding = ClusterSharding.get(ctx.getSystem());
    this.askTimeout = ctx.getSystem().settings().config().getDuration("durable-sessions.dispatch.ask-timeout");
    timers.startTimerWithFixedDelay(Tick.INSTANCE, TICK);
  }

  @Override
  public State emptyState() {
    return State.empty();
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(500, 2);
  }

  @Override
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.instance(), state -> {
          startedAt = clock.instant();
          // Leases recorded by an earlier incarnation are renewed from now: their workers have a
          // whole lease timeout to say they still hold them.
          for (String s : state.leases().keySet()) renewed.put(s, startedAt);
          exportGauges(state);
          schedulePlace();
        })
        .build();
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onAnyEvent(State::apply);
  }

  @Override
  public CommandHandler<Command, Event, State> commandHandler() {
    return newCommandHandlerBuilder()
        .forAnyState()
        .onCommand(Report.class, this::report)
        .onCommand(WorkerUp.class, this::workerUp)
        .onCommand(WorkerDown.class, this::workerDown)
        .onCommand(Release.class, this::release)
        .onCommand(GetListing.class, (state, c) -> {
          c.replyTo().tell(listing(state));
          return Effect().none();
        })
        .onCommand(Tick.class, this::tick)
        .onCommand(Place.class, this::place)
        .onCommand(AssignAnswered.class, this::assignAnswered)
        .onCommand(EndAnswered.class, this::endAnswered)
        .build();
  }

  // ---------------------------------------------------------------- sessions

  private Effect<Event, State> report(State state, Report r) {
    SessionNeed need = r.need();
    String s = need.sessionId();
    Pool pool = pools.of(need.pool());
    List<Event> events = new ArrayList<>();
    Lease lease = state.leases().get(s);
    // A lease the session no longer has (it ended there, or the session closed): forget it, tell its worker.
    // (A lease being asked for has an epoch above what the session reports until it takes it.)
    boolean leaseEnded = lease != null && switch (need.kind()) {
      case ENDED -> true;
      case LEASED -> need.epoch() > lease.epoch();
      case WAITING, IDLE -> need.epoch() >= lease.epoch();
    };
    if (leaseEnded) {
      events.add(new LeaseGone(s, lease.epoch()));
      String why = need.kind() == SessionNeed.Kind.ENDED ? "session_closed" : "lease_ended";
      // An end this dispatcher asked for is told to the worker with its answer (released, or the reason).
      if (!ending.containsKey(s)) {
        tellWorker(lease.worker(), new Revoked(s, lease.epoch(), why));
        DispatchMetrics.LEASE_ENDS.labelValues(lease.pool(), need.kind() == SessionNeed.Kind.ENDED ? "session_ended" : "ended").inc();
      }
    }
    boolean waits = need.kind() == SessionNeed.Kind.WAITING && pool != null && pool.mode() == Pool.Mode.WORKERS
        && (lease == null || leaseEnded);
    WaitingEntry entry = state.waiting().get(s);
    if (waits) {
      if (entry == null || entry.epoch() != need.epoch() || !entry.reason().equals(need.reason())) {
        events.add(new Waiting(s, pool.name(), entry == null ? clock.instant() : entry.since(), need.reason(), need.epoch()));
      }
    } else if (entry != null) {
      events.add(new NotWaiting(s));
    } else if (need.kind() == SessionNeed.Kind.ENDED && state.asked().containsKey(s)) {
      events.add(new NotWaiting(s));
    }
    WebhookCall call = null;
    if (pool != null && pool.mode() != Pool.Mode.WORKERS && need.kind() == SessionNeed.Kind.WAITING && need.turnKey() != null
        && !need.turnKey().equals(state.asked().get(s))) {
      events.add(new WebhookAsked(s, need.turnKey()));
      call = new WebhookCall(s, pool.name(), need.fromOffset(), need.turnKey(), need.reason());
    }
    if (pool == null && need.kind() == SessionNeed.Kind.WAITING) {
      LOG.warn("session {} is in pool {}, which this node does not have; it waits for an agent until the pool is configured",
          s, need.pool());
    }
    if (events.isEmpty()) return Effect().none();
    WebhookCall asked = call;
    return Effect().persist(events).thenRun(st -> {
      if (asked != null && webhooks != null) webhooks.tell(asked);
      exportGauges(st);
      schedulePlace();
    });
  }

  // ---------------------------------------------------------------- workers

  private Effect<Event, State> workerUp(State state, WorkerUp up) {
    Instant now = clock.instant();
    WorkerEntry before = workers.get(up.worker());
    if (!up.hello() && before != null && !before.ref().equals(up.ref()) && before.connected()) {
      // A heartbeat from a connection the worker has replaced since.
      up.ref().tell(new Replaced(up.worker()));
      return Effect().none();
    }
    if (up.hello() && before != null && !before.ref().equals(up.ref())) before.ref().tell(new Replaced(up.worker()));
    // A worker whose node dies sends no goodbye: its actor's death (the node downed) marks it gone.
    if (before == null || !before.ref().equals(up.ref())) ctx.watchWith(up.ref(), new WorkerDown(up.worker(), up.ref()));
    workers.put(up.worker(), new WorkerEntry(up.worker(), up.agent(), up.pool(), up.capacity(), List.copyOf(up.sessions()), up.ref(),
        now, true));
    Map<String, Long> kept = new LinkedHashMap<>();
    Map<String, Long> lost = new LinkedHashMap<>();
    for (Map.Entry<String, Long> held : up.holding().entrySet()) {
      Lease lease = state.leases().get(held.getKey());
      if (lease != null && lease.worker().equals(up.worker()) && lease.epoch() == held.getValue()) {
        kept.put(held.getKey(), held.getValue());
        renewed.put(held.getKey(), now);
      } else {
        lost.put(held.getKey(), held.getValue());
      }
    }
    if (up.hello()) {
      // What the worker does not list on a fresh connection, it does not work on: end it now, not after the timeout.
      for (Lease lease : state.leases().values()) {
        if (lease.worker().equals(up.worker()) && !kept.containsKey(lease.sessionId())) end(lease, "expired", "lost");
      }
      Pool pool = pools.get(up.pool());
      up.ref().tell(new Welcome(up.worker(), up.pool(), up.capacity(), pool.leaseTimeout().toMillis(),
          pool.heartbeatInterval().toMillis(), kept, lost));
    } else {
      for (Map.Entry<String, Long> l : lost.entrySet()) {
        Lease lease = state.leases().get(l.getKey());
        // Only a lease that has moved on is revoked; one recorded later than this heartbeat was sent is left alone.
        if (lease == null || lease.epoch() > l.getValue()) up.ref().tell(new Revoked(l.getKey(), l.getValue(), "lost"));
      }
    }
    exportGauges(state);
    schedulePlace();
    return Effect().none();
  }

  private Effect<Event, State> workerDown(State state, WorkerDown down) {
    WorkerEntry entry = workers.get(down.worker());
    if (entry != null && entry.ref().equals(down.ref())) {
      workers.put(down.worker(), new WorkerEntry(entry.worker(), entry.agent(), entry.pool(), entry.capacity(), entry.sessions(),
          entry.ref(), entry.lastSeen(), false));
    }
    exportGauges(state);
    return Effect().none();
  }

  private Effect<Event, State> release(State state, Release r) {
    Lease lease = state.leases().get(r.sessionId());
    WorkerEntry worker = workers.get(r.worker());
    if (lease == null || !lease.worker().equals(r.worker()) || lease.epoch() != r.lease()) {
      if (worker != null) {
        worker.ref().tell(new ReleaseRefused(r.sessionId(), r.lease(), ErrorCode.STALE_LEASE.code(),
            "lease " + r.lease() + " of " + r.sessionId() + " is not held by " + r.worker()));
      }
      return Effect().none();
    }
    if (asking.contains(r.sessionId())) {
      if (worker != null) {
        worker.ref().tell(new ReleaseRefused(r.sessionId(), r.lease(), ErrorCode.TIMEOUT.code(), "the session is busy; release again"));
      }
      return Effect().none();
    }
    end(lease, "released", r.reason() == null ? "released" : r.reason());
    return Effect().none();
  }

  // ---------------------------------------------------------------- leases

  private Effect<Event, State> tick(State state, Tick t) {
    Instant now = clock.instant();
    forgivePause(now);
    for (Lease lease : state.leases().values()) {
      if (asking.contains(lease.sessionId())) continue;
      Pool pool = pools.get(lease.pool());
      Duration timeout = pool == null ? pools.defaultPool().leaseTimeout() : pool.leaseTimeout();
      Instant last = renewed.getOrDefault(lease.sessionId(), startedAt == null ? now : startedAt);
      if (Duration.between(last, now).compareTo(timeout) > 0) end(lease, "expired", "lease_expired");
    }
    // Forget workers that are gone and hold nothing.
    workers.values().removeIf(w -> !w.connected() && state.holding(w.worker()) == 0
        && Duration.between(w.lastSeen(), now).compareTo(Duration.ofMinutes(1)) > 0);
    return Effect().none();
  }

  /**
   * A tick that comes much later than its interval finds this actor was not running: that time
   * is not held against the workers (their renewals are moved forward by it), so a pause of the
   * node never ends leases whose workers kept sending heartbeats.
   */
  private void forgivePause(Instant now) {
    Instant previous = lastTick;
    lastTick = now;
    if (previous == null) return;
    Duration late = Duration.between(previous, now).minus(TICK).minus(LONGEST_COUNTED_LATENESS);
    if (late.isNegative() || late.isZero()) return;
    renewed.replaceAll((session, at) -> at.plus(late));
    LOG.info("the dispatcher did not run for {} ms; that time does not count against leases", late.toMillis());
  }

  /** Asks the session to end the lease; {@code ending} is released or expired. */
  private void end(Lease lease, String how, String reason) {
    asking.add(lease.sessionId());
    ending.put(lease.sessionId(), lease);
    LeaseRules.Ending ends = how.equals("released") ? LeaseRules.Ending.RELEASED : LeaseRules.Ending.EXPIRED;
    ctx.ask(Outcome.class, sharding.entityRefFor(SessionEntity.TYPE_KEY, lease.sessionId()), askTimeout,
        replyTo -> new SessionCommand.EndLease(lease.agent(), lease.epoch(), ends, reason, replyTo),
        (outcome, failure) -> new EndAnswered(lease.sessionId(), lease.epoch(), how, reason, outcome, failure));
  }

  private Effect<Event, State> endAnswered(State state, EndAnswered a) {
    asking.remove(a.sessionId());
    Lease ended = ending.remove(a.sessionId());
    Lease lease = state.leases().get(a.sessionId());
    boolean current = lease != null && lease.epoch() == a.epoch();
    boolean retry = a.failure() != null || (a.outcome() instanceof Outcome.Refused r
        && (r.code() == ErrorCode.UNAVAILABLE || r.code() == ErrorCode.TIMEOUT));
    if (retry && current) {
      LOG.info("could not end lease {} of session {} yet ({}); trying again", a.epoch(), a.sessionId(),
          a.failure() != null ? a.failure().toString() : ((Outcome.Refused) a.outcome()).message());
      if (a.ending().equals("released")) {
        tellWorker(lease.worker(), new ReleaseRefused(a.sessionId(), a.epoch(), ErrorCode.UNAVAILABLE.code(),
            "the session did not answer; release again"));
      } else {
        renewed.remove(a.sessionId()); // the next tick asks again
      }
      return Effect().none();
    }
    renewed.remove(a.sessionId());
    LOG.info("lease {} of session {} ended ({}, {}): {}", a.epoch(), a.sessionId(), a.ending(), a.reason(),
        a.failure() != null ? a.failure().toString() : a.outcome());
    // Whatever the session answered, it says again what it needs: a lease it never took (an
    // assignment that timed out) ends here without any change at the session, which would
    // otherwise never report that it is still waiting.
    sharding.entityRefFor(SessionEntity.TYPE_KEY, a.sessionId()).tell(SessionCommand.ReportNeed.INSTANCE);
    Lease told = current ? lease : ended;
    ToWorker message = a.ending().equals("released") ? new Released(a.sessionId(), a.epoch())
        : new Revoked(a.sessionId(), a.epoch(), a.reason());
    if (!current) {
      // The session's own report of the ended lease came first and forgot it: tell the worker, place what waits.
      if (told != null) {
        tellWorker(told.worker(), message);
        DispatchMetrics.LEASE_ENDS.labelValues(told.pool(), a.ending()).inc();
      }
      schedulePlace();
      return Effect().none();
    }
    DispatchMetrics.LEASE_ENDS.labelValues(lease.pool(), a.ending()).inc();
    return Effect().persist(new LeaseGone(a.sessionId(), a.epoch())).thenRun(st -> {
      tellWorker(lease.worker(), message);
      exportGauges(st);
      schedulePlace();
    });
  }

  // ---------------------------------------------------------------- placement

  private void schedulePlace() {
    if (!placeQueued) {
      placeQueued = true;
      ctx.getSelf().tell(Place.INSTANCE);
    }
  }

  /** Each waiting session (oldest first) to the worker of its pool with most room that may join it. */
  private Effect<Event, State> place(State state, Place p) {
    placeQueued = false;
    if (state.waiting().isEmpty()) return Effect().none();
    Map<String, Integer> holding = new HashMap<>();
    for (Lease l : state.leases().values()) holding.merge(l.worker(), 1, Integer::sum);
    List<WaitingEntry> oldestFirst = new ArrayList<>(state.waiting().values());
    oldestFirst.sort(java.util.Comparator.comparing(WaitingEntry::since));
    List<Event> placed = new ArrayList<>();
    Instant now = clock.instant();
    for (WaitingEntry w : oldestFirst) {
      if (asking.contains(w.sessionId())) continue;
      List<Placement.Worker> candidates = new ArrayList<>();
      for (WorkerEntry e : workers.values()) {
        if (alive(e, now) && e.pool().equals(w.pool()) && SessionPatterns.covers(e.sessions(), w.sessionId())) {
          candidates.add(new Placement.Worker(e.worker(), e.capacity(), holding.getOrDefault(e.worker(), 0)));
        }
      }
      Placement.Worker chosen = Placement.choose(candidates);
      if (chosen == null) continue;
      holding.merge(chosen.id(), 1, Integer::sum);
      placed.add(new Placed(w.sessionId(), w.pool(), chosen.id(), workers.get(chosen.id()).agent(), w.epoch() + 1, w.reason(), now));
    }
    if (placed.isEmpty()) return Effect().none();
    for (Event e : placed) {
      Placed pl = (Placed) e;
      asking.add(pl.sessionId());
      LOG.info("session {} to worker {} as lease {} ({})", pl.sessionId(), pl.worker(), pl.epoch(), pl.reason());
    }
    return Effect().persist(placed).thenRun(st -> {
      for (Event e : placed) ask((Placed) e);
      exportGauges(st);
    });
  }

  /** Connected and heard from lately (two heartbeat intervals): a worker that went silent gets nothing new. */
  private boolean alive(WorkerEntry e, Instant now) {
    Pool pool = pools.get(e.pool());
    Duration fresh = (pool == null ? pools.defaultPool() : pool).heartbeatInterval().multipliedBy(2).plusMillis(200);
    return e.connected() && Duration.between(e.lastSeen(), now).compareTo(fresh) <= 0;
  }

  private void ask(Placed p) {
    renewed.put(p.sessionId(), clock.instant());
    ctx.ask(Outcome.class, sharding.entityRefFor(SessionEntity.TYPE_KEY, p.sessionId()), askTimeout,
        replyTo -> new SessionCommand.Assign(p.agent(), p.epoch() - 1, p.reason(), replyTo),
        (outcome, failure) -> new AssignAnswered(p.sessionId(), p.epoch(), outcome, failure));
  }

  private Effect<Event, State> assignAnswered(State state, AssignAnswered a) {
    asking.remove(a.sessionId());
    Lease lease = state.leases().get(a.sessionId());
    if (lease == null || lease.epoch() != a.epoch()) {
      schedulePlace();
      return Effect().none();
    }
    if (a.outcome() instanceof Outcome.Accepted accepted) {
      renewed.put(a.sessionId(), clock.instant());
      DispatchMetrics.ASSIGNMENTS.labelValues(lease.pool(), lease.reason()).inc();
      tellWorker(lease.worker(), new Assigned(a.sessionId(), a.epoch(), lease.reason(), accepted.offset()));
      return Effect().none();
    }
    if (a.failure() != null) {
      // The session may have taken the lease or not: the lease stays recorded, its worker was not
      // told, so it is not renewed and ends after the lease timeout (a no-op if it was never taken).
      LOG.info("session {} did not answer its assignment to {} in time: {}", a.sessionId(), lease.worker(), a.failure().toString());
      return Effect().none();
    }
    // Refused (another lease, closed, gone): forget this one; the session's report says what it needs.
    Outcome.Refused refused = (Outcome.Refused) a.outcome();
    LOG.info("session {} refused lease {} for {}: {}", a.sessionId(), a.epoch(), lease.worker(), refused.message());
    return Effect().persist(new LeaseGone(a.sessionId(), a.epoch())).thenRun(st -> {
      sharding.entityRefFor(SessionEntity.TYPE_KEY, a.sessionId()).tell(SessionCommand.ReportNeed.INSTANCE);
      exportGauges(st);
    });
  }

  private void tellWorker(String worker, ToWorker message) {
    WorkerEntry entry = workers.get(worker);
    if (entry != null) entry.ref().tell(message);
  }

  // ---------------------------------------------------------------- views

  private Listing listing(State state) {
    List<PoolView> views = new ArrayList<>();
    for (Pool pool : pools.all()) {
      List<WorkerView> ws = new ArrayList<>();
      for (WorkerEntry e : workers.values()) {
        if (e.pool().equals(pool.name())) ws.add(new WorkerView(e.worker(), e.capacity(), state.holding(e.worker()), e.lastSeen(), e.connected()));
      }
      ws.sort(java.util.Comparator.comparing(WorkerView::worker));
      List<WaitingView> waiting = state.waiting().values().stream()
          .filter(w -> w.pool().equals(pool.name()))
          .sorted(java.util.Comparator.comparing(WaitingEntry::since))
          .map(w -> new WaitingView(w.sessionId(), w.since(), w.reason()))
          .toList();
      views.add(new PoolView(pool.name(), pool.mode().wire(), pool.leaseTimeout().toMillis(), pool.heartbeatInterval().toMillis(), ws, waiting));
    }
    return new Listing(views);
  }

  private void exportGauges(State state) {
    for (Pool pool : pools.all()) {
      String name = pool.name();
      DispatchMetrics.WAITING.labelValues(name).set(state.waiting().values().stream().filter(w -> w.pool().equals(name)).count());
      DispatchMetrics.LEASES.labelValues(name).set(state.leases().values().stream().filter(l -> l.pool().equals(name)).count());
      DispatchMetrics.WORKERS.labelValues(name).set(workers.values().stream().filter(w -> w.connected() && w.pool().equals(name)).count());
    }
  }
}
