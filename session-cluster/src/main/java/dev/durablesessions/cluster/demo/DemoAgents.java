package dev.durablesessions.cluster.demo;

import dev.durablesessions.session.SessionLifecycle;
import dev.durablesessions.session.resume.FollowerSettings;
import dev.durablesessions.session.resume.SessionJournal;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * The built-in demo agent of a node: one {@link DemoAgent} for every session that lives on
 * this node, stopped when the session moves away (the node it moves to starts its own), so a
 * session never has two demo agents competing for its floor.
 */
public final class DemoAgents {
  private DemoAgents() {}

  public static Behavior<SessionLifecycle> create(
      ClusterSharding sharding, SessionJournal journal, FollowerSettings followerSettings, Duration tokenInterval) {
    return Behaviors.setup(ctx -> Behaviors.receive(SessionLifecycle.class)
        .onMessage(SessionLifecycle.Active.class, active -> {
          String name = "agent-" + URLEncoder.encode(active.sessionId(), StandardCharsets.UTF_8);
          if (ctx.getChild(name).isEmpty()) {
            ctx.spawn(Behaviors.supervise(DemoAgent.create(sharding, journal, followerSettings, active.sessionId(), tokenInterval))
                .onFailure(SupervisorStrategy.stop()), name);
          }
          return Behaviors.same();
        })
        .onMessage(SessionLifecycle.Inactive.class, inactive -> {
          ctx.getChild("agent-" + URLEncoder.encode(inactive.sessionId(), StandardCharsets.UTF_8)).ifPresent(ctx::stop);
          return Behaviors.same();
        })
        .build());
  }
}
