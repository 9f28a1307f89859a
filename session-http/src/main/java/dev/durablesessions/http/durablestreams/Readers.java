package dev.durablesessions.http.durablestreams;

import java.util.concurrent.CompletableFuture;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.stream.KillSwitches;
import org.apache.pekko.stream.SharedKillSwitch;

/**
 * Open live reads (SSE responses) end when the node stops serving requests, as sockets do: the
 * client reconnects with its last offset to another node, and nothing keeps sessions or streams
 * busy while shards hand off.
 */
final class Readers {
  private Readers() {}

  static SharedKillSwitch onShutdown(ActorSystem<?> system, String name) {
    SharedKillSwitch killSwitch = KillSwitches.shared(name);
    CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseServiceRequestsDone(), "end-" + name, () -> {
      killSwitch.shutdown();
      return CompletableFuture.completedFuture(Done.getInstance());
    });
    return killSwitch;
  }
}
