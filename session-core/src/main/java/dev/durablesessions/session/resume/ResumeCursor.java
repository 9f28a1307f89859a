package dev.durablesessions.session.resume;

import dev.durablesessions.session.SessionEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * The catch-up-to-live hand-over, decided by offset alone. A follower starts after some offset
 * and must hand its consumer every later event exactly once and in order, although live
 * events keep arriving while older ones are read from the journal.
 *
 * <p>Rules: an event at or below {@link #delivered()} is a duplicate and dropped. The next
 * offset is delivered at once. Anything further ahead means a gap: it is held (up to
 * {@code maxHeld}, beyond which it is dropped and read again later) and the gap is read from
 * the journal in pages. When the reads reach the held events they are released in order and
 * the cursor is live again. A consumer that could not take what it was handed (its queue was
 * full) {@link #rewind rewinds} the cursor to the last offset it kept; the rest is read again
 * from the journal. Pure logic: the owning actor performs the reads.
 */
public final class ResumeCursor {

  /** Read offsets [from, to] from the journal, then call {@link #onJournalPage}. */
  public record Read(long from, long to) {}

  /** What to do now: deliver these events (in order), and maybe start one read. */
  public record Step(List<SessionEvent> deliver, Read read) {}

  private final int maxHeld;
  private final int pageSize;
  private final TreeMap<Long, SessionEvent> held = new TreeMap<>();
  private long delivered;
  private long known;
  private boolean reading;

  public ResumeCursor(long afterOffset, int maxHeld, int pageSize) {
    this.delivered = afterOffset;
    this.known = afterOffset;
    this.maxHeld = maxHeld;
    this.pageSize = pageSize;
  }

  /** The highest offset handed to the consumer. */
  public long delivered() {
    return delivered;
  }

  /** True while a gap is being filled from the journal. */
  public boolean catchingUp() {
    return known > delivered;
  }

  /** The session says everything up to {@code replayFrom - 1} is for us to read from the journal. */
  public Step onAttached(long replayFrom) {
    known = Math.max(known, replayFrom - 1);
    return advance(new ArrayList<>());
  }

  /** Events pushed by the session (tail or live). */
  public Step onLive(List<SessionEvent> events) {
    List<SessionEvent> out = new ArrayList<>();
    for (SessionEvent e : events) {
      long offset = e.offset();
      known = Math.max(known, offset);
      if (offset <= delivered) continue;
      if (offset == delivered + 1 && held.isEmpty() && !reading) {
        out.add(e);
        delivered = offset;
      } else if (held.size() < maxHeld || offset < held.lastKey()) {
        held.put(offset, e);
        if (held.size() > maxHeld) held.pollLastEntry();
      }
    }
    return advance(out);
  }

  /** The answer to the outstanding {@link Read}. */
  public Step onJournalPage(List<SessionEvent> page) {
    reading = false;
    List<SessionEvent> out = new ArrayList<>();
    for (SessionEvent e : page) {
      if (e.offset() == delivered + 1) {
        out.add(e);
        delivered = e.offset();
      }
    }
    return advance(out);
  }

  /**
   * The consumer kept only the events up to {@code offset} of what it was handed: everything
   * after it is delivered again, read from the journal (an answer to a read already under way
   * that no longer fits is ignored, and the read is asked again). Nothing to do if the
   * consumer kept everything.
   */
  public Step rewind(long offset) {
    if (offset >= delivered) return new Step(new ArrayList<>(), null);
    known = Math.max(known, delivered);
    delivered = offset;
    return advance(new ArrayList<>());
  }

  /** The outstanding read failed; the next step asks for it again. */
  public Step onReadFailed() {
    reading = false;
    return advance(new ArrayList<>());
  }

  private Step advance(List<SessionEvent> out) {
    while (!held.isEmpty() && held.firstKey() <= delivered + 1) {
      SessionEvent e = held.pollFirstEntry().getValue();
      if (e.offset() == delivered + 1) {
        out.add(e);
        delivered = e.offset();
      }
    }
    if (delivered >= known || reading) return new Step(out, null);
    long gapEnd = held.isEmpty() ? known : held.firstKey() - 1;
    reading = true;
    return new Step(out, new Read(delivered + 1, Math.min(gapEnd, delivered + pageSize)));
  }
}
