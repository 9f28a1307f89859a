package dev.durablesessions.http.socket;

import java.time.Duration;
import java.time.Instant;

/**
 * Whether a client with frames waiting in its queue is reading them. Its owner looks at the
 * queue every few milliseconds while it waits for room; the client is stalled once the queue
 * has not gone down for {@code timeout} of time in which the client could have read.
 *
 * <p>Only time between looks counts, and each gap at most {@code longestGap}: when the node
 * itself stops (a long GC pause, a starved CPU) neither the client's bytes nor our look get
 * through, and that pause is not the client's fault. Without the cap, one pause longer than
 * the timeout cut every socket that happened to be waiting, readers included. Pure: the clock
 * is passed in.
 */
final class StallWatch {
  private final Duration timeout;
  private final Duration longestGap;
  private boolean watching;
  private int lastQueued;
  private Instant lastLook;
  private Duration unread = Duration.ZERO;

  StallWatch(Duration timeout, Duration longestGap) {
    this.timeout = timeout;
    this.longestGap = longestGap;
  }

  /**
   * One look at a queue holding {@code queued} frames that the client should be reading down.
   * True when it has not gone down for the timeout.
   */
  boolean stalled(Instant now, int queued) {
    if (!watching || queued < lastQueued) {
      watching = true;
      unread = Duration.ZERO;
    } else {
      Duration gap = Duration.between(lastLook, now);
      if (gap.isNegative()) gap = Duration.ZERO;
      unread = unread.plus(gap.compareTo(longestGap) > 0 ? longestGap : gap);
    }
    lastQueued = queued;
    lastLook = now;
    return unread.compareTo(timeout) > 0;
  }

  /** The queue has room again (or nothing waits): the next look starts afresh. */
  void reset() {
    watching = false;
    unread = Duration.ZERO;
  }
}
