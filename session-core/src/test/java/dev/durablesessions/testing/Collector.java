package dev.durablesessions.testing;

import dev.durablesessions.session.SessionEvent;
import dev.durablesessions.session.resume.SessionFollower;
import java.util.List;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/** A follower's consumer for tests: records what it is handed (in a thread-safe list) and is always ready for more. */
public final class Collector {
  private Collector() {}

  public static Behavior<SessionFollower.Delivery> into(
      List<SessionEvent> seen, Function<ActorRef<SessionFollower.Delivery>, Behavior<SessionFollower.Command>> follower) {
    return Behaviors.setup(ctx -> {
      ActorRef<SessionFollower.Command> f = ctx.spawn(follower.apply(ctx.getSelf()), "follower");
      return Behaviors.receive(SessionFollower.Delivery.class)
          .onMessage(SessionFollower.Deliver.class, d -> {
            seen.addAll(d.events());
            if (d.wantsReady()) f.tell(SessionFollower.Ready.INSTANCE);
            return Behaviors.same();
          })
          .onMessage(SessionFollower.Attached.class, a -> Behaviors.same())
          .onMessage(SessionFollower.Failed.class, x -> Behaviors.stopped())
          .build();
    });
  }
}
