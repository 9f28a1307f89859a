package dev.durablesessions.http.limits;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The one-number bucket behaves exactly like a token bucket counted the long way (a credit
 * that fills with time up to the capacity and pays one interval per permit), whatever the
 * rate and the request times, including where the clock wraps; and no race between threads
 * ever grants more permits than the bucket holds.
 */
class TokenBucketTest {

  /** The reference: credit in nanoseconds, up to count intervals; a permit costs one interval. */
  static final class CountedBucket {
    final long interval;
    final long capacity;
    long credit;
    long last;

    CountedBucket(Rate rate, long now) {
      interval = rate.intervalNanos();
      capacity = rate.count() * interval;
      credit = capacity;
      last = now;
    }

    long take(long now) {
      credit = Math.min(capacity, credit + (now - last));
      last = now;
      if (credit >= interval) {
        credit -= interval;
        return 0;
      }
      return interval - credit;
    }
  }

  @Test
  void grantsTheWholeBucketAtOnceThenOnePermitPerInterval() {
    Rate rate = new Rate(5, Duration.ofSeconds(1));
    TokenBucket bucket = new TokenBucket(rate, 0);
    for (int i = 0; i < 5; i++) assertEquals(0, bucket.take(0), "permit " + i);
    long interval = TimeUnit.MILLISECONDS.toNanos(200);
    assertEquals(interval, bucket.take(0), "the sixth waits one interval");
    assertEquals(1, bucket.take(interval - 1), "nothing was taken by the refusal");
    assertEquals(0, bucket.take(interval));
    assertTrue(bucket.take(interval) > 0);
    assertTrue(!bucket.fullAt(interval) && bucket.fullAt(6 * interval), "full again once every permit has come back");
  }

  @Test
  void agreesWithACountedTokenBucketForAnyRateAndAnyRequestTimes() {
    for (long seed = 0; seed < 3000; seed++) {
      Random random = new Random(seed);
      Rate rate = new Rate(1 + random.nextInt(50), Duration.ofMillis(1 + random.nextInt(5000)));
      // Start anywhere, near the wrap of the nanosecond clock too.
      long now = random.nextBoolean() ? random.nextLong() : Long.MAX_VALUE - random.nextInt(1_000_000);
      TokenBucket bucket = new TokenBucket(rate, now);
      CountedBucket reference = new CountedBucket(rate, now);
      int steps = 1 + random.nextInt(300);
      for (int i = 0; i < steps; i++) {
        // bursts at one instant, small steps, exact waits, and long idle gaps
        switch (random.nextInt(4)) {
          case 0 -> { }
          case 1 -> now += random.nextInt((int) Math.min(Integer.MAX_VALUE - 1, rate.intervalNanos() * 2) + 1);
          case 2 -> now += reference.credit >= reference.interval ? 0 : reference.interval - reference.credit;
          default -> now += (long) random.nextInt(3) * rate.per().toNanos();
        }
        long expected = reference.take(now);
        assertEquals(expected, bucket.take(now), "seed " + seed + ", step " + i + ", rate " + rate);
        assertEquals(reference.credit == reference.capacity, bucket.fullAt(now), "full at seed " + seed + ", step " + i);
      }
    }
  }

  @Test
  void racingThreadsNeverTakeMoreThanTheBucketHolds() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      for (int round = 0; round < 50; round++) {
        TokenBucket bucket = new TokenBucket(new Rate(100, Duration.ofHours(1)), 42);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<Integer>> takers = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
          takers.add(pool.submit(() -> {
            start.await();
            int granted = 0;
            for (int i = 0; i < 50; i++) if (bucket.take(42) == 0) granted++;
            return granted;
          }));
        }
        start.countDown();
        int granted = 0;
        for (Future<Integer> f : takers) granted += f.get(10, TimeUnit.SECONDS);
        assertEquals(100, granted, "round " + round);
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
