package dev.durablesessions.http.socket;

import dev.durablesessions.session.ErrorCode;
import dev.durablesessions.session.Outcome;
import dev.durablesessions.session.Participant;
import dev.durablesessions.session.SessionEvent;
import java.time.Duration;
import java.time.Instant;

/**
 * What the server sends over a socket; docs/PROTOCOL.md shows each. {@link Frames#write} is the
 * one place that turns them into JSON.
 */
public sealed interface ServerFrame {

  /**
   * The first frame of a socket: the session accepted the subscription. {@code visibleHead} is
   * the last offset up to {@code head} this reader will receive ({@code after} if none; see
   * {@link VisibleHead}). A zero heartbeat timeout is left out (none).
   */
  record Attached(
      String sessionId, Participant participant, String device, long head, long after, long visibleHead, Duration heartbeatTimeout)
      implements ServerFrame {}

  /** A session event this participant may see, as the journal holds it. */
  record Event(SessionEvent event) implements ServerFrame {}

  /** The answer to an accepted append or leave. */
  record Ack(String ref, Outcome.Accepted accepted) implements ServerFrame {}

  /** The answer to an accepted auth frame: the socket now lives until {@code expiresAt} (null: no expiry). */
  record AuthAck(String ref, Instant expiresAt) implements ServerFrame {}

  /** A refused frame or a failure; {@code retryAfterMs} (rate_limited only, else null) says when a permit is free. */
  record Error(String ref, ErrorCode code, String message, Long retryAfterMs) implements ServerFrame {
    public Error(String ref, ErrorCode code, String message) {
      this(ref, code, message, null);
    }
  }

  /** The last frame before the server closes the socket; {@code resumable} says reconnecting with your last offset works. */
  record Closing(int code, String reason, boolean resumable, String message) implements ServerFrame {}
}
