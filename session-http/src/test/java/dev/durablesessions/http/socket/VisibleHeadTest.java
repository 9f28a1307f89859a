package dev.durablesessions.http.socket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.durablesessions.session.Participant;
import dev.durablesessions.session.Role;
import dev.durablesessions.session.SessionEvent;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Over random logs of messages, receipts and suggestions (seeded), for readers of each kind,
 * the search finds exactly the last event in (after, head] the reader may see, or after if
 * there is none; and a journal that lags behind the head is asked again, never guessed past.
 */
class VisibleHeadTest {
  static final Instant AT = Instant.parse("2026-01-01T00:00:00Z");
  static final Participant ADA = Participant.of("ada", Role.USER);
  static final Participant BOT = Participant.of("bot", Role.AGENT);
  static final Participant SAM = Participant.of("sam", Role.SUPPORT);

  static SessionEvent event(long offset, int kind) {
    return switch (kind) {
      case 0 -> new SessionEvent.ReceiptRecorded(offset, ADA, AT, null, ADA, "phone", offset - 1, AT);
      case 1 -> new SessionEvent.SuggestionMade(offset, BOT, AT, null, "refund");
      default -> new SessionEvent.SuggestionMade(offset, ADA, AT, null, "mine");
    };
  }

  @Test
  void findsTheLastEventUpToTheHeadTheReaderMaySee() {
    Random random = new Random(11);
    for (int trial = 0; trial < 2000; trial++) {
      int head = 1 + random.nextInt(200);
      List<SessionEvent> log = new ArrayList<>();
      // mostly invisible events, so that the search often has to go back more than a page
      for (long o = 1; o <= head; o++) log.add(random.nextInt(10) == 0 ? new SessionEvent.AgentStalled(o, BOT, AT, null, "bot", "m", 1) : event(o, random.nextInt(3)));
      long after = random.nextInt(head + 1);
      int pageSize = 1 + random.nextInt(40);
      for (Participant viewer : List.of(ADA, BOT, SAM)) {
        long expected = after;
        for (SessionEvent e : log) if (e.offset() > after && e.visibleTo(viewer)) expected = e.offset();
        VisibleHead search = new VisibleHead(viewer, after, head, pageSize);
        VisibleHead.Step step = search.start();
        int reads = 0;
        while (step instanceof VisibleHead.Read read) {
          assertTrue(read.from() > after && read.to() <= head && read.from() <= read.to(), "reads only (after, head]: " + read);
          boolean lagging = random.nextInt(5) == 0;
          List<SessionEvent> page = log.subList((int) read.from() - 1, (int) (lagging ? read.to() - 1 : read.to()));
          VisibleHead.Step next = search.onPage(read, page);
          if (lagging) assertEquals(read, next, "a page short of its end is read again");
          step = next;
          assertTrue(++reads < 1000, "the search ends");
        }
        assertEquals(expected, ((VisibleHead.Found) step).visibleHead(), viewer + " after " + after + " head " + head);
      }
    }
  }
}
