package dev.durablesessions.cluster.demo;

import dev.durablesessions.session.SessionLifecycle;
import dev.durablesessions.session.resume.FollowerSettings;
import dev.durablesessions.session.resume.SessionJournal;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * The built-in demo agent of a node: one {@link DemoAgent} for every session that lives on
 * this node, stopped when the session moves away (the node it moves to starts its own), so a
 * session never has two demo agents competing for its floor. Agents are tracked by reference,
 * not by name: a session that leaves and comes straight back gets a new agent even while the
 * old one is still stopping.
 */
public final class DemoAgents {
  private DemoAgents() {}

  /** Internal: an agent stopped (on its own, or because its session left). */
  private record Stopped(String sessionId, ActorRef<DemoAgent.Command> agent) {}

  public static Behavior<SessionLifecycle> create(
      ClusterSharding sharding, SessionJournal journal, FollowerSettings followerSettings, Duration tokenInterval) {
    Behavior<Object> behavior = Behaviors.setup(ctx -> {
      Map<String, ActorRef<DemoAgent.Command>> agents = new HashMap<>();
      return Behaviors.receive(Object.class)
          .onMessage(SessionLifecycle.Active.class, active -> {
            if (!agents.containsKey(active.sessionId())) {
              ActorRef<DemoAgent.Command> agent = ctx.spawnAnonymous(Behaviors.supervise(
                      DemoAgent.create(sharding, journal, followerSettings, active.sessionId(), tokenInterval))
                  .onFailure(SupervisorStrategy.stop()));
              ctx.watchWith(agent, new Stopped(active.sessionId(), agent));
              agents.put(active.sessionId(), agent);
            }
            return Behaviors.same();
          })
          .onMessage(SessionLifecycle.Inactive.class, inactive -> {
            ActorRef<DemoAgent.Command> agent = agents.remove(inactive.sessionId());
            if (agent != null) ctx.stop(agent);
            return Behaviors.same();
          })
          .onMessage(Stopped.class, stopped -> {
            agents.remove(stopped.sessionId(), stopped.agent());
            return Behaviors.same();
          })
          .build();
    });
    return behavior.narrow();
  }
}
