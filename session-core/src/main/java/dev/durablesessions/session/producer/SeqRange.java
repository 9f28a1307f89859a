package dev.durablesessions.session.producer;

import dev.durablesessions.CborSerializable;

/**
 * The producer sequences one event stands for. One append gives firstSeq == lastSeq; a
 * coalesced stream delta covers the contiguous run of sequences it merged.
 */
public record SeqRange(String producerId, long epoch, long firstSeq, long lastSeq)
    implements CborSerializable {

  public static SeqRange of(ProducerStamp stamp) {
    return new SeqRange(stamp.id(), stamp.epoch(), stamp.seq(), stamp.seq());
  }

  public SeqRange extendTo(long seq) {
    return new SeqRange(producerId, epoch, firstSeq, seq);
  }

  public boolean contains(long seq) {
    return seq >= firstSeq && seq <= lastSeq;
  }
}
