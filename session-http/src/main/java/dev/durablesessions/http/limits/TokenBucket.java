package dev.durablesessions.http.limits;

import java.util.concurrent.atomic.AtomicLong;

/**
 * One subject's token bucket, kept as a single number: the generic cell rate algorithm's
 * "theoretical arrival time", the instant at which the bucket would be full again. Taking a
 * permit is one compare-and-set, so callers on any thread never block and never lose a permit
 * to a race. A refused take changes nothing and says exactly how long until a permit is free.
 *
 * <p>Equivalent to a bucket of {@code count} permits refilled by one every {@code interval}:
 * a fresh (or idle) bucket grants {@code count} at once, then one per interval. Times are
 * nanoseconds from one monotonic clock, compared by difference so they may wrap.
 */
final class TokenBucket {
  private final long interval;
  /** How far ahead of now the arrival time may run: (count - 1) intervals. */
  private final long tolerance;
  private final AtomicLong fullAt;

  TokenBucket(Rate rate, long now) {
    this.interval = rate.intervalNanos();
    this.tolerance = (rate.count() - 1) * interval;
    this.fullAt = new AtomicLong(now);
  }

  /** Takes a permit at {@code now}: 0 if taken, otherwise the nanoseconds until one is free (nothing taken). */
  long take(long now) {
    while (true) {
      long full = fullAt.get();
      long allowedFrom = full - tolerance;
      if (now - allowedFrom < 0) return allowedFrom - now;
      long next = (now - full > 0 ? now : full) + interval;
      if (fullAt.compareAndSet(full, next)) return 0;
    }
  }

  /** Whether the bucket holds every permit at {@code now}, so forgetting it changes nothing. */
  boolean fullAt(long now) {
    return now - fullAt.get() >= 0;
  }
}
