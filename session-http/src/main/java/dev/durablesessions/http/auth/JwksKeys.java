package dev.durablesessions.http.auth;

import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKMatcher;
import com.nimbusds.jose.jwk.JWKSelector;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.proc.SecurityContext;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An identity provider's public keys, fetched from its JWKS URL and held in memory. Nothing
 * here ever waits for the network: the key source that verification reads answers from the
 * keys in memory, and every fetch runs on the JDK HTTP client's own threads.
 *
 * <ul>
 *   <li>The first fetch starts with the node; a token that arrives before it ends waits for it
 *       (as a {@link CompletionStage}, not a thread).
 *   <li>Keys older than {@code jwks-refresh-interval} are fetched again in the background by
 *       the next verification, which itself uses the keys it has (so revoked keys leave).
 *   <li>A token whose {@code kid} matches no key asks for a refetch ({@link #refetch}), at most
 *       once per {@code jwks-min-refetch-interval} counted from the last fetch of any kind, so
 *       tokens with made-up key ids cannot make the node hammer the provider.
 *   <li>A failed fetch keeps the keys it had, and is logged.
 * </ul>
 */
final class JwksKeys implements JWKSource<SecurityContext> {
  private static final Logger log = LoggerFactory.getLogger(JwksKeys.class);

  private final JwksSettings settings;
  private final Clock clock;
  private final HttpClient http;
  private volatile JWKSet keys = new JWKSet();
  /** Guarded by {@code this}: the fetch under way (or the last one, done), and when it began. */
  private CompletableFuture<Void> fetch;
  private long fetchStartedAt;

  JwksKeys(JwksSettings settings, Clock clock) {
    this.settings = settings;
    this.clock = clock;
    this.http = HttpClient.newBuilder().connectTimeout(settings.fetchTimeout())
        .followRedirects(HttpClient.Redirect.NORMAL).build();
    synchronized (this) {
      startFetch();
    }
  }

  /** The keys in memory that match the selector; never fetches (verification calls this). */
  @Override
  public List<JWK> get(JWKSelector selector, SecurityContext context) {
    return selector.select(keys);
  }

  /** Whether a key in memory could have signed a token with this header (its kid, type and algorithm). */
  boolean knows(JWSHeader header) {
    return !new JWKSelector(JWKMatcher.forJWSHeader(header)).select(keys).isEmpty();
  }

  /** Starts a background fetch when the keys are older than {@code jwks-refresh-interval}; returns at once. */
  synchronized void refreshIfStale() {
    if (fetch.isDone() && clock.millis() - fetchStartedAt >= settings.refreshInterval().toMillis()) startFetch();
  }

  /**
   * After a token named a key that is not in memory: completes when a fetch started for it (or
   * the one under way) ends, or at once when the last fetch began less than
   * {@code jwks-min-refetch-interval} ago.
   */
  synchronized CompletionStage<Void> refetch() {
    if (!fetch.isDone()) return fetch;
    if (clock.millis() - fetchStartedAt < settings.minRefetchInterval().toMillis()) return CompletableFuture.completedFuture(null);
    return startFetch();
  }

  private static List<String> ids(JWKSet set) {
    return set.getKeys().stream().map(k -> String.valueOf(k.getKeyID())).sorted().toList();
  }

  private CompletableFuture<Void> startFetch() {
    fetchStartedAt = clock.millis();
    HttpRequest request = HttpRequest.newBuilder(settings.url()).timeout(settings.fetchTimeout())
        .header("Accept", "application/json").GET().build();
    CompletableFuture<Void> started = http.sendAsync(request, HttpResponse.BodyHandlers.ofString())
        .thenAccept(response -> {
          if (response.statusCode() != 200) throw new IllegalStateException("HTTP " + response.statusCode());
          try {
            // Only public parts are kept, whatever the document holds.
            JWKSet fetched = JWKSet.parse(response.body()).toPublicJWKSet();
            List<String> before = ids(keys);
            keys = fetched;
            if (!before.equals(ids(fetched))) log.info("JWKS from {}: key ids {}", settings.url(), ids(fetched));
          } catch (java.text.ParseException e) {
            throw new IllegalStateException("not a JWK set: " + e.getMessage(), e);
          }
        })
        .exceptionally(e -> {
          Throwable cause = e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
          log.warn("could not fetch the JWKS from {} ({}); keeping the {} keys already known", settings.url(), cause.toString(), keys.size());
          return null;
        });
    fetch = started;
    return started;
  }
}
