package dev.durablesessions.http.webhook;

import java.time.Instant;

/**
 * The JSON body of a webhook request (docs/AGENTS.md "Webhook pools"): the session and its
 * need, a token for that session only, and the resume package, so the function can answer
 * without reading anything first. One need's body is the same bytes on every attempt.
 *
 * @param fromOffset the user message that opened the unanswered turn
 * @param token a bearer token with role agent and subject {@code webhook:<pool>}, valid for this session only
 * @param resume what {@code GET /v1/sessions/{id}/resume?after=fromOffset-1} answers that token
 */
public record WebhookPayload(String sessionId, String pool, long fromOffset, String reason, String idempotencyKey,
    String token, Instant tokenExpiresAt, Object resume) {}
