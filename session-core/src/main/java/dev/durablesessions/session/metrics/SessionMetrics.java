package dev.durablesessions.session.metrics;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * The server's metrics, in the Prometheus client's default registry (one per JVM, shared by
 * every actor system in it). Exposed by session-http at {@code GET /metrics}.
 */
public final class SessionMetrics {
  private SessionMetrics() {}

  private static final PrometheusRegistry REGISTRY = PrometheusRegistry.defaultRegistry;

  public static final Gauge SESSIONS_ACTIVE = Gauge.builder()
      .name("ds_sessions_active").help("Session entities running on this node").register(REGISTRY);

  public static final Gauge CONNECTIONS = Gauge.builder()
      .name("ds_connections").help("Open participant sockets on this node, by role").labelNames("role").register(REGISTRY);

  public static final Counter EVENTS_PERSISTED = Counter.builder()
      .name("ds_events_persisted_total").help("Session events written to the journal").register(REGISTRY);

  public static final Histogram PERSIST_LATENCY = Histogram.builder()
      .name("ds_persist_latency_seconds").help("From a session's persist call to the journal's confirmation")
      .classicUpperBounds(0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5)
      .register(REGISTRY);

  public static final Histogram DELIVERY_LAG = Histogram.builder()
      .name("ds_delivery_lag_seconds").help("From an event's time to its frame being queued for a live socket")
      .classicUpperBounds(0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)
      .register(REGISTRY);

  public static final Counter SOCKET_OVERFLOWS = Counter.builder()
      .name("ds_socket_overflows_total")
      .help("Times a socket's outbound queue was full and its device went back to catching up from the journal")
      .register(REGISTRY);

  public static final Counter DELTAS_APPENDED = Counter.builder()
      .name("ds_deltas_appended_total").help("Stream deltas appended by producers").register(REGISTRY);

  public static final Counter DELTA_EVENTS = Counter.builder()
      .name("ds_delta_events_total").help("Stream delta events written (appended / written = coalescing ratio)").register(REGISTRY);

  public static final Gauge STREAMING_TO_NOBODY = Gauge.builder()
      .name("ds_sessions_streaming_to_nobody").help("Sessions with an open stream and no non-agent device attached")
      .register(REGISTRY);

  public static final Counter SESSIONS_ERASED = Counter.builder()
      .name("ds_sessions_erased_total").help("Sessions erased (tombstone written), by reason: admin or retention")
      .labelNames("reason").register(REGISTRY);

  public static final Counter ERASURE_PURGE_FAILURES = Counter.builder()
      .name("ds_erasure_purge_failures_total")
      .help("Deletions of an erased session's rows that failed; finished by the next DELETE, retention check or start of the session")
      .register(REGISTRY);

  public static final Gauge STREAMS_ACTIVE = Gauge.builder()
      .name("ds_streams_active").help("Durable Streams stream entities running on this node").register(REGISTRY);

  public static final Counter STREAM_APPENDS = Counter.builder()
      .name("ds_stream_appends_total").help("Durable Streams appends (POST) committed").register(REGISTRY);

  public static final Histogram STREAM_APPEND_LATENCY = Histogram.builder()
      .name("ds_stream_append_latency_seconds").help("From a stream entity taking an append to its commit")
      .classicUpperBounds(0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5)
      .register(REGISTRY);

  public static final Gauge STREAM_WAITING_READS = Gauge.builder()
      .name("ds_stream_waiting_reads").help("Durable Streams long-poll and SSE reads waiting at a stream's tail")
      .register(REGISTRY);

  public static final Counter STREAM_REQUESTS = Counter.builder()
      .name("ds_stream_requests_total").help("Durable Streams HTTP requests, by method and status")
      .labelNames("method", "status").register(REGISTRY);

  public static final Counter JOURNAL_FAILURES = Counter.builder()
      .name("ds_journal_failures_total")
      .help("Failed journal writes and recoveries of sessions and streams; each restarts its entity after a backoff")
      .labelNames("entity", "phase").register(REGISTRY);

  public static final Gauge WAITING_FOR_JOURNAL = Gauge.builder()
      .name("ds_entities_waiting_for_journal")
      .help("Sessions and streams on this node whose journal failed and that have not recovered yet")
      .labelNames("entity").register(REGISTRY);

  public static final Counter JOURNAL_REFUSALS = Counter.builder()
      .name("ds_journal_unavailable_refusals_total")
      .help("Requests answered unavailable at once because their session's or stream's journal is down")
      .labelNames("entity").register(REGISTRY);

  public static PrometheusRegistry registry() {
    return REGISTRY;
  }
}
