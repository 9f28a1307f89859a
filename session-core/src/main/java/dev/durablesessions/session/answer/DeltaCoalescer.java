package dev.durablesessions.session.answer;

import dev.durablesessions.session.Outcome;
import dev.durablesessions.session.Participant;
import dev.durablesessions.session.SessionEvent.StreamDelta;
import dev.durablesessions.session.producer.ProducerStamp;
import dev.durablesessions.session.producer.SeqRange;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * Holds the deltas of one streamed message that arrive within the linger window, so they are
 * persisted and delivered as one event. Each producer sequence is still acknowledged on its
 * own once the merged event is persisted. Owned by one session actor; not thread-safe.
 */
public final class DeltaCoalescer {

  /** Who waits for an answer when the held text is written. */
  public record Ack(ActorRef<Outcome> replyTo, Long seq, boolean duplicate) {}

  /** The merged event and the answers it owes. */
  public record Drained(StreamDelta event, List<Ack> acks) {}

  private final int maxBytes;
  private Participant by;
  private String messageId;
  private final StringBuilder text = new StringBuilder();
  private int bytes;
  private int parts;
  private SeqRange range;
  private final List<Ack> acks = new ArrayList<>();

  public DeltaCoalescer(int maxBytes) {
    this.maxBytes = maxBytes;
  }

  public boolean isEmpty() {
    return by == null;
  }

  /** True if this delta may be merged into what is held. */
  public boolean accepts(Participant from, String message, ProducerStamp stamp, String delta) {
    if (isEmpty() || !by.id().equals(from.id()) || !messageId.equals(message)) return false;
    if ((stamp == null) != (range == null)) return false;
    if (stamp != null && (!stamp.id().equals(range.producerId()) || stamp.epoch() != range.epoch())) return false;
    return bytes + utf8Length(delta) <= maxBytes;
  }

  public void hold(Participant from, String message, ProducerStamp stamp, String delta, ActorRef<Outcome> replyTo) {
    if (isEmpty()) {
      by = from;
      messageId = message;
      range = stamp == null ? null : SeqRange.of(stamp);
    } else if (stamp != null) {
      range = range.extendTo(stamp.seq());
    }
    text.append(delta);
    bytes += utf8Length(delta);
    parts++;
    acks.add(new Ack(replyTo, stamp == null ? null : stamp.seq(), false));
  }

  /** A retry of a sequence that is held: answer it with the others when written. */
  public void holdDuplicate(ActorRef<Outcome> replyTo, long seq) {
    acks.add(new Ack(replyTo, seq, true));
  }

  public boolean full() {
    return bytes >= maxBytes;
  }

  /** The sequences held for this producer, or null. */
  public SeqRange heldRange(String producerId) {
    return range != null && range.producerId().equals(producerId) ? range : null;
  }

  public Drained drain(long offset, Instant at) {
    StreamDelta event = new StreamDelta(offset, by, at, range, messageId, text.toString(), parts);
    Drained drained = new Drained(event, List.copyOf(acks));
    by = null;
    messageId = null;
    text.setLength(0);
    bytes = 0;
    parts = 0;
    range = null;
    acks.clear();
    return drained;
  }

  static int utf8Length(String s) {
    int n = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x80) n++;
      else if (c < 0x800) n += 2;
      else if (Character.isHighSurrogate(c)) {
        n += 4;
        i++;
      } else n += 3;
    }
    return n;
  }
}
