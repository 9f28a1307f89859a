package dev.durablesessions.session.producer;

import dev.durablesessions.CborSerializable;
import java.util.ArrayList;
import java.util.List;

/**
 * What the session remembers of one producer: its current epoch, the last sequence written
 * in it and a bounded window of recent (sequence range, offset) pairs, so that a retried
 * append can be answered with the offset it was first written at. It is part of the
 * session state, rebuilt from the events that carry {@link SeqRange}s, so it survives
 * restarts and is written atomically with the data.
 */
public record ProducerState(long epoch, long lastSeq, List<Written> recent) implements CborSerializable {

  /** One event's worth of sequences and the offset it got. */
  public record Written(long firstSeq, long lastSeq, long offset) implements CborSerializable {}

  public static ProducerState first(SeqRange range, long offset) {
    return new ProducerState(range.epoch(), range.lastSeq(), List.of(new Written(range.firstSeq(), range.lastSeq(), offset)));
  }

  public ProducerState record(SeqRange range, long offset, int window) {
    List<Written> next = new ArrayList<>(Math.min(recent.size() + 1, window));
    if (range.epoch() == epoch) {
      int from = Math.max(0, recent.size() + 1 - window);
      next.addAll(recent.subList(from, recent.size()));
    }
    next.add(new Written(range.firstSeq(), range.lastSeq(), offset));
    return new ProducerState(range.epoch(), range.lastSeq(), List.copyOf(next));
  }

  /** The offset the sequence was written at, or -1 when it fell out of the window. */
  public long offsetOf(long seq) {
    for (int i = recent.size() - 1; i >= 0; i--) {
      Written w = recent.get(i);
      if (seq >= w.firstSeq() && seq <= w.lastSeq()) return w.offset();
    }
    return -1;
  }
}
