package dev.durablesessions.http.limits;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import dev.durablesessions.session.metrics.SessionMetrics;
import io.prometheus.metrics.core.metrics.Counter;

/**
 * One {@link Rate} per subject: each subject has its own {@link TokenBucket}, so one subject
 * spending its permits leaves every other subject's untouched. Thread-safe and non-blocking
 * (Caffeine's map, then one compare-and-set).
 *
 * <p>Memory stays bounded: a bucket untouched for the rate's period is full again, which is
 * what a new bucket is, so it is dropped then (expire after access); and at most
 * {@code maxSubjects} buckets are kept, the least useful ones evicted first. Only past that
 * bound can forgetting a bucket matter: an evicted subject that was short of permits starts
 * full again.
 */
public final class SubjectRate {
  /** Refusals, by limit ({@code appends}, {@code session_creations}; sockets count {@code open_sockets}). */
  static final Counter REFUSED = Counter.builder()
      .name("ds_rate_limited_total").help("Requests and frames refused with rate_limited, by limit")
      .labelNames("limit").register(SessionMetrics.registry());

  private final String name;
  private final Rate rate;
  private final Ticker clock;
  private final Cache<String, TokenBucket> buckets;

  /** {@code name} labels this limit's refusals in {@code ds_rate_limited_total}. */
  public SubjectRate(String name, Rate rate, long maxSubjects, Ticker clock) {
    this.name = name;
    this.rate = rate;
    this.clock = clock;
    this.buckets = Caffeine.newBuilder()
        .maximumSize(maxSubjects)
        .expireAfterAccess(rate.off() ? java.time.Duration.ofSeconds(1) : rate.per())
        .ticker(clock)
        .executor(Runnable::run) // eviction work is tiny: done by the caller, not a pool
        .build();
  }

  public Rate rate() {
    return rate;
  }

  /** Takes a permit for {@code subject}: 0 if taken (or the rate is off), otherwise nanoseconds until one is free. */
  public long take(String subject) {
    if (rate.off()) return 0;
    long now = clock.read();
    long wait = buckets.get(subject, s -> new TokenBucket(rate, now)).take(now);
    if (wait > 0) REFUSED.labelValues(name).inc();
    return wait;
  }

  /** Buckets held now, after dropping the idle ones (for tests and metrics). */
  long trackedSubjects() {
    buckets.cleanUp();
    return buckets.estimatedSize();
  }
}
