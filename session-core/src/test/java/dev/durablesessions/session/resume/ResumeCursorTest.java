package dev.durablesessions.session.resume;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.durablesessions.session.Participant;
import dev.durablesessions.session.Role;
import dev.durablesessions.session.SessionEvent;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/**
 * Property: whatever the interleaving of live pushes (late, early, duplicated, overflowing the
 * hold buffer), journal pages and consumers dropping what does not fit, the consumer gets
 * every offset after its start exactly once and in order.
 */
class ResumeCursorTest {
  static final Participant P = Participant.of("p", Role.USER);

  static SessionEvent event(long offset) {
    return new SessionEvent.MessagePosted(offset, P, Instant.EPOCH, null, "m" + offset, "t" + offset);
  }

  @Test
  void everyLaterOffsetIsDeliveredExactlyOnceInOrderUnderAnyInterleaving() {
    for (long seed = 0; seed < 2000; seed++) {
      Random random = new Random(seed);
      int total = 1 + random.nextInt(300);
      long after = random.nextInt(total + 1);
      int maxHeld = 1 + random.nextInt(20);
      int pageSize = 1 + random.nextInt(50);
      ResumeCursor cursor = new ResumeCursor(after, maxHeld, pageSize);
      List<SessionEvent> out = new ArrayList<>();

      // The session attaches at some head and either replays its tail or leaves it to the journal.
      long head = after + random.nextInt((int) (total - after) + 1);
      boolean tailCovers = random.nextBoolean();
      ResumeCursor.Read pending = apply(cursor, cursor.onAttached(tailCovers ? after + 1 : head + 1), out);
      long nextLive = tailCovers ? after + 1 : head + 1;
      while (out.size() < total - after) {
        int action = random.nextInt(4);
        if (action == 0 && pending != null) {
          // the journal answers the outstanding read (sometimes it fails)
          if (random.nextInt(10) == 0) pending = apply(cursor, cursor.onReadFailed(), out);
          else pending = apply(cursor, cursor.onJournalPage(journal(pending, nextLive - 1)), out);
        } else if (nextLive <= total) {
          // live pushes, in batches, sometimes with a duplicate of something older
          int n = 1 + random.nextInt(5);
          List<SessionEvent> batch = new ArrayList<>();
          if (random.nextInt(8) == 0 && nextLive > 1) batch.add(event(1 + random.nextInt((int) nextLive - 1)));
          for (int i = 0; i < n && nextLive <= total; i++) batch.add(event(nextLive++));
          ResumeCursor.Read read = apply(cursor, cursor.onLive(batch), out);
          if (read != null) pending = read;
        } else if (pending != null) {
          pending = apply(cursor, cursor.onJournalPage(journal(pending, total)), out);
        }
      }
      List<Long> offsets = out.stream().map(SessionEvent::offset).toList();
      assertEquals(LongStream.rangeClosed(after + 1, total).boxed().toList(), offsets, "seed " + seed);
      assertFalse(cursor.catchingUp(), "seed " + seed);
      assertNull(pending, "seed " + seed);
    }
  }

  /**
   * A consumer with a queue that is sometimes full (as a socket's is): it keeps a prefix of what
   * it is handed, rewinds the cursor to the last event it kept, and must still end up with
   * every offset exactly once and in order, without ever seeing a gap.
   */
  @Test
  void aConsumerThatDropsWhatDoesNotFitAndRewindsStillGetsEveryOffsetOnceInOrder() {
    for (long seed = 0; seed < 2000; seed++) {
      Random random = new Random(seed);
      int total = 1 + random.nextInt(300);
      long after = random.nextInt(total + 1);
      ResumeCursor cursor = new ResumeCursor(after, 1 + random.nextInt(20), 1 + random.nextInt(50));
      QueueingConsumer consumer = new QueueingConsumer(cursor, after, random);
      long head = after + random.nextInt((int) (total - after) + 1);
      boolean tailCovers = random.nextBoolean();
      consumer.take(cursor.onAttached(tailCovers ? after + 1 : head + 1));
      long nextLive = tailCovers ? after + 1 : head + 1;
      int steps = 0;
      while (consumer.kept.size() < total - after) {
        assertTrue(++steps < 100_000, "no progress, seed " + seed);
        if (random.nextInt(3) == 0 && consumer.pending != null) {
          consumer.take(cursor.onJournalPage(journal(consumer.answer(), nextLive - 1)));
        } else if (nextLive <= total) {
          List<SessionEvent> batch = new ArrayList<>();
          for (int i = 1 + random.nextInt(5); i > 0 && nextLive <= total; i--) batch.add(event(nextLive++));
          consumer.take(cursor.onLive(batch));
        } else if (consumer.pending != null) {
          consumer.take(cursor.onJournalPage(journal(consumer.answer(), total)));
        }
      }
      assertEquals(LongStream.rangeClosed(after + 1, total).boxed().toList(), consumer.kept, "seed " + seed);
      assertFalse(cursor.catchingUp(), "seed " + seed);
    }
  }

  /** What a socket's connection actor does with deliveries: queue in order, drop on a full queue and rewind. */
  private static final class QueueingConsumer {
    final ResumeCursor cursor;
    final Random random;
    final List<Long> kept = new ArrayList<>();
    long passed;
    ResumeCursor.Read pending;

    QueueingConsumer(ResumeCursor cursor, long after, Random random) {
      this.cursor = cursor;
      this.passed = after;
      this.random = random;
    }

    void take(ResumeCursor.Step step) {
      if (step.read() != null) pending = step.read();
      for (SessionEvent e : step.deliver()) {
        if (e.offset() <= passed) continue;
        assertEquals(passed + 1, e.offset(), "a gap reached the consumer");
        if (random.nextInt(6) == 0) { // the queue is full: this and the rest of the delivery are dropped
          ResumeCursor.Step again = cursor.rewind(passed);
          assertTrue(again.deliver().isEmpty(), "a rewind hands nothing over by itself");
          if (again.read() != null) pending = again.read();
          return;
        }
        kept.add(e.offset());
        passed = e.offset();
      }
    }

    ResumeCursor.Read answer() {
      ResumeCursor.Read read = pending;
      pending = null;
      return read;
    }
  }

  /** The journal holds every event the session has written so far (up to {@code written}). */
  private static List<SessionEvent> journal(ResumeCursor.Read read, long written) {
    List<SessionEvent> page = new ArrayList<>();
    for (long o = read.from(); o <= Math.min(read.to(), written); o++) page.add(event(o));
    return page;
  }

  private static ResumeCursor.Read apply(ResumeCursor cursor, ResumeCursor.Step step, List<SessionEvent> out) {
    out.addAll(step.deliver());
    return step.read();
  }

  @Test
  void liveEventsWhileCatchingUpAreHeldAndReleasedAfterTheGap() {
    ResumeCursor cursor = new ResumeCursor(0, 10, 100);
    ResumeCursor.Step attach = cursor.onAttached(6); // 1..5 are in the journal
    assertEquals(new ResumeCursor.Read(1, 5), attach.read());
    assertEquals(List.of(), cursor.onLive(List.of(event(6), event(7))).deliver());
    ResumeCursor.Step page = cursor.onJournalPage(List.of(event(1), event(2), event(3), event(4), event(5)));
    assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L), page.deliver().stream().map(SessionEvent::offset).toList());
    assertNull(page.read());
    assertEquals(List.of(8L), cursor.onLive(List.of(event(7), event(8))).deliver().stream().map(SessionEvent::offset).toList());
  }
}
