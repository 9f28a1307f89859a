package dev.durablesessions.http.limits;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.benmanes.caffeine.cache.Ticker;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Buckets per subject, on a clock the test moves: independent, forgotten when idle, bounded in number. */
class SubjectRateTest {
  final AtomicLong now = new AtomicLong(1_000);
  final Ticker clock = now::get;

  @Test
  void oneSubjectSpendingItsPermitsLeavesEveryOtherSubjectsUntouched() {
    SubjectRate rate = new SubjectRate("test", new Rate(3, Duration.ofSeconds(1)), 1000, clock);
    for (int i = 0; i < 3; i++) assertEquals(0, rate.take("ada"));
    assertTrue(rate.take("ada") > 0, "ada is over her rate");
    for (int i = 0; i < 3; i++) assertEquals(0, rate.take("bob"), "bob has his own bucket");
    assertTrue(rate.take("ada") > 0);
  }

  @Test
  void anIdleSubjectIsForgottenAfterItsPeriodAndStartsWithAFullBucket() {
    SubjectRate rate = new SubjectRate("test", new Rate(2, Duration.ofSeconds(10)), 1000, clock);
    assertEquals(0, rate.take("ada"));
    assertEquals(0, rate.take("ada"));
    long wait = rate.take("ada");
    assertEquals(Duration.ofSeconds(5).toNanos(), wait, "one permit comes back every 5 s");
    assertEquals(1, rate.trackedSubjects());

    now.addAndGet(Duration.ofSeconds(10).toNanos() - 1);
    assertEquals(1, rate.trackedSubjects(), "not idle for a whole period yet");
    now.addAndGet(1);
    assertEquals(0, rate.trackedSubjects(), "idle for its period: full, so forgotten");
    assertEquals(0, rate.take("ada"));
    assertEquals(0, rate.take("ada"));
    assertTrue(rate.take("ada") > 0, "a full bucket again, no more");
  }

  @Test
  void theNumberOfBucketsKeptIsBoundedWhateverTheNumberOfSubjects() {
    SubjectRate rate = new SubjectRate("test", new Rate(1, Duration.ofHours(1)), 100, clock);
    for (int i = 0; i < 10_000; i++) rate.take("subject-" + i);
    assertTrue(rate.trackedSubjects() <= 100, "kept " + rate.trackedSubjects());
  }

  @Test
  void aRateOfZeroLimitsNothingAndKeepsNothing() {
    SubjectRate rate = new SubjectRate("test", new Rate(0, Duration.ofSeconds(1)), 100, clock);
    for (int i = 0; i < 10_000; i++) assertEquals(0, rate.take("ada"));
    assertEquals(0, rate.trackedSubjects());
  }
}
