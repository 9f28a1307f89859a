package dev.durablesessions.http.auth;

import com.nimbusds.jose.JWSAlgorithm;
import com.typesafe.config.Config;
import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.Set;

/**
 * Where an identity provider publishes its signing keys, and how they are cached.
 * {@code durable-sessions.auth.jwks-*} in reference.conf says what each means.
 */
public record JwksSettings(URI url, String issuer, Set<JWSAlgorithm> algorithms, Duration refreshInterval,
    Duration minRefetchInterval, Duration fetchTimeout) {

  public JwksSettings {
    if (!"https".equals(url.getScheme()) && !"http".equals(url.getScheme())) {
      throw new IllegalArgumentException("durable-sessions.auth.jwks-url must be an http(s) URL: " + url);
    }
    if (algorithms.isEmpty()) throw new IllegalArgumentException("durable-sessions.auth.jwks-algorithms is empty");
    for (JWSAlgorithm a : algorithms) {
      // Only public-key algorithms: a JWKS never holds the shared secret, so an HS256 token
      // can never be checked against a key anyone may download.
      if (!JWSAlgorithm.Family.RSA.contains(a) && !JWSAlgorithm.Family.EC.contains(a)) {
        throw new IllegalArgumentException("durable-sessions.auth.jwks-algorithms: " + a + " is not an RSA or EC signature algorithm");
      }
    }
    if (minRefetchInterval.compareTo(refreshInterval) > 0) {
      throw new IllegalArgumentException("durable-sessions.auth.jwks-min-refetch-interval must not exceed jwks-refresh-interval");
    }
    algorithms = Set.copyOf(algorithms);
  }

  /** Empty when {@code jwks-url} is empty: only HS256 tokens are accepted then. */
  static Optional<JwksSettings> fromConfig(Config auth) {
    String url = auth.getString("jwks-url").trim();
    if (url.isEmpty()) return Optional.empty();
    String issuer = auth.getString("jwks-issuer").trim();
    Set<JWSAlgorithm> algorithms = new LinkedHashSet<>();
    for (String name : auth.getStringList("jwks-algorithms")) algorithms.add(JWSAlgorithm.parse(name.trim()));
    return Optional.of(new JwksSettings(URI.create(url), issuer.isEmpty() ? auth.getString("issuer") : issuer, algorithms,
        auth.getDuration("jwks-refresh-interval"), auth.getDuration("jwks-min-refetch-interval"),
        auth.getDuration("jwks-fetch-timeout")));
  }
}
