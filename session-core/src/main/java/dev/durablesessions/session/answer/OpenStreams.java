package dev.durablesessions.session.answer;

import dev.durablesessions.session.EndReason;
import dev.durablesessions.session.EventAt;
import dev.durablesessions.session.Participant;
import dev.durablesessions.session.SessionEvent;
import dev.durablesessions.session.SessionState;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Ending answer streams that are still open, in one place: a participant who leaves or is
 * lost, agents losing the floor and a session closing all end them the same way, in the
 * order the streams were opened.
 */
public final class OpenStreams {
  private OpenStreams() {}

  /** One {@code stream.ended} per open stream whose owner (a participant id) matches. */
  public static List<EventAt> endAll(
      SessionState state, Predicate<String> owner, Participant by, EndReason reason, String detail) {
    List<EventAt> events = new ArrayList<>();
    for (Map.Entry<String, String> open : state.openStreams().entrySet()) {
      if (owner.test(open.getValue())) {
        String messageId = open.getKey();
        events.add((o, at) -> new SessionEvent.StreamEnded(o, by, at, null, messageId, reason, detail));
      }
    }
    return events;
  }
}
