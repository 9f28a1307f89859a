package dev.durablesessions.bench.baseline;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;

/**
 * The append baseline's sharded entity: answers every append at once with the next offset,
 * a counter; stores nothing. What is left of the node's append is the HTTP route, the
 * sharding hop and one ask.
 */
final class NoOpStream {
  static final EntityTypeKey<Append> KEY = EntityTypeKey.create(Append.class, "BareStream");

  /** The body is carried as the node carries it to its entity, and dropped. */
  record Append(String body, ActorRef<Appended> replyTo) { }

  record Appended(long offset) { }

  private NoOpStream() {}

  static void initSharding(ClusterSharding sharding) {
    sharding.init(Entity.of(KEY, context -> create()));
  }

  static Behavior<Append> create() {
    return counting(0);
  }

  private static Behavior<Append> counting(long offset) {
    return Behaviors.receiveMessage(append -> {
      append.replyTo().tell(new Appended(offset + 1));
      return counting(offset + 1);
    });
  }
}
