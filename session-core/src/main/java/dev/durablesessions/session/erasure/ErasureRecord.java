package dev.durablesessions.session.erasure;

import dev.durablesessions.CborSerializable;
import java.time.Instant;

/**
 * The audit record of one erasure, kept in the {@code session_erasure} table after the
 * session's events and snapshots are gone: who erased which session, when, why, and how much.
 *
 * @param erasedBy the subject that asked (the token's {@code sub}; {@code retention} for the retention task)
 * @param role the asker's role ({@code admin}, or {@code system} for retention)
 * @param head the offset of the session's last event when it was erased
 * @param events journal rows deleted (the session's events up to {@code head})
 * @param snapshots snapshot rows deleted
 */
public record ErasureRecord(
    String sessionId, String erasedBy, String role, ErasureReason reason, Instant erasedAt, long head, long events, long snapshots)
    implements CborSerializable {

  ErasureRecord plus(long moreEvents, long moreSnapshots) {
    return new ErasureRecord(sessionId, erasedBy, role, reason, erasedAt, head, events + moreEvents, snapshots + moreSnapshots);
  }
}
