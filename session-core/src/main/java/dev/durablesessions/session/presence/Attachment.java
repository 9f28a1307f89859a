package dev.durablesessions.session.presence;

import dev.durablesessions.session.SessionCommand.Attach;
import java.time.Instant;

/** A subscriber attached to this incarnation of the session: runtime only, re-learned by keep-alives. */
public record Attachment(Attach attach, Instant since, Instant lastActivity, long delivered) {
  public Attachment renewed(Instant activity, long deliveredOffset) {
    Instant latest = activity == null || activity.isBefore(lastActivity) ? lastActivity : activity;
    return new Attachment(attach, since, latest, Math.max(delivered, deliveredOffset));
  }

  public boolean sameDevice(Attach other) {
    return attach.presence() && attach.participant().id().equals(other.participant().id()) && attach.device().equals(other.device());
  }
}
