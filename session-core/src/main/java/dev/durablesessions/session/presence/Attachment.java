package dev.durablesessions.session.presence;

import dev.durablesessions.session.SessionCommand.Attach;
import java.time.Instant;

/** A subscriber attached to this incarnation of the session: runtime only, re-learned by keep-alives. */
public record Attachment(Attach attach, Instant since, Instant lastActivity, long delivered, long acked, Instant ackedAt) {
  public static Attachment start(Attach attach, Instant now, long after) {
    return new Attachment(attach, now, now, after, -1, null);
  }

  public Attachment renewed(Instant activity, long deliveredOffset) {
    Instant latest = activity == null || activity.isBefore(lastActivity) ? lastActivity : activity;
    return new Attachment(attach, since, latest, Math.max(delivered, deliveredOffset), acked, ackedAt);
  }

  /** The device confirmed it processed everything up to {@code offset}. */
  public Attachment acknowledged(long offset, Instant at) {
    if (offset <= acked) return this;
    Instant latest = at.isAfter(lastActivity) ? at : lastActivity;
    return new Attachment(attach, since, latest, delivered, offset, at);
  }

  public boolean sameDevice(Attach other) {
    return attach.presence() && attach.participant().id().equals(other.participant().id()) && attach.device().equals(other.device());
  }
}
