package dev.durablesessions.durablestream;

import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * A stream's expiry: Stream-Expires-At, or a sliding TTL that reads and writes renew. Writes
 * renew it through their events; a read's renewal is kept here, in the entity, and written as
 * one {@link StreamEvent.Touched} when the stream goes to sleep, so a read costs no journal
 * write. Expiry is checked on every request and by a timer while the stream is in memory.
 */
final class Expiry {
  /**
   * Pekko's scheduler refuses delays beyond about 248 days (and the stream would stop on it), while
   * Stream-TTL and Stream-Expires-At may lie years ahead: a later deadline is re-checked daily.
   */
  private static final Duration LONGEST_TIMER = Duration.ofDays(1);
  private static final String TIMER = "expiry";

  private final Clock clock;
  private final TimerScheduler<StreamCommand> timers;
  /** The latest renewal by a read, not yet written (0: none). */
  private long renewedAt;

  Expiry(Clock clock, TimerScheduler<StreamCommand> timers) {
    this.clock = clock;
    this.timers = timers;
  }

  long now() {
    return clock.millis();
  }

  /** Whether the live stream {@code s} has expired by now. */
  boolean expired(StreamState s) {
    Long deadline = s.deadline(lastAccess(s));
    return deadline != null && now() >= deadline;
  }

  /** A read or a write that does not change the stream renews a sliding TTL. */
  void renew(StreamState s) {
    if (!s.live()) return;
    renewedAt = Math.max(lastAccess(s), now());
    if (s.ttlSeconds != null) arm(s);
  }

  /** A read that asked to renew ({@link StreamCommand.Read#renew}) is answered. */
  void renewFor(StreamState s, StreamCommand.Read read) {
    if (read.renew()) renew(s);
  }

  /** The renewal to write before the stream goes to sleep, if reads renewed it since its last write. */
  Optional<StreamEvent.Touched> unwritten(StreamState s) {
    if (s.live() && s.ttlSeconds != null && renewedAt > s.lastAccess) return Optional.of(new StreamEvent.Touched(renewedAt));
    return Optional.empty();
  }

  /** Starts (or moves, or cancels) the timer that checks expiry at the stream's deadline. */
  void arm(StreamState s) {
    Long deadline = s.deadline(lastAccess(s));
    if (deadline == null) {
      timers.cancel(TIMER);
      return;
    }
    long delay = Math.max(1, deadline - now() + 5);
    timers.startSingleTimer(TIMER, StreamCommand.CheckExpiry.INSTANCE, Duration.ofMillis(Math.min(delay, LONGEST_TIMER.toMillis())));
  }

  private long lastAccess(StreamState s) {
    return Math.max(s.lastAccess, renewedAt);
  }
}
