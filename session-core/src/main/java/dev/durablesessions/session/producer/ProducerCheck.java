package dev.durablesessions.session.producer;

import dev.durablesessions.session.ErrorCode;

/**
 * The exactly-once rule for one incoming stamp, decided against what is committed and what
 * is waiting in the coalescing buffer (accepted, not yet persisted).
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
    long epoch;
    long last;
    if (pending != null) {
      epoch = pending.epoch();
      last = pending.lastSeq();
    } else if (committed != null) {
      epoch = committed.epoch();
      last = committed.lastSeq();
    } else {
      return stamp.seq() == 0 ? new Fresh() : gap(stamp, 0);
    }
    if (stamp.epoch() < epoch) {
      return new Rejected(ErrorCode.STALE_EPOCH,
          "producer " + stamp.id() + " is at epoch " + epoch + "; epoch " + stamp.epoch() + " is fenced");
    }
    if (stamp.epoch() > epoch) {
      return stamp.seq() == 0 ? new Fresh() : gap(stamp, 0);
    }
    if (stamp.seq() == last + 1) return new Fresh();
    if (stamp.seq() > last + 1) return gap(stamp, last + 1);
    if (pending != null && pending.contains(stamp.seq())) return new Pending();
    long offset = committed != null && committed.epoch() == stamp.epoch() ? committed.offsetOf(stamp.seq()) : -1;
    return new Committed(offset);
  }

  private static Rejected gap(ProducerStamp stamp, long expected) {
    return new Rejected(ErrorCode.SEQUENCE_GAP,
        "producer " + stamp.id() + " epoch " + stamp.epoch() + " expected seq " + expected + ", got " + stamp.seq());
  }
}
