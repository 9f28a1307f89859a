package dev.durablesessions.http.webhook;

import dev.durablesessions.session.metrics.SessionMetrics;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;

/** Webhook pools' calls, in the server's registry ({@code GET /metrics}); docs/OPERATIONS.md lists them. */
final class WebhookMetrics {
  private WebhookMetrics() {}

  /** outcome: delivered (a 2xx), retried (an attempt that will be tried again), failed (given up: agent.webhook_failed). */
  static final Counter CALLS = Counter.builder()
      .name("ds_webhook_calls_total")
      .help("Webhook pool calls by pool and outcome: delivered, retried (per retry), failed (given up)")
      .labelNames("pool", "outcome").register(SessionMetrics.registry());

  static final Histogram ATTEMPT_LATENCY = Histogram.builder()
      .name("ds_webhook_attempt_latency_seconds")
      .help("From sending one webhook attempt to its answer, a timeout or a connection error, by pool")
      .classicUpperBounds(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
      .labelNames("pool").register(SessionMetrics.registry());

  static final Gauge IN_FLIGHT = Gauge.builder()
      .name("ds_webhook_calls_in_flight").help("Webhook calls being attempted or waiting to retry on this node")
      .register(SessionMetrics.registry());
}
