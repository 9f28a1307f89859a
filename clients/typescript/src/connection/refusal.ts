/**
 * What the connection makes of a refusal: the `closing` frames that end it, and the answers of
 * the history read that diagnoses an upgrade refused before the socket attached.
 */
import { DurableSessionsError } from '../errors.js';
import type { ErrorCode } from '../protocol/errors.js';
import type { ClosingFrame } from '../protocol/frames.js';

/** Refusals of a connect that a retry would meet again (§4 Connecting, §2). */
export const FATAL_ON_CONNECT: ReadonlySet<ErrorCode> = new Set([
  'unauthorized',
  'forbidden',
  'session_not_found',
  'session_erased',
  'offset_beyond_head',
  'invalid_offset',
  'invalid_request',
  'token_expired',
]);

/** The error that ends a connection closed by a non-resumable `closing` frame (4004, 4410). */
export function closingError(closing: ClosingFrame): DurableSessionsError {
  const code: ErrorCode = closing.code === 4410 ? 'session_erased' : codeFromRefusal(closing.message);
  return new DurableSessionsError({ code, message: closing.message, source: 'closing', closing });
}

/** A 4004 closing message starts with the refusal's code: `"session_not_found: no session x"`. */
function codeFromRefusal(message: string): ErrorCode {
  const code = /^([a-z_]+):/.exec(message)?.[1];
  return (code as ErrorCode | undefined) ?? 'subscription_refused';
}

export function clientError(code: ErrorCode, message: string, cause?: unknown): DurableSessionsError {
  return new DurableSessionsError({ code, message, source: 'client', ...(cause === undefined ? {} : { cause }) });
}
