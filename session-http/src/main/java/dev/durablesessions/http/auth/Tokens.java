package dev.durablesessions.http.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.jwk.source.ImmutableSecret;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import com.typesafe.config.Config;
import dev.durablesessions.session.Role;
import java.nio.charset.StandardCharsets;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Bearer JWTs. HS256 with the shared secret (the tokens {@link #issue} makes), and, when a JWKS
 * URL is configured, RS256/ES256 tokens from an identity provider, checked against its
 * published keys. nimbus-jose-jwt parses and verifies; this class only chooses the key source
 * by the token's algorithm, so an HS256 token is only ever checked with the shared secret and a
 * provider token only with the provider's public keys.
 *
 * <p>Claims: {@code iss} (the configured issuer; provider tokens: {@code jwks-issuer}), {@code
 * sub}, {@code role} (agent, user, human, support, observer, admin), {@code sessions} (list of
 * session patterns), {@code aud} when an audience is configured, and optionally {@code exp},
 * {@code nbf} and {@code iat} (not in the future), enforced when present.
 *
 * <p>{@link #verify} returns a stage because a provider token may name a key the node has not
 * fetched yet: routes continue when the fetch ends instead of holding a dispatcher thread.
 */
public final class Tokens {
  /** The secret dev mode uses when none is configured. Public, so never use it outside dev mode. */
  public static final String DEV_SECRET = "durable-sessions-dev-secret-do-not-use-in-production";
  private static final int CLOCK_SKEW_SECONDS = 5;
  private static final CompletionStage<Optional<Identity>> REFUSED = CompletableFuture.completedStage(Optional.empty());

  private final String issuer;
  private final String audience;
  /** Null without a shared secret: HS256 tokens are refused and none can be issued. */
  private final MACSigner signer;
  private final DefaultJWTProcessor<SecurityContext> shared;
  /** Null without a JWKS URL. */
  private final JwksKeys providerKeys;
  private final DefaultJWTProcessor<SecurityContext> provider;
  private final Set<JWSAlgorithm> providerAlgorithms;

  /** HS256 only, no audience: what tests and tools that sign their own tokens use. */
  public Tokens(String secret, String issuer) {
    this(secret, issuer, "", Optional.empty(), Clock.systemUTC());
  }

  /**
   * @param secret the HS256 secret, at least 32 bytes, or empty for none
   * @param audience required in {@code aud} of every token when not empty
   * @param jwks the identity provider's keys, if any
   * @param clock when keys were fetched (the JWKS refresh and refetch intervals)
   */
  public Tokens(String secret, String issuer, String audience, Optional<JwksSettings> jwks, Clock clock) {
    this.issuer = issuer;
    this.audience = audience;
    if (secret.isEmpty()) {
      if (jwks.isEmpty()) throw new IllegalArgumentException("no HS256 secret and no JWKS URL: no token could ever be valid");
      this.signer = null;
      this.shared = null;
    } else {
      byte[] bytes = secret.getBytes(StandardCharsets.UTF_8);
      if (bytes.length < 32) throw new IllegalArgumentException("the JWT secret must be at least 32 bytes (HS256)");
      try {
        this.signer = new MACSigner(bytes);
      } catch (JOSEException e) {
        throw new IllegalArgumentException(e.getMessage(), e);
      }
      this.shared = processor(new JWSVerificationKeySelector<>(JWSAlgorithm.HS256, new ImmutableSecret<>(bytes)), issuer, audience);
    }
    if (jwks.isPresent()) {
      this.providerKeys = new JwksKeys(jwks.get(), clock);
      this.providerAlgorithms = jwks.get().algorithms();
      this.provider = processor(new JWSVerificationKeySelector<>(providerAlgorithms, providerKeys), jwks.get().issuer(), audience);
    } else {
      this.providerKeys = null;
      this.providerAlgorithms = Set.of();
      this.provider = null;
    }
  }

  /** From {@code durable-sessions.auth}; dev mode falls back to {@link #DEV_SECRET}. */
  public static Tokens fromConfig(Config root) {
    return fromConfig(root, Clock.systemUTC());
  }

  public static Tokens fromConfig(Config root, Clock clock) {
    Config c = root.getConfig("durable-sessions.auth");
    String secret = c.getString("secret");
    Optional<JwksSettings> jwks = JwksSettings.fromConfig(c);
    if (secret.isEmpty() && c.getBoolean("dev-mode")) secret = DEV_SECRET;
    if (secret.isEmpty() && jwks.isEmpty()) {
      throw new IllegalStateException("set DS_JWT_SECRET (durable-sessions.auth.secret) or DS_JWKS_URL "
          + "(durable-sessions.auth.jwks-url), or run in dev mode (DS_DEV_MODE=true)");
    }
    return new Tokens(secret, c.getString("issuer"), c.getString("audience").trim(), jwks, clock);
  }

  private static DefaultJWTProcessor<SecurityContext> processor(JWSVerificationKeySelector<SecurityContext> keys,
      String issuer, String audience) {
    DefaultJWTProcessor<SecurityContext> processor = new DefaultJWTProcessor<>();
    processor.setJWSKeySelector(keys);
    // Any "typ" (as before): identity providers use JWT, at+jwt and others.
    processor.setJWSTypeVerifier((type, context) -> {});
    DefaultJWTClaimsVerifier<SecurityContext> claims = new DefaultJWTClaimsVerifier<>(
        audience.isEmpty() ? null : Set.of(audience),
        new JWTClaimsSet.Builder().issuer(issuer).build(),
        Set.of("sub", "role", "sessions"),
        null);
    claims.setMaxClockSkew(CLOCK_SKEW_SECONDS);
    processor.setJWTClaimsSetVerifier(claims);
    return processor;
  }

  /**
   * The identity in a valid token; empty for a missing, malformed, forged or expired one. Done
   * at once for HS256 tokens and for provider tokens whose key is in memory; otherwise after
   * the (rate-limited) refetch of the provider's keys.
   */
  public CompletionStage<Optional<Identity>> verify(String token) {
    if (token == null || token.isBlank()) return REFUSED;
    SignedJWT jwt;
    try {
      jwt = SignedJWT.parse(token.trim()); // an unsigned ("alg": "none") token does not parse
    } catch (ParseException e) {
      return REFUSED;
    }
    JWSHeader header = jwt.getHeader();
    if (JWSAlgorithm.HS256.equals(header.getAlgorithm())) {
      return CompletableFuture.completedFuture(shared == null ? Optional.empty() : identity(jwt, shared));
    }
    if (provider == null || !providerAlgorithms.contains(header.getAlgorithm())) return REFUSED;
    providerKeys.refreshIfStale();
    if (providerKeys.knows(header)) return CompletableFuture.completedFuture(identity(jwt, provider));
    return providerKeys.refetch().thenApply(fetched -> identity(jwt, provider));
  }

  private static Optional<Identity> identity(SignedJWT jwt, DefaultJWTProcessor<SecurityContext> processor) {
    try {
      JWTClaimsSet claims = processor.process(jwt, null);
      Date issuedAt = claims.getIssueTime();
      // Issued in the future: refused, as java-jwt did before (nimbus checks exp and nbf only).
      if (issuedAt != null && issuedAt.toInstant().isAfter(Instant.now().plusSeconds(CLOCK_SKEW_SECONDS))) return Optional.empty();
      String subject = claims.getSubject();
      String role = claims.getStringClaim("role");
      List<String> sessions = claims.getStringListClaim("sessions");
      if (subject == null || subject.isBlank() || role == null || sessions == null) return Optional.empty();
      Role parsed = Role.fromWire(role);
      if (parsed == Role.SYSTEM) return Optional.empty(); // the session's own role is never granted
      return Optional.of(new Identity(subject, parsed, List.copyOf(sessions)));
    } catch (BadJOSEException | JOSEException | ParseException | IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  /** An HS256 token signed with the shared secret (dev mode's printed tokens, tests, tools). */
  public String issue(String subject, Role role, List<String> sessions, Duration ttl) {
    if (signer == null) throw new IllegalStateException("no shared secret (durable-sessions.auth.secret): tokens come from the identity provider");
    Instant now = Instant.now();
    JWTClaimsSet.Builder claims = new JWTClaimsSet.Builder()
        .issuer(issuer)
        .subject(subject)
        .claim("role", role.wire())
        .claim("sessions", sessions)
        .issueTime(Date.from(now))
        .expirationTime(Date.from(now.plus(ttl)));
    if (!audience.isEmpty()) claims.audience(audience);
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).type(JOSEObjectType.JWT).build(), claims.build());
    try {
      jwt.sign(signer);
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
    return jwt.serialize();
  }
}
