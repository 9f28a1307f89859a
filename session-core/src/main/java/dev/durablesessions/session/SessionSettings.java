package dev.durablesessions.session;

import com.typesafe.config.Config;
import java.time.Duration;

/** The session entity's tunables: {@code durable-sessions.session} in reference.conf says what each means. */
public record SessionSettings(
    Duration coalesceLinger,
    int coalesceMaxBytes,
    int recentEvents,
    int snapshotEvery,
    int producerWindow,
    String journalPluginId,
    String snapshotPluginId,
    Duration grace,
    Duration stallAfter,
    Duration reattachWindow,
    Duration receiptInterval,
    Duration coalesceLingerWithoutAudience) {

  public static SessionSettings fromConfig(Config root) {
    Config c = root.getConfig("durable-sessions.session");
    return new SessionSettings(
        c.getDuration("coalesce-linger"),
        (int) c.getMemorySize("coalesce-max-bytes").toBytes(),
        c.getInt("recent-events"),
        c.getInt("snapshot-every"),
        c.getInt("producer-window"),
        c.getString("journal-plugin-id"),
        c.getString("snapshot-plugin-id"),
        root.getDuration("durable-sessions.presence.grace"),
        root.getDuration("durable-sessions.presence.stall-after"),
        root.getDuration("durable-sessions.presence.reattach-window"),
        c.getDuration("receipt-interval"),
        c.getDuration("coalesce-linger-without-audience"));
  }

  public boolean coalescing() {
    return !coalesceLinger.isZero();
  }

  public SessionSettings withCoalesceLinger(Duration linger) {
    return new SessionSettings(linger, coalesceMaxBytes, recentEvents, snapshotEvery, producerWindow, journalPluginId,
        snapshotPluginId, grace, stallAfter, reattachWindow, receiptInterval, coalesceLingerWithoutAudience);
  }
}
