package dev.durablesessions.http.durablestreams;

import java.util.concurrent.ThreadLocalRandom;

/**
 * {@code Stream-Cursor} values: the number of 20-second intervals since 2024-10-09T00:00Z, so
 * caches that key on the cursor see a new URL every interval. A client echoing the current (or a
 * later) interval gets a strictly larger value with jitter, so two long-polls never share a
 * cached response.
 */
final class Cursors {
  private Cursors() {}

  private static final long EPOCH_MILLIS = 1_728_432_000_000L;
  private static final long INTERVAL_MILLIS = 20_000;

  static String next(String echoed) {
    long interval = (System.currentTimeMillis() - EPOCH_MILLIS) / INTERVAL_MILLIS;
    long sent = -1;
    if (echoed != null && !echoed.isEmpty() && echoed.length() < 19 && echoed.chars().allMatch(Character::isDigit)) {
      sent = Long.parseLong(echoed);
    }
    if (sent < interval) return Long.toString(interval);
    long jitterSeconds = ThreadLocalRandom.current().nextLong(1, 3601);
    return Long.toString(sent + Math.max(1, (jitterSeconds + 19) / 20));
  }
}
