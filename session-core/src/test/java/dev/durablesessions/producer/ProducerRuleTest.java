package dev.durablesessions.producer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Property: whatever reaches the receiver (retries, duplicates, reordering, skipped numbers,
 * older incarnations), each (epoch, seq) is accepted at most once, an epoch's accepted
 * sequences are 0, 1, 2, ... in order, no older epoch is accepted once a newer one was, and a
 * producer that then sends its current epoch in order gets all of it accepted.
 */
class ProducerRuleTest {

  record Stamp(long epoch, long seq) {}

  @Test
  void everyStampIsAcceptedAtMostOnceAndInOrderWhateverArrives() {
    for (long seed = 0; seed < 2000; seed++) {
      Random random = new Random(seed);
      ProducerRule.Position position = null;
      Set<Stamp> accepted = new HashSet<>();
      List<Stamp> acceptedInOrder = new ArrayList<>();
      List<Stamp> sent = new ArrayList<>();
      long epoch = random.nextInt(3);
      long nextSeq = 0;
      for (int step = 0; step < 200; step++) {
        int action = random.nextInt(10);
        Stamp stamp;
        if (action < 4) {
          stamp = new Stamp(epoch, nextSeq++);
        } else if (action < 7 && !sent.isEmpty()) {
          stamp = sent.get(random.nextInt(sent.size())); // a retry, late or duplicated
        } else if (action == 7) {
          nextSeq += 1 + random.nextInt(3); // numbers the receiver never sees
          stamp = new Stamp(epoch, nextSeq++);
        } else if (action == 8) {
          epoch += 1 + random.nextInt(2); // the producer restarts
          nextSeq = random.nextInt(4) == 0 ? 1 : 0;
          stamp = new Stamp(epoch, nextSeq++);
        } else {
          stamp = new Stamp(Math.max(0, epoch - 1 - random.nextInt(2)), random.nextInt(5)); // an older incarnation
        }
        sent.add(stamp);
        ProducerRule.Verdict verdict = ProducerRule.check(position, stamp.epoch(), stamp.seq());
        if (verdict instanceof ProducerRule.Next) {
          assertTrue(accepted.add(stamp), "seed " + seed + ": " + stamp + " accepted twice");
          acceptedInOrder.add(stamp);
          position = new ProducerRule.Position(stamp.epoch(), stamp.seq());
        } else if (verdict instanceof ProducerRule.Repeat r) {
          assertTrue(accepted.contains(stamp), "seed " + seed + ": " + stamp + " called a repeat but never accepted");
          assertEquals(position, new ProducerRule.Position(r.epoch(), r.lastSeq()));
        } else if (verdict instanceof ProducerRule.Fenced f) {
          assertTrue(stamp.epoch() < f.currentEpoch(), "seed " + seed + ": " + stamp + " fenced by " + f);
        } else if (verdict instanceof ProducerRule.Gap g) {
          assertTrue(g.received() > g.expected() && g.received() == stamp.seq(), "seed " + seed + ": " + g);
        } else {
          assertInstanceOf(ProducerRule.NewEpochNotAtZero.class, verdict);
          assertTrue(position != null && stamp.epoch() > position.epoch() && stamp.seq() > 0, "seed " + seed);
        }
      }
      for (int i = 1; i < acceptedInOrder.size(); i++) {
        Stamp before = acceptedInOrder.get(i - 1);
        Stamp now = acceptedInOrder.get(i);
        assertTrue(now.epoch() > before.epoch() && now.seq() == 0
            || now.epoch() == before.epoch() && now.seq() == before.seq() + 1, "seed " + seed + ": " + before + " then " + now);
      }
      if (!acceptedInOrder.isEmpty()) assertEquals(0, acceptedInOrder.get(0).seq(), "seed " + seed);

      // The producer now sends its current epoch from 0 in order: all of it is accepted or a repeat.
      for (long seq = 0; seq < nextSeq; seq++) {
        ProducerRule.Verdict verdict = ProducerRule.check(position, epoch, seq);
        if (verdict instanceof ProducerRule.Next) position = new ProducerRule.Position(epoch, seq);
        else assertInstanceOf(ProducerRule.Repeat.class, verdict, "seed " + seed + ": seq " + seq);
      }
      if (nextSeq > 0) assertEquals(new ProducerRule.Position(epoch, nextSeq - 1), position, "seed " + seed);
    }
  }

  @Test
  void theVerdictNamesWhatTheProducerMustDoNext() {
    ProducerRule.Position at = new ProducerRule.Position(2, 5);
    assertEquals(new ProducerRule.Gap(0, 3), ProducerRule.check(null, 0, 3));
    assertInstanceOf(ProducerRule.Next.class, ProducerRule.check(null, 7, 0));
    assertEquals(new ProducerRule.Fenced(2), ProducerRule.check(at, 1, 6));
    assertInstanceOf(ProducerRule.NewEpochNotAtZero.class, ProducerRule.check(at, 3, 1));
    assertInstanceOf(ProducerRule.Next.class, ProducerRule.check(at, 3, 0));
    assertEquals(new ProducerRule.Repeat(2, 5), ProducerRule.check(at, 2, 0));
    assertEquals(new ProducerRule.Repeat(2, 5), ProducerRule.check(at, 2, 5));
    assertInstanceOf(ProducerRule.Next.class, ProducerRule.check(at, 2, 6));
    assertEquals(new ProducerRule.Gap(6, 9), ProducerRule.check(at, 2, 9));
  }
}
