package dev.durablesessions.http.socket;

import com.typesafe.config.Config;
import java.time.Duration;

/** {@code durable-sessions.http.socket}: see reference.conf. */
public record SocketSettings(
    int outboundBuffer, int maxFrameBytes, int maxInFlight, Duration askTimeout, Duration slowConsumerAbortAfter,
    Duration heartbeatTimeout, Duration stallTimeout, int batchMaxEvents, int batchMaxChars, int batchPageSize) {
  public static SocketSettings fromConfig(Config root) {
    Config c = root.getConfig("durable-sessions.http.socket");
    return new SocketSettings(
        c.getInt("outbound-buffer"),
        (int) c.getMemorySize("max-frame-size").toBytes(),
        c.getInt("max-in-flight"),
        c.getDuration("ask-timeout"),
        c.getDuration("slow-consumer-abort-after"),
        c.getDuration("heartbeat-timeout"),
        c.getDuration("stall-timeout"),
        c.getInt("batch.max-events"),
        (int) c.getMemorySize("batch.max-size").toBytes(),
        c.getInt("batch.page-size"));
  }
}
