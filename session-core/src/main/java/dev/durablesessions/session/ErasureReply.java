package dev.durablesessions.session;

import dev.durablesessions.CborSerializable;
import dev.durablesessions.session.erasure.ErasureRecord;

/** The answer to {@code SessionCommand.Erase}. */
public sealed interface ErasureReply extends CborSerializable permits ErasureReply.Erased, Outcome.Refused {

  /**
   * The session is erased and its events and snapshots are deleted; {@code record} is the audit
   * record. {@code already} when it had been erased before this request (the record is the first one).
   */
  record Erased(ErasureRecord record, boolean already) implements ErasureReply {}
}
