package dev.durablesessions.session.metrics;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/** Agent dispatch, as seen by the dispatcher (the node that runs it exports the current figures). */
public final class DispatchMetrics {
  private DispatchMetrics() {}

  private static final PrometheusRegistry REGISTRY = PrometheusRegistry.defaultRegistry;

  public static final Gauge WAITING = Gauge.builder()
      .name("ds_dispatch_waiting").help("Sessions waiting for an agent of their pool (no worker with room), by pool")
      .labelNames("pool").register(REGISTRY);

  public static final Gauge WORKERS = Gauge.builder()
      .name("ds_dispatch_workers").help("Agent workers connected, by pool").labelNames("pool").register(REGISTRY);

  public static final Gauge LEASES = Gauge.builder()
      .name("ds_dispatch_leases").help("Sessions assigned to a worker, by pool").labelNames("pool").register(REGISTRY);

  public static final Counter ASSIGNMENTS = Counter.builder()
      .name("ds_dispatch_assignments_total").help("Sessions assigned to a worker, by pool and reason (needs_agent, failover)")
      .labelNames("pool", "reason").register(REGISTRY);

  public static final Counter LEASE_ENDS = Counter.builder()
      .name("ds_dispatch_lease_ends_total").help("Leases ended, by pool and how (released, expired, session_ended)")
      .labelNames("pool", "ending").register(REGISTRY);
}
