package dev.durablesessions.session.dispatch;

import dev.durablesessions.CborSerializable;

/**
 * The dispatcher's request to call a webhook pool's URL for one need of one session: a user
 * message the session's agent has not answered. One need has one {@code idempotencyKey} (the
 * session and its open turn), sent unchanged with every attempt, so a receiver can drop
 * repeats; the dispatcher records that it asked, so a need is asked for once, across restarts.
 *
 * @param fromOffset the offset to read the session from: the user message that opened the turn
 * @param reason why: {@code needs_agent}
 */
public record WebhookCall(String sessionId, String pool, long fromOffset, String idempotencyKey, String reason)
    implements CborSerializable {}
