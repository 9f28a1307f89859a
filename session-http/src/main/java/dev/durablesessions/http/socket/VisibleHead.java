package dev.durablesessions.http.socket;

import dev.durablesessions.session.Participant;
import dev.durablesessions.session.SessionEvent;
import java.util.List;

/**
 * The {@code visibleHead} of an {@code attached} frame: the offset of the last event in
 * {@code (after, head]} that {@code viewer} may see, or {@code after} if there is none. After
 * delivering it (or at once, if it is {@code after}) the socket's backlog is done, even when the
 * head itself is an event the reader never receives (a receipt, another participant's
 * suggestion). Found by reading the journal backwards from the head, a page at a time, until an
 * event the viewer may see turns up; usually the first page ends the search. The first page is
 * small (it holds the head, almost always visible), later ones grow to {@code pageSize}: the
 * attached frame, which waits for this, should not wait for a catch-up-sized read.
 */
final class VisibleHead {
  sealed interface Step {}

  /** Read the events with offsets in [from, to] and hand them to {@link #onPage}. */
  record Read(long from, long to) implements Step {}

  record Found(long visibleHead) implements Step {}

  private final Participant viewer;
  private final long after;
  private final long head;
  private final int pageSize;
  private int nextSize;

  /** The first page's size, at most. */
  static final int FIRST_PAGE = 16;

  VisibleHead(Participant viewer, long after, long head, int pageSize) {
    if (pageSize < 1) throw new IllegalArgumentException("pageSize must be >= 1");
    this.viewer = viewer;
    this.after = after;
    this.head = head;
    this.pageSize = pageSize;
    this.nextSize = Math.min(FIRST_PAGE, pageSize);
  }

  Step start() {
    return head <= after ? new Found(after) : pageEndingAt(head);
  }

  /**
   * The events read for {@code read}. A page that does not reach {@code read.to()} comes from a
   * journal that has not caught up with the session yet: the same read again (after a pause).
   */
  Step onPage(Read read, List<SessionEvent> page) {
    if (page.isEmpty() || page.get(page.size() - 1).offset() < read.to()) return read;
    for (int i = page.size() - 1; i >= 0; i--) {
      SessionEvent event = page.get(i);
      if (event.offset() >= read.from() && event.offset() <= read.to() && event.visibleTo(viewer)) return new Found(event.offset());
    }
    return read.from() <= after + 1 ? new Found(after) : pageEndingAt(read.from() - 1);
  }

  private Read pageEndingAt(long to) {
    Read read = new Read(Math.max(after + 1, to - nextSize + 1), to);
    nextSize = (int) Math.min(pageSize, nextSize * 4L);
    return read;
  }
}
