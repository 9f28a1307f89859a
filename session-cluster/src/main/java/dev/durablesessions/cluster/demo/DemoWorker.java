package dev.durablesessions.cluster.demo;

import dev.durablesessions.session.dispatch.Dispatcher;
import dev.durablesessions.session.dispatch.Pool;
import dev.durablesessions.session.resume.FollowerSettings;
import dev.durablesessions.session.resume.SessionJournal;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * The built-in demo agent as an agent worker of a pool, one per node: it registers with the
 * dispatcher like any worker (pool, capacity, heartbeats that renew its leases), and runs one
 * {@link DemoAgent} for each session assigned to it, writing under that lease. So the demo
 * exercises dispatch end to end: a node that dies takes its leases with it, and after the pool's
 * lease timeout its sessions go to the demo worker of another node, which answers what was cut off.
 *
 * <p>An agent that stops on its own while its lease is still held (its session unreachable for
 * a while, as when the session's node died and its shards have not moved yet; a closed session
 * is revoked by the dispatcher instead) is started again after a pause that doubles up to
 * {@link #MAX_RESTART_PAUSE}: the worker supervises its agents, and keeps the lease meanwhile.
 */
public final class DemoWorker {
  private DemoWorker() {}

  interface Command {}

  private record FromDispatcher(Dispatcher.ToWorker message) implements Command {}

  private enum Beat implements Command { INSTANCE }

  private record AgentStopped(String sessionId, ActorRef<DemoAgent.Command> agent) implements Command {}

  private record Restart(String sessionId, long lease) implements Command {}

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(DemoWorker.class);
  private static final Duration RESTART_PAUSE = Duration.ofMillis(500);
  private static final Duration MAX_RESTART_PAUSE = Duration.ofSeconds(10);

  /** One held session: the lease, its agent (null while it waits to restart), how often it restarted. */
  private record Held(long lease, ActorRef<DemoAgent.Command> agent, int restarts) {}

  /**
   * @param worker this worker's ID, unique in the cluster and the same across restarts of its node
   *     (so a restarted node's worker ends the leases its previous incarnation held at once)
   */
  public static Behavior<Command> create(
      ActorRef<Dispatcher.Command> dispatcher, Pool pool, int capacity, String worker, ClusterSharding sharding, SessionJournal journal,
      FollowerSettings followerSettings, Duration tokenInterval) {
    return Behaviors.<Command>setup(ctx -> Behaviors.<Command>withTimers(timers -> {
      ActorRef<Dispatcher.ToWorker> self = ctx.messageAdapter(Dispatcher.ToWorker.class, FromDispatcher::new);
      Map<String, Held> held = new HashMap<>();
      dispatcher.tell(up(worker, pool, capacity, held, true, self));
      timers.startTimerWithFixedDelay(Beat.INSTANCE, pool.heartbeatInterval());
      return Behaviors.receive(Command.class)
          .onMessage(Beat.class, b -> {
            dispatcher.tell(up(worker, pool, capacity, held, false, self));
            return Behaviors.same();
          })
          .onMessage(FromDispatcher.class, m -> {
            Dispatcher.ToWorker message = m.message();
            LOG.debug("demo worker {}: {}", worker, message);
            if (message instanceof Dispatcher.Assigned a) {
              Held before = held.remove(a.sessionId());
              if (before != null && before.agent() != null) ctx.stop(before.agent());
              held.put(a.sessionId(), new Held(a.lease(), start(ctx, a.sessionId(), a.lease(), sharding, journal, followerSettings, tokenInterval), 0));
            } else if (message instanceof Dispatcher.Revoked r) {
              Held h = held.get(r.sessionId());
              if (h != null && h.lease() == r.lease()) {
                held.remove(r.sessionId());
                if (h.agent() != null) ctx.stop(h.agent());
              }
            } else if (message instanceof Dispatcher.Replaced) {
              ctx.getLog().warn("demo worker {} was replaced by another registration with the same ID", worker);
            }
            return Behaviors.same();
          })
          .onMessage(AgentStopped.class, stopped -> {
            Held h = held.get(stopped.sessionId());
            if (h == null || h.agent() == null || !h.agent().equals(stopped.agent())) return Behaviors.same();
            LOG.info("demo worker {}: the agent of {} stopped, restarting it", worker, stopped.sessionId());
            held.put(stopped.sessionId(), new Held(h.lease(), null, h.restarts() + 1));
            Duration pause = RESTART_PAUSE.multipliedBy(1L << Math.min(h.restarts(), 5));
            timers.startSingleTimer("restart-" + stopped.sessionId(), new Restart(stopped.sessionId(), h.lease()),
                pause.compareTo(MAX_RESTART_PAUSE) > 0 ? MAX_RESTART_PAUSE : pause);
            return Behaviors.same();
          })
          .onMessage(Restart.class, r -> {
            Held h = held.get(r.sessionId());
            if (h != null && h.agent() == null && h.lease() == r.lease()) {
              held.put(r.sessionId(), new Held(h.lease(), start(ctx, r.sessionId(), h.lease(), sharding, journal, followerSettings, tokenInterval),
                  h.restarts()));
            }
            return Behaviors.same();
          })
          .build();
    }));
  }

  private static Dispatcher.WorkerUp up(
      String worker, Pool pool, int capacity, Map<String, Held> held, boolean hello, ActorRef<Dispatcher.ToWorker> self) {
    Map<String, Long> holding = new LinkedHashMap<>();
    held.forEach((session, h) -> holding.put(session, h.lease()));
    return new Dispatcher.WorkerUp(worker, DemoAgent.AGENT.id(), pool.name(), capacity, List.of("*"), holding, hello, self);
  }

  private static ActorRef<DemoAgent.Command> start(
      ActorContext<Command> ctx, String sessionId, long lease, ClusterSharding sharding, SessionJournal journal,
      FollowerSettings followerSettings, Duration tokenInterval) {
    ActorRef<DemoAgent.Command> agent = ctx.spawnAnonymous(Behaviors.supervise(
            DemoAgent.create(sharding, journal, followerSettings, sessionId, tokenInterval, lease))
        .onFailure(SupervisorStrategy.stop()));
    ctx.watchWith(agent, new AgentStopped(sessionId, agent));
    return agent;
  }
}
