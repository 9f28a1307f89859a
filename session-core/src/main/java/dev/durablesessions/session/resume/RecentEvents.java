package dev.durablesessions.session.resume;

import dev.durablesessions.session.SessionEvent;
import java.util.ArrayList;
import java.util.List;

/**
 * The session's bounded in-memory tail: the last {@code capacity} events, contiguous by
 * offset. A subscriber whose offset falls inside it is served from memory; older offsets
 * come from the journal. Owned by one session actor; not thread-safe.
 */
public final class RecentEvents {
  private final SessionEvent[] ring;
  private int size;
  private int next;

  public RecentEvents(int capacity) {
    if (capacity < 1) throw new IllegalArgumentException("capacity must be >= 1");
    this.ring = new SessionEvent[capacity];
  }

  public void add(SessionEvent event) {
    if (size > 0 && event.offset() != lastOffset() + 1) {
      // Not contiguous (recovery from a snapshot starts mid-log): forget what we had.
      size = 0;
      next = 0;
    }
    ring[next] = event;
    next = (next + 1) % ring.length;
    if (size < ring.length) size++;
  }

  /** Forgets every held event (the session was erased, or a write failed: the events it held were applied but may not be in the journal). */
  public void clear() {
    java.util.Arrays.fill(ring, null);
    size = 0;
    next = 0;
  }

  public boolean isEmpty() {
    return size == 0;
  }

  public long firstOffset() {
    return get(0).offset();
  }

  public long lastOffset() {
    return get(size - 1).offset();
  }

  /** True if every event after {@code afterOffset} up to {@code head} is held here. */
  public boolean covers(long afterOffset, long head) {
    if (afterOffset >= head) return true;
    return size > 0 && firstOffset() <= afterOffset + 1 && lastOffset() == head;
  }

  /** The held events with offset > afterOffset, in order. */
  public List<SessionEvent> after(long afterOffset) {
    List<SessionEvent> out = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      SessionEvent e = get(i);
      if (e.offset() > afterOffset) out.add(e);
    }
    return out;
  }

  private SessionEvent get(int i) {
    int start = (next - size + ring.length) % ring.length;
    return ring[(start + i) % ring.length];
  }
}
