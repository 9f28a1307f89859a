package dev.durablesessions.http.auth;

import dev.durablesessions.session.Participant;
import dev.durablesessions.session.Role;
import java.time.Instant;
import java.util.List;

/**
 * Who is calling, from a verified token: subject, role and the sessions it may join, until
 * {@code expiresAt} (the token's {@code exp}; null if it has none). A session pattern is an
 * exact id, {@code *}, or a prefix ending in {@code *} ({@code team-a-*}).
 */
public record Identity(String subject, Role role, List<String> sessions, Instant expiresAt) {

  public Identity(String subject, Role role, List<String> sessions) {
    this(subject, role, sessions, null);
  }

  /** The same participant (subject and role): what a fresh token on an open socket must name. */
  public boolean sameParticipant(Identity other) {
    return subject.equals(other.subject) && role == other.role;
  }

  public boolean mayJoin(String sessionId) {
    return dev.durablesessions.session.SessionPatterns.covers(sessions, sessionId);
  }

  /** May create a session with a server-chosen id: only with {@code *}. */
  public boolean mayJoinAny() {
    return sessions.contains("*");
  }

  public Participant participant() {
    return Participant.of(subject, role);
  }
}
