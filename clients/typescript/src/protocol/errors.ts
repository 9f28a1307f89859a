/**
 * The error codes of PROTOCOL §10 (REST bodies and socket `error` frames), plus the tool
 * approval codes, plus the client's own codes for what only the client can see.
 */
export type ServerErrorCode =
  | 'bad_json'
  | 'unknown_frame'
  | 'invalid_frame'
  | 'frame_too_large'
  | 'binary_not_supported'
  | 'invalid_request'
  | 'invalid_offset'
  | 'offset_beyond_head'
  | 'not_found'
  | 'method_not_allowed'
  | 'unauthorized'
  | 'token_expired'
  | 'forbidden'
  | 'session_not_found'
  | 'session_exists'
  | 'stream_exists'
  | 'stream_not_open'
  | 'not_a_participant'
  | 'session_closed'
  | 'session_erased'
  | 'signal_not_found'
  | 'not_addressee'
  | 'floor_not_held'
  | 'no_transfer_pending'
  | 'not_invited'
  | 'not_queued'
  | 'already_claimed'
  | 'not_in_control'
  | 'illegal_transition'
  | 'patch_rejected'
  | 'tool_call_not_found'
  | 'tool_call_exists'
  | 'tool_call_finished'
  | 'approval_exists'
  | 'approval_not_found'
  | 'unknown_pool'
  | 'stale_lease'
  | 'lease_conflict'
  | 'no_turn'
  | 'stale_epoch'
  | 'sequence_gap'
  | 'rate_limited'
  | 'timeout'
  | 'unavailable'
  | 'internal';

/**
 * Codes the client raises itself:
 * - `connection_closed`: the connection was closed (by `close()`, `leave()` or a final error)
 *   before the answer came;
 * - `subscription_refused`: `closing` 4004;
 * - `protocol_violation`: the server sent something the protocol does not allow;
 * - `approval_dropped`: the tool call ended (its `tool.result`) before its approval was answered;
 * - `http_error`: an HTTP answer without the JSON error body (a proxy, a parser refusal);
 * - `network_error`: the request did not get an HTTP answer at all;
 * - `listener_error`: an application listener (or the offset store) threw: reported, never
 *   swallowed silently.
 */
export type ClientErrorCode =
  | 'connection_closed'
  | 'subscription_refused'
  | 'protocol_violation'
  | 'approval_dropped'
  | 'http_error'
  | 'network_error'
  | 'listener_error';

export type ErrorCode = ServerErrorCode | ClientErrorCode;

/** Codes after which the same request may succeed later (§10: retry with the same producer stamp). */
export const RETRYABLE_CODES: ReadonlySet<string> = new Set(['rate_limited', 'timeout', 'unavailable']);

/** The JSON body of every REST error. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}
