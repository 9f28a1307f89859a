package dev.durablesessions.http.authz;

import dev.durablesessions.session.ErrorCode;
import java.util.Set;

/**
 * What a caller gets, written the way the matrix compares it: an HTTP status with the error
 * code of a JSON error body ({@code "409 floor_not_held"}; Durable Streams answer a bare
 * status), or for a socket frame {@code ack}, {@code silent} (never answered) or
 * {@code error <code>}. Each expected answer says which of three things it is, and the
 * constructors hold the line between them:
 * <ul>
 *   <li>{@link Kind#OK}: authorization passed and the request did what it asks;
 *   <li>{@link Kind#STATE}: authorization passed, and the session or stream refused it for its
 *       state (no transfer pending, the floor held by someone else): never a 401 or a 403;
 *   <li>{@link Kind#DENIED}: refused for who is asking: always a 401 or a 403 (a refused
 *       socket upgrade, or an error frame whose code is a 401 or 403 one).
 * </ul>
 */
record Answer(Kind kind, String text) {
  enum Kind { OK, STATE, DENIED }

  private static final Set<Integer> AUTHORIZATION = Set.of(401, 403);

  static Answer ok(int status) {
    if (status < 100 || status > 299) throw new IllegalArgumentException("ok is 1xx or 2xx, not " + status);
    return new Answer(Kind.OK, Integer.toString(status));
  }

  /** A frame answered with an ack. */
  static Answer ack() {
    return new Answer(Kind.OK, "ack");
  }

  /** A frame that is never answered (heartbeat, ack): it is taken, and nothing comes back. */
  static Answer silent() {
    return new Answer(Kind.OK, "silent");
  }

  static Answer state(int status, String code) {
    if (AUTHORIZATION.contains(status) || status < 400) throw new IllegalArgumentException(status + " is not a state refusal");
    checkCode(status, code);
    return new Answer(Kind.STATE, status + " " + code);
  }

  static Answer stateFrame(String code) {
    int status = ErrorCode.valueOf(code.toUpperCase(java.util.Locale.ROOT)).httpStatus();
    if (AUTHORIZATION.contains(status)) throw new IllegalArgumentException(code + " is an authorization refusal");
    return new Answer(Kind.STATE, "error " + code);
  }

  static Answer denied(int status, String code) {
    if (!AUTHORIZATION.contains(status)) throw new IllegalArgumentException(status + " is not an authorization refusal");
    if (code != null) checkCode(status, code);
    return new Answer(Kind.DENIED, code == null ? Integer.toString(status) : status + " " + code);
  }

  /** Durable Streams refusals carry a text/plain reason, not a code. */
  static Answer denied(int status) {
    return denied(status, null);
  }

  static Answer deniedFrame(String code) {
    int status = ErrorCode.valueOf(code.toUpperCase(java.util.Locale.ROOT)).httpStatus();
    if (!AUTHORIZATION.contains(status)) throw new IllegalArgumentException(code + " is not an authorization refusal");
    return new Answer(Kind.DENIED, "error " + code);
  }

  static final Answer FORBIDDEN = denied(403, "forbidden");
  static final Answer UNAUTHORIZED = denied(401, "unauthorized");
  static final Answer FORBIDDEN_FRAME = deniedFrame("forbidden");

  boolean refused() {
    return kind != Kind.OK;
  }

  private static void checkCode(int status, String code) {
    int documented = ErrorCode.valueOf(code.toUpperCase(java.util.Locale.ROOT)).httpStatus();
    if (documented != status) throw new IllegalArgumentException(code + " is a " + documented + ", not a " + status);
  }

  @Override
  public String toString() {
    return switch (kind) {
      case OK -> text;
      case STATE -> "state " + text;
      case DENIED -> "deny " + text;
    };
  }
}
