import type { ErrorCode } from './protocol/errors.js';
import { RETRYABLE_CODES } from './protocol/errors.js';
import type { ClosingFrame } from './protocol/frames.js';

/** Where an error came from. */
export type ErrorSource = 'rest' | 'socket' | 'closing' | 'client';

export interface DurableSessionsErrorInit {
  code: ErrorCode;
  message: string;
  source: ErrorSource;
  /** The HTTP status of a REST answer. */
  status?: number;
  /** `Retry-After` (REST, converted to ms) or `retryAfterMs` (socket `rate_limited`). */
  retryAfterMs?: number;
  /** The `ref` of the frame a socket error answers. */
  ref?: string;
  /** The `closing` frame, for errors that ended a connection. */
  closing?: ClosingFrame;
  cause?: unknown;
}

/**
 * Every error the client raises or reports: it carries the server's code (PROTOCOL §10) or one
 * of the client's own codes, and for REST the HTTP status and Retry-After.
 */
export class DurableSessionsError extends Error {
  override readonly name = 'DurableSessionsError';
  readonly code: ErrorCode;
  readonly source: ErrorSource;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly ref: string | undefined;
  readonly closing: ClosingFrame | undefined;

  constructor(init: DurableSessionsErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = init.code;
    this.source = init.source;
    this.status = init.status;
    this.retryAfterMs = init.retryAfterMs;
    this.ref = init.ref;
    this.closing = init.closing;
  }

  /** The same request may succeed later (`rate_limited`, `timeout`, `unavailable`). */
  get retryable(): boolean {
    return RETRYABLE_CODES.has(this.code);
  }
}

export function isDurableSessionsError(e: unknown, code?: ErrorCode): e is DurableSessionsError {
  return e instanceof DurableSessionsError && (code === undefined || e.code === code);
}
