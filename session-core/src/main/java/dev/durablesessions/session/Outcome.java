package dev.durablesessions.session;

import dev.durablesessions.CborSerializable;

/** The answer to a command that may write. */
public sealed interface Outcome extends CborSerializable {

  /**
   * Written (or already written) at {@code offset}. {@code seq} echoes the producer sequence
   * this answers, so a coalesced run of deltas is acknowledged sequence by sequence.
   * {@code offset} is -1 only for a duplicate older than the producer window.
   */
  record Accepted(long offset, Long seq, boolean duplicate) implements Outcome {}

  record Refused(ErrorCode code, String message)
      implements Outcome, SummaryReply, StateReply, Feed, ErasureReply {}
}
