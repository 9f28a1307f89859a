package dev.durablesessions.session.transfer;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.durablesessions.CborSerializable;
import java.util.List;

/**
 * What whoever takes over needs to know, in the shape the persistent-agent handoff protocol
 * uses: what is in progress, what was decided and why, what comes next, what can wait and
 * whom we are waiting on. Just enough to decide quickly, not the whole history.
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record HandoffNote(
    List<String> inProgress, List<Decision> decided, List<String> next, List<String> canWait, List<String> waitingOn)
    implements CborSerializable {

  public record Decision(String what, String why) implements CborSerializable {}

  public HandoffNote {
    inProgress = inProgress == null ? List.of() : List.copyOf(inProgress);
    decided = decided == null ? List.of() : List.copyOf(decided);
    next = next == null ? List.of() : List.copyOf(next);
    canWait = canWait == null ? List.of() : List.copyOf(canWait);
    waitingOn = waitingOn == null ? List.of() : List.copyOf(waitingOn);
  }

  public static HandoffNote empty() {
    return new HandoffNote(null, null, null, null, null);
  }
}
