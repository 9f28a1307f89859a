package dev.durablesessions.session;

import java.util.Objects;

/**
 * Who caused an event: the participant id inside the session, its role and the
 * authenticated subject (the token's {@code sub}). Today the id is the subject; the
 * separate field keeps the audit trail honest once one subject acts under several ids.
 */
public record Participant(String id, Role role, String subject) {
  public Participant {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(role, "role");
    Objects.requireNonNull(subject, "subject");
  }

  /** The author of what the session decides on its own (a participant lost, an agent stalled). */
  public static final Participant SESSION = new Participant("session", Role.SYSTEM, "durable-sessions");

  public static Participant of(String subject, Role role) {
    return new Participant(subject, role, subject);
  }
}
