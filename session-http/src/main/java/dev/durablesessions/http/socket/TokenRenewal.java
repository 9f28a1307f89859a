package dev.durablesessions.http.socket;

import dev.durablesessions.http.auth.Identity;
import dev.durablesessions.http.auth.Tokens;
import dev.durablesessions.session.ErrorCode;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * A socket's token lifetime, as rules: the socket lives as long as its latest token, and an
 * {@code auth} frame's fresh token replaces it only if it names the same participant and still
 * covers the session. Otherwise the old token (and its expiry) stays, and the client is told why.
 */
final class TokenRenewal {
  private TokenRenewal() {}

  /** The outcome of an auth frame. */
  sealed interface Outcome {}

  /** The socket now lives until the new identity's {@code exp}. */
  record Renewed(Identity identity) implements Outcome {}

  record Refused(ErrorCode code, String message) implements Outcome {}

  /** An auth frame without a token, refused before any verification. */
  static final String MISSING_TOKEN = "invalid auth frame: a string \"token\" is required";

  /** {@code fresh} is the verified identity of {@code token}, empty if it did not verify. */
  static Outcome decide(Identity current, String sessionId, String token, Optional<Identity> fresh) {
    if (fresh.isEmpty()) {
      return Tokens.looksExpired(token)
          ? new Refused(ErrorCode.TOKEN_EXPIRED, "the new token has expired already")
          : new Refused(ErrorCode.UNAUTHORIZED, "invalid or expired token");
    }
    if (!fresh.get().sameParticipant(current)) {
      return new Refused(ErrorCode.FORBIDDEN, "a socket keeps its participant: the new token must name "
          + current.subject() + " as " + current.role().wire());
    }
    if (!fresh.get().mayJoin(sessionId)) {
      return new Refused(ErrorCode.FORBIDDEN, current.subject() + " may not join " + sessionId + " with the new token");
    }
    return new Renewed(fresh.get());
  }

  /** How long until the socket must close with token_expired; empty: the token never expires. */
  static Optional<Duration> lifeLeft(Identity identity, Instant now) {
    if (identity.expiresAt() == null) return Optional.empty();
    Duration left = Duration.between(now, identity.expiresAt());
    return Optional.of(left.isNegative() ? Duration.ZERO : left);
  }
}
