package dev.durablesessions.session.erasure;

import com.typesafe.config.Config;
import java.time.Duration;

/** {@code durable-sessions.erasure}: reference.conf says what each means. */
public record RetentionSettings(Duration retention, Duration checkInterval, int batchSize, Duration askTimeout) {

  public static RetentionSettings fromConfig(Config root) {
    Config c = root.getConfig("durable-sessions.erasure");
    RetentionSettings s = new RetentionSettings(
        c.getDuration("retention"), c.getDuration("check-interval"), c.getInt("batch-size"), c.getDuration("ask-timeout"));
    if (s.retention.isNegative()) throw new IllegalArgumentException("durable-sessions.erasure.retention must be >= 0");
    if (s.checkInterval.isZero() || s.checkInterval.isNegative()) {
      throw new IllegalArgumentException("durable-sessions.erasure.check-interval must be > 0");
    }
    if (s.batchSize < 1) throw new IllegalArgumentException("durable-sessions.erasure.batch-size must be >= 1");
    return s;
  }

  /** Retention 0 (the default) keeps closed sessions forever: no task runs. */
  public boolean enabled() {
    return !retention.isZero();
  }

  /** The first check after the task starts (it moves with the oldest node): soon, so restarts do not postpone it forever. */
  public Duration firstCheckAfter() {
    Duration minute = Duration.ofMinutes(1);
    return checkInterval.compareTo(minute) < 0 ? checkInterval : minute;
  }
}
