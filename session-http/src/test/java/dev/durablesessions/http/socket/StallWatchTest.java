package dev.durablesessions.http.socket;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

/** When a client with a full queue counts as not reading: {@link StallWatch}. */
class StallWatchTest {
  static final Duration TIMEOUT = Duration.ofSeconds(2);
  static final Duration GAP = Duration.ofMillis(200);
  static final Instant T0 = Instant.parse("2026-11-30T12:00:00Z");

  @Test
  void aQueueThatDoesNotGoDownWhileWeLookIsStalledAfterTheTimeout() {
    StallWatch watch = new StallWatch(TIMEOUT, GAP);
    Instant now = T0;
    assertFalse(watch.stalled(now, 32));
    // Looks every 2 ms for the whole timeout: not yet (the timeout must be exceeded).
    for (int i = 0; i < 1000; i++) assertFalse(watch.stalled(now = now.plusMillis(2), 32), "look " + i);
    assertTrue(watch.stalled(now.plusMillis(2), 32));
  }

  @Test
  void aPauseOfTheNodeItselfLongerThanTheTimeoutIsNotTheClientsFault() {
    StallWatch watch = new StallWatch(TIMEOUT, GAP);
    assertFalse(watch.stalled(T0, 32));
    // The node did not run for 5 s (a GC pause): the client could not read, and our look was late too.
    assertFalse(watch.stalled(T0.plusSeconds(5), 32));
    // Once the node runs again, the client gets the timeout to show it reads.
    assertFalse(watch.stalled(T0.plusSeconds(5).plusMillis(100), 32));
  }

  @Test
  void progressAndRoomStartTheClockAgain() {
    StallWatch watch = new StallWatch(TIMEOUT, GAP);
    Instant now = T0;
    watch.stalled(now, 32);
    for (int i = 0; i < 900; i++) watch.stalled(now = now.plusMillis(2), 32);
    assertFalse(watch.stalled(now = now.plusMillis(2), 30), "the queue went down");
    for (int i = 0; i < 900; i++) assertFalse(watch.stalled(now = now.plusMillis(2), 30));
    watch.reset();
    for (int i = 0; i < 900; i++) assertFalse(watch.stalled(now = now.plusMillis(2), 30));
  }

  /**
   * Over any sequence of looks: stalled exactly when the looks since the queue last went down
   * (or since the watch started) add up, each gap capped, to more than the timeout.
   */
  @Property(tries = 500)
  void stalledExactlyWhenCountedTimeWithoutProgressExceedsTheTimeout(
      @ForAll @Size(min = 1, max = 300) List<@IntRange(min = 0, max = 700) Integer> gapsMillis,
      @ForAll @Size(min = 300, max = 300) List<@IntRange(min = 0, max = 3) Integer> queueSteps) {
    StallWatch watch = new StallWatch(TIMEOUT, GAP);
    Instant now = T0;
    int queued = 32;
    long countedMillis = 0;
    boolean first = true;
    for (int i = 0; i < gapsMillis.size(); i++) {
      int gap = gapsMillis.get(i);
      now = now.plusMillis(gap);
      int next = Math.max(0, queued - (queueSteps.get(i) == 0 ? 1 : 0));
      if (first || next < queued) countedMillis = 0;
      else countedMillis += Math.min(gap, GAP.toMillis());
      first = false;
      queued = next;
      boolean expected = countedMillis > TIMEOUT.toMillis();
      if (watch.stalled(now, queued) != expected) {
        throw new AssertionError("look " + i + ": counted " + countedMillis + " ms, expected stalled=" + expected);
      }
      if (expected) return;
    }
  }
}
