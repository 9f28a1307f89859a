package dev.durablesessions.cluster;

import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.apache.pekko.actor.ActorSystem;

/**
 * A Pekko Management readiness check: ready once this node's HTTP port is bound and until its
 * coordinated shutdown begins, so load balancers stop sending new sockets before they are refused.
 */
public final class HttpReadiness implements Supplier<CompletionStage<Boolean>> {
  private static final Set<String> READY = ConcurrentHashMap.newKeySet();

  private final String system;

  public HttpReadiness(ActorSystem system) {
    this.system = system.name() + "@" + System.identityHashCode(system);
  }

  static void ready(ActorSystem system, boolean ready) {
    String key = system.name() + "@" + System.identityHashCode(system);
    if (ready) READY.add(key);
    else READY.remove(key);
  }

  @Override
  public CompletionStage<Boolean> get() {
    return CompletableFuture.completedFuture(READY.contains(system));
  }
}
