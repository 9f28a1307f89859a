package dev.durablesessions.durablestream;

import com.typesafe.config.Config;
import java.time.Duration;

/** {@code durable-sessions.streams} in reference.conf says what each means. */
public record StreamSettings(
    Duration longPollTimeout, int maxAppendBytes, int maxReadBytes, Duration askTimeout,
    boolean open, String journalPluginId, String snapshotPluginId) {

  public static StreamSettings fromConfig(Config root) {
    Config c = root.getConfig("durable-sessions.streams");
    return new StreamSettings(
        c.getDuration("long-poll-timeout"),
        (int) c.getMemorySize("max-append-bytes").toBytes(),
        (int) c.getMemorySize("max-read-bytes").toBytes(),
        c.getDuration("ask-timeout"),
        c.getBoolean("open"),
        root.getString("durable-sessions.session.journal-plugin-id"),
        root.getString("durable-sessions.session.snapshot-plugin-id"));
  }
}
