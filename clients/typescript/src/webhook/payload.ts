import type { ResumePackage } from '../rest/types.js';

/** The JSON body of a webhook request (docs/AGENTS.md "Webhook pools"). */
export interface WebhookPayload {
  sessionId: string;
  pool: string;
  /** The user message that opened the unanswered turn: read the session from here. */
  fromOffset: number;
  /** Why the node called: `needs_agent`. */
  reason: string;
  /** The same on every attempt for one need (also the `Idempotency-Key` header): drop repeats by it. */
  idempotencyKey: string;
  /** A bearer token (role agent, subject `webhook:<pool>`) valid for this session only. */
  token: string;
  /** When `token` expires (ISO-8601). */
  tokenExpiresAt: string;
  /** What `GET /v1/sessions/{id}/resume?after=fromOffset-1` answers that token. */
  resume: ResumePackage;
}
