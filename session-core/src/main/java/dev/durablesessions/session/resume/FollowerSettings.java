package dev.durablesessions.session.resume;

import com.typesafe.config.Config;
import java.time.Duration;

/** How a follower keeps its subscription alive and reads the journal: {@code durable-sessions.follower}. */
public record FollowerSettings(Duration keepAliveInterval, int pageSize, int maxHeld, Duration readRetryDelay) {
  public static FollowerSettings fromConfig(Config root) {
    Config c = root.getConfig("durable-sessions.follower");
    return new FollowerSettings(
        c.getDuration("keep-alive-interval"), c.getInt("page-size"), c.getInt("max-held"), c.getDuration("read-retry-delay"));
  }

  /** The same, taking at most {@code pageSize} events at a time (a consumer with a small buffer). */
  public FollowerSettings withPageSize(int size) {
    return new FollowerSettings(keepAliveInterval, Math.max(1, size), maxHeld, readRetryDelay);
  }
}
