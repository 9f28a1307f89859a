package dev.durablesessions.session;

/**
 * Every refusal the server gives, with the HTTP status it maps to. The snake_case code is
 * what clients see in error frames and JSON bodies; docs/PROTOCOL.md lists them all.
 */
public enum ErrorCode {
  // request shape
  BAD_JSON(400),
  UNKNOWN_FRAME(400),
  INVALID_FRAME(400),
  FRAME_TOO_LARGE(413),
  BINARY_NOT_SUPPORTED(400),
  INVALID_REQUEST(400),
  INVALID_OFFSET(400),
  OFFSET_BEYOND_HEAD(400),
  NOT_FOUND(404),
  METHOD_NOT_ALLOWED(405),
  // identity
  UNAUTHORIZED(401),
  TOKEN_EXPIRED(401),
  FORBIDDEN(403),
  // session
  SESSION_NOT_FOUND(404),
  SESSION_EXISTS(409),
  STREAM_EXISTS(409),
  STREAM_NOT_OPEN(409),
  NOT_A_PARTICIPANT(409),
  SESSION_CLOSED(409),
  /** An admin (or retention) erased the session: its history is gone and its id is never reused. */
  SESSION_ERASED(410),
  // presence, signals
  SIGNAL_NOT_FOUND(404),
  NOT_ADDRESSEE(403),
  // handover
  FLOOR_NOT_HELD(409),
  NO_TRANSFER_PENDING(409),
  NOT_INVITED(403),
  NOT_QUEUED(409),
  ALREADY_CLAIMED(409),
  NOT_IN_CONTROL(409),
  ILLEGAL_TRANSITION(409),
  // state, tools, turns
  PATCH_REJECTED(422),
  TOOL_CALL_NOT_FOUND(404),
  TOOL_CALL_EXISTS(409),
  TOOL_CALL_FINISHED(409),
  NO_TURN(409),
  // tool approvals
  APPROVAL_NOT_FOUND(404),
  APPROVAL_EXISTS(409),
  // agent pools
  /** A create names a pool this node does not have. */
  UNKNOWN_POOL(400),
  /** A write or a lease ending names a lease that is not the session's current one: the writer was fenced. */
  STALE_LEASE(409),
  /** An assignment raced another one, or the session already has an agent. */
  LEASE_CONFLICT(409),
  // idempotent producers
  STALE_EPOCH(409),
  SEQUENCE_GAP(409),
  // limits per identity: nothing was done, retry later
  RATE_LIMITED(429),
  // server
  TIMEOUT(503),
  UNAVAILABLE(503),
  INTERNAL(500);

  private final int httpStatus;

  ErrorCode(int httpStatus) {
    this.httpStatus = httpStatus;
  }

  public int httpStatus() {
    return httpStatus;
  }

  public String code() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
