package dev.durablesessions.http.auth;

import com.auth0.jwt.JWT;
import com.auth0.jwt.JWTVerifier;
import com.auth0.jwt.algorithms.Algorithm;
import com.auth0.jwt.exceptions.JWTVerificationException;
import com.auth0.jwt.interfaces.DecodedJWT;
import com.typesafe.config.Config;
import dev.durablesessions.session.Role;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Bearer JWTs, HS256 with a shared secret (java-jwt does the parsing and verification).
 * Claims: {@code iss} (must match the configured issuer), {@code sub}, {@code role} (agent, user,
 * human, support, observer, admin), {@code sessions} (list of session patterns), and optionally
 * {@code exp}, which is enforced when present.
 */
public final class Tokens {
  /** The secret dev mode uses when none is configured. Public, so never use it outside dev mode. */
  public static final String DEV_SECRET = "durable-sessions-dev-secret-do-not-use-in-production";

  private final Algorithm algorithm;
  private final JWTVerifier verifier;
  private final String issuer;

  public Tokens(String secret, String issuer) {
    if (secret.getBytes(StandardCharsets.UTF_8).length < 32) {
      throw new IllegalArgumentException("the JWT secret must be at least 32 bytes (HS256)");
    }
    this.algorithm = Algorithm.HMAC256(secret);
    this.issuer = issuer;
    this.verifier = JWT.require(algorithm).withIssuer(issuer).acceptLeeway(5).build();
  }

  /** From {@code durable-sessions.auth}; dev mode falls back to {@link #DEV_SECRET}. */
  public static Tokens fromConfig(Config root) {
    Config c = root.getConfig("durable-sessions.auth");
    String secret = c.getString("secret");
    if (secret.isEmpty()) {
      if (!c.getBoolean("dev-mode")) {
        throw new IllegalStateException("set DS_JWT_SECRET (durable-sessions.auth.secret), or run in dev mode (DS_DEV_MODE=true)");
      }
      secret = DEV_SECRET;
    }
    return new Tokens(secret, c.getString("issuer"));
  }

  /** The identity in a valid token; empty for a missing, malformed, forged or expired one. */
  public Optional<Identity> verify(String token) {
    if (token == null || token.isBlank()) return Optional.empty();
    try {
      DecodedJWT jwt = verifier.verify(token);
      String subject = jwt.getSubject();
      String role = jwt.getClaim("role").asString();
      List<String> sessions = jwt.getClaim("sessions").asList(String.class);
      if (subject == null || subject.isBlank() || role == null || sessions == null) return Optional.empty();
      Role parsed = Role.fromWire(role);
      if (parsed == Role.SYSTEM) return Optional.empty(); // the session's own role is never granted
      return Optional.of(new Identity(subject, parsed, List.copyOf(sessions)));
    } catch (JWTVerificationException | IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  public String issue(String subject, Role role, List<String> sessions, Duration ttl) {
    Instant now = Instant.now();
    return JWT.create()
        .withIssuer(issuer)
        .withSubject(subject)
        .withClaim("role", role.wire())
        .withClaim("sessions", sessions)
        .withIssuedAt(now)
        .withExpiresAt(now.plus(ttl))
        .sign(algorithm);
  }
}
