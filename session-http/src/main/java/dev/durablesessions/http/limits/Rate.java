package dev.durablesessions.http.limits;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * At most {@code count} per {@code per}, refilled continuously: a token bucket that holds
 * {@code count} permits and gains one every {@code per / count}. A count of 0 is no limit.
 */
public record Rate(int count, Duration per) {
  public Rate {
    if (count < 0) throw new IllegalArgumentException("a rate's count is 0 (off) or more");
    if (count > 0 && (per.isNegative() || per.isZero())) throw new IllegalArgumentException("a rate's period is positive");
  }

  /** {@code count} and {@code per} under {@code path}. */
  static Rate fromConfig(Config c, String path) {
    Config r = c.getConfig(path);
    return new Rate(r.getInt("count"), r.getDuration("per"));
  }

  public boolean off() {
    return count == 0;
  }

  /** Nanoseconds between two permits. */
  long intervalNanos() {
    return Math.max(1, per.toNanos() / count);
  }

  @Override
  public String toString() {
    return count + " per " + per;
  }
}
