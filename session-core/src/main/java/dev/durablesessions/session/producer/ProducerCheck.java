package dev.durablesessions.session.producer;

import dev.durablesessions.producer.ProducerRule;
import dev.durablesessions.session.ErrorCode;

/**
 * The exactly-once rule ({@link ProducerRule}) for one incoming stamp, decided against what is
 * committed and what is waiting in the coalescing buffer (accepted, not yet persisted), in the
 * session's terms: a retry is answered with the offset it was written at.
 */
public sealed interface ProducerCheck {

  /** A new sequence: write it. */
  record Fresh() implements ProducerCheck {}

  /** Already written at {@code offset} (-1 if outside the remembered window): write nothing. */
  record Committed(long offset) implements ProducerCheck {}

  /** Accepted and waiting in the coalescing buffer: answer when it is flushed, write nothing more. */
  record Pending() implements ProducerCheck {}

  record Rejected(ErrorCode code, String message) implements ProducerCheck {}

  /**
   * @param committed the producer's committed state, or null if it never wrote here
   * @param pending the sequences of this producer held in the coalescing buffer, or null
   */
  static ProducerCheck of(ProducerState committed, SeqRange pending, ProducerStamp stamp) {
    if (stamp.id() == null || stamp.id().isBlank() || stamp.epoch() < 0 || stamp.seq() < 0) {
      return new Rejected(ErrorCode.INVALID_REQUEST, "producer needs an id, and epoch and seq >= 0");
    }
    ProducerRule.Position known = pending != null ? new ProducerRule.Position(pending.epoch(), pending.lastSeq())
        : committed != null ? new ProducerRule.Position(committed.epoch(), committed.lastSeq()) : null;
    ProducerRule.Verdict verdict = ProducerRule.check(known, stamp.epoch(), stamp.seq());
    if (verdict instanceof ProducerRule.Next) return new Fresh();
    if (verdict instanceof ProducerRule.Gap g) return gap(stamp, g.expected());
    if (verdict instanceof ProducerRule.NewEpochNotAtZero) return gap(stamp, 0);
    if (verdict instanceof ProducerRule.Fenced f) {
      return new Rejected(ErrorCode.STALE_EPOCH,
          "producer " + stamp.id() + " is at epoch " + f.currentEpoch() + "; epoch " + stamp.epoch() + " is fenced");
    }
    if (verdict instanceof ProducerRule.Repeat) {
      if (pending != null && pending.contains(stamp.seq())) return new Pending();
      long offset = committed != null && committed.epoch() == stamp.epoch() ? committed.offsetOf(stamp.seq()) : -1;
      return new Committed(offset);
    }
    throw new IllegalStateException("unhandled verdict " + verdict);
  }

  private static Rejected gap(ProducerStamp stamp, long expected) {
    return new Rejected(ErrorCode.SEQUENCE_GAP,
        "producer " + stamp.id() + " epoch " + stamp.epoch() + " expected seq " + expected + ", got " + stamp.seq());
  }
}
