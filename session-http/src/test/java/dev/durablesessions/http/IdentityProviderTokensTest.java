package dev.durablesessions.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import dev.durablesessions.http.auth.JwksSettings;
import dev.durablesessions.http.auth.Tokens;
import dev.durablesessions.http.testing.TestServer;
import dev.durablesessions.testing.TestDatabases;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * RS256 and ES256 tokens from an identity provider, on a real node over real HTTP, checked
 * against a JWKS that this test serves itself (real HTTP too) with keys it generates. The JWKS
 * cache's intervals run on a test clock, so "within the rate limit" and "after it" are exact.
 */
class IdentityProviderTokensTest {
  static final String PROVIDER = "https://idp.test";
  static final Duration MIN_REFETCH = Duration.ofSeconds(30);
  static final Duration REFRESH = Duration.ofMinutes(5);

  final TestClock clock = new TestClock();
  final HttpClient http = HttpClient.newHttpClient();
  RSAKey rsa;
  ECKey ec;
  Jwks jwks;
  TestServer server;

  @BeforeEach
  void keys() throws Exception {
    rsa = new RSAKeyGenerator(2048).keyID("rsa-1").generate();
    ec = new ECKeyGenerator(Curve.P_256).keyID("ec-1").generate();
    jwks = new Jwks();
    jwks.publish(rsa, ec);
  }

  @AfterEach
  void stop() {
    if (server != null) server.close();
    jwks.close();
  }

  /** A node that trusts the test's JWKS; returns once its first fetch of the keys is done. */
  TestServer start(String extra) {
    server = new TestServer(TestDatabases.h2(), """
        durable-sessions.auth.jwks-url = "%s"
        durable-sessions.auth.jwks-issuer = "%s"
        durable-sessions.auth.jwks-min-refetch-interval = %ds
        durable-sessions.auth.jwks-refresh-interval = %ds
        """.formatted(jwks.url(), PROVIDER, MIN_REFETCH.toSeconds(), REFRESH.toSeconds()) + extra, clock);
    await(() -> jwks.requests() == 1 && jwks.answered() == 1, "the node's first JWKS fetch");
    return server;
  }

  @Test
  void rs256AndEs256TokensFromTheProviderAreAcceptedBesidesHs256() {
    start("");
    String rsToken = token(rsa, JWSAlgorithm.RS256, c -> {});
    String esToken = token(ec, JWSAlgorithm.ES256, c -> {});
    assertEquals(201, create(rsToken), "RS256");
    assertEquals(201, create(esToken), "ES256");
    assertEquals(201, create(server.token("ada", dev.durablesessions.session.Role.USER)), "HS256 with the shared secret, as before");
    // Durable Streams need a token by default, and take the provider's too.
    String stream = "/v1/stream/idp-" + UUID.randomUUID();
    assertEquals(201, server.call("PUT", stream, esToken, "x").statusCode());
    assertEquals("x", server.call("GET", stream + "?offset=-1", rsToken, null).body());
    assertEquals(1, jwks.requests(), "every key was in memory: no fetch beyond the first");
  }

  @Test
  void withAnAudienceConfiguredOnlyTokensForItAreAccepted() {
    start("durable-sessions.auth.audience = \"sessions-api\"\n");
    assertEquals(201, create(token(rsa, JWSAlgorithm.RS256, c -> c.audience("sessions-api"))));
    assertEquals(201, create(token(ec, JWSAlgorithm.ES256, c -> c.audience(List.of("other-api", "sessions-api")))));
    assertEquals(401, create(token(rsa, JWSAlgorithm.RS256, c -> c.audience("other-api"))), "another audience");
    assertEquals(401, create(token(rsa, JWSAlgorithm.RS256, c -> {})), "no audience");
    assertEquals(201, create(server.token("ada", dev.durablesessions.session.Role.USER)), "tokens the node issues carry the audience");
  }

  @Test
  void aTokenWithAnUnknownKidIsRefusedAfterOneRefetch() throws Exception {
    start("");
    RSAKey stranger = new RSAKeyGenerator(2048).keyID("nobody-published-this").generate();
    clock.advance(MIN_REFETCH);
    assertEquals(401, create(token(stranger, JWSAlgorithm.RS256, c -> {})));
    assertEquals(2, jwks.requests(), "the unknown kid made the node look again, once");
    // A forged token naming a key the node knows fails its signature: no refetch for it.
    RSAKey forger = new RSAKeyGenerator(2048).keyID("rsa-1").generate();
    clock.advance(MIN_REFETCH);
    assertEquals(401, create(token(forger, JWSAlgorithm.RS256, c -> {})));
    assertEquals(2, jwks.requests());
  }

  @Test
  void aRotatedKeyIsAcceptedAfterTheRefetchAndTheDroppedOneRefused() throws Exception {
    start("");
    RSAKey next = new RSAKeyGenerator(2048).keyID("rsa-2").generate();
    jwks.publish(next, ec); // the provider rotates: rsa-1 leaves, rsa-2 arrives
    String nextToken = token(next, JWSAlgorithm.RS256, c -> {});
    assertEquals(401, create(nextToken), "within the refetch interval of the last fetch: refused without asking");
    assertEquals(1, jwks.requests());
    clock.advance(MIN_REFETCH);
    assertEquals(201, create(nextToken), "the new kid is fetched and accepted");
    assertEquals(2, jwks.requests());
    assertEquals(401, create(token(rsa, JWSAlgorithm.RS256, c -> {})), "the dropped key left with that fetch");
    assertEquals(201, create(token(ec, JWSAlgorithm.ES256, c -> {})));
  }

  @Test
  void keysAreRefreshedInTheBackgroundSoADroppedKeyLeavesWithoutAnUnknownKid() {
    start("");
    jwks.publish(ec); // rsa-1 is revoked at the provider
    String old = token(rsa, JWSAlgorithm.RS256, c -> {});
    assertEquals(201, create(old), "still in memory, and fresh: accepted, nothing fetched");
    assertEquals(1, jwks.requests());
    clock.advance(REFRESH);
    // Stale keys: the next provider token (its key is in both sets) starts a refresh and is not held by it.
    assertEquals(201, create(token(ec, JWSAlgorithm.ES256, c -> {})));
    await(() -> jwks.answered() == 2, "the background refresh");
    // Until the answer is read the old keys still serve; no request starts another fetch.
    await(() -> create(old) == 401, "the revoked key is gone");
    assertEquals(2, jwks.requests());
  }

  @Test
  void refetchesForUnknownKidsAreRateLimited() throws Exception {
    start("");
    RSAKey stranger = new RSAKeyGenerator(2048).keyID("ghost").generate();
    for (int i = 0; i < 10; i++) {
      assertEquals(401, create(token(stranger, JWSAlgorithm.RS256, c -> {})));
    }
    assertEquals(1, jwks.requests(), "within the interval after the first fetch: no refetch at all");
    clock.advance(MIN_REFETCH);
    List<CompletableFuture<HttpResponse<String>>> burst = new ArrayList<>();
    for (int i = 0; i < 20; i++) burst.add(createAsync(token(stranger, JWSAlgorithm.RS256, c -> {})));
    for (CompletableFuture<HttpResponse<String>> r : burst) assertEquals(401, r.get(20, TimeUnit.SECONDS).statusCode());
    for (int i = 0; i < 10; i++) {
      assertEquals(401, create(token(stranger, JWSAlgorithm.RS256, c -> {})));
    }
    assertEquals(2, jwks.requests(), "40 unknown-kid tokens, one refetch");
  }

  @Test
  void unsignedAndAlgorithmConfusedTokensAreRefused() throws Exception {
    start("");
    JWTClaimsSet claims = claims(c -> {}).build();
    String unsigned = Base64URL.encode("{\"alg\":\"none\",\"typ\":\"JWT\"}") + "." + Base64URL.encode(claims.toString()) + ".";
    assertEquals(401, create(unsigned), "alg none");
    // The classic confusion: HS256 with the provider's public key (which anyone can download) as the secret.
    for (byte[] publicKey : List.of(rsa.toRSAPublicKey().getEncoded(), rsa.toPublicJWK().toJSONString().getBytes(StandardCharsets.UTF_8))) {
      String confused = sign(new JWSHeader.Builder(JWSAlgorithm.HS256).keyID("rsa-1").build(), claims, new MACSigner(publicKey));
      assertEquals(401, create(confused), "HS256 signed with the RSA public key");
      // Without any shared secret, HS256 is not accepted at all.
      Tokens providerOnly = new Tokens("", "durable-sessions", "", Optional.of(new JwksSettings(URI.create(jwks.url()), PROVIDER,
          Set.of(JWSAlgorithm.RS256, JWSAlgorithm.ES256), REFRESH, MIN_REFETCH, Duration.ofSeconds(3))), clock);
      assertEquals(Optional.empty(), providerOnly.verify(confused).toCompletableFuture().get(10, TimeUnit.SECONDS));
    }
    // An algorithm that is not allowed, even with a published key: RS512 is not in jwks-algorithms.
    assertEquals(401, create(token(rsa, JWSAlgorithm.RS512, c -> {})));
    // The right key, the wrong issuer.
    assertEquals(401, create(token(rsa, JWSAlgorithm.RS256, c -> c.issuer("https://elsewhere.test"))));
  }

  @Test
  void anExpiredProviderTokenIsRefused() {
    start("");
    Date past = Date.from(Instant.now().minus(Duration.ofMinutes(2)));
    assertEquals(401, create(token(rsa, JWSAlgorithm.RS256, c -> c.expirationTime(past))));
    assertEquals(401, create(token(ec, JWSAlgorithm.ES256, c -> c.expirationTime(past))));
    Date future = Date.from(Instant.now().plus(Duration.ofMinutes(2)));
    assertEquals(401, create(token(ec, JWSAlgorithm.ES256, c -> c.notBeforeTime(future))), "not valid yet");
    assertEquals(401, create(token(ec, JWSAlgorithm.ES256, c -> c.issueTime(future))), "issued in the future");
  }

  /**
   * Requests waiting for a slow provider wait as stages, not on threads: with many more of them
   * pending than the node's dispatcher has threads, HS256 requests are still answered at once.
   */
  @Test
  void aSlowProviderHoldsNoDispatcherThread() throws Exception {
    start("");
    RSAKey stranger = new RSAKeyGenerator(2048).keyID("late").generate();
    CountDownLatch release = jwks.hold();
    clock.advance(MIN_REFETCH);
    List<CompletableFuture<HttpResponse<String>>> waiting = new ArrayList<>();
    for (int i = 0; i < 32; i++) waiting.add(createAsync(token(stranger, JWSAlgorithm.RS256, c -> {})));
    await(() -> jwks.requests() == 2, "the refetch reached the provider");
    long started = System.nanoTime();
    assertEquals(201, create(server.token("ada", dev.durablesessions.session.Role.USER)));
    assertEquals(201, create(token(ec, JWSAlgorithm.ES256, c -> {})), "a provider token whose key is in memory needs no fetch");
    assertTrue(System.nanoTime() - started < TimeUnit.SECONDS.toNanos(5), "answered while the provider is held");
    assertTrue(waiting.stream().noneMatch(CompletableFuture::isDone), "the unknown-kid requests still wait for the provider");
    release.countDown();
    for (CompletableFuture<HttpResponse<String>> r : waiting) assertEquals(401, r.get(20, TimeUnit.SECONDS).statusCode());
    assertEquals(2, jwks.requests());
  }

  // ---- helpers ----

  int create(String token) {
    return server.call("POST", "/v1/sessions", token, "{\"id\":\"idp-" + UUID.randomUUID() + "\"}").statusCode();
  }

  CompletableFuture<HttpResponse<String>> createAsync(String token) {
    return http.sendAsync(HttpRequest.newBuilder(URI.create(server.http() + "/v1/sessions"))
        .header("Authorization", "Bearer " + token)
        .POST(HttpRequest.BodyPublishers.ofString("{\"id\":\"idp-" + UUID.randomUUID() + "\"}")).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static JWTClaimsSet.Builder claims(Consumer<JWTClaimsSet.Builder> tweak) {
    JWTClaimsSet.Builder c = new JWTClaimsSet.Builder()
        .issuer(PROVIDER)
        .subject("ada@idp")
        .claim("role", "user")
        .claim("sessions", List.of("*"))
        .issueTime(new Date())
        .expirationTime(Date.from(Instant.now().plus(Duration.ofHours(1))));
    tweak.accept(c);
    return c;
  }

  static String token(JWK key, JWSAlgorithm algorithm, Consumer<JWTClaimsSet.Builder> tweak) {
    try {
      JWSSigner signer = key instanceof RSAKey r ? new RSASSASigner(r) : new ECDSASigner((ECKey) key);
      return sign(new JWSHeader.Builder(algorithm).keyID(key.getKeyID()).type(JOSEObjectType.JWT).build(), claims(tweak).build(), signer);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static String sign(JWSHeader header, JWTClaimsSet claims, JWSSigner signer) {
    SignedJWT jwt = new SignedJWT(header, claims);
    try {
      jwt.sign(signer);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
    return jwt.serialize();
  }

  static void await(BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) throw new AssertionError("not within 10 s: " + what);
      try {
        TimeUnit.MILLISECONDS.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }

  /** The identity provider's JWKS endpoint: real HTTP on loopback, counting its requests. */
  static final class Jwks implements AutoCloseable {
    final ExecutorService threads = Executors.newCachedThreadPool();
    final HttpServer server;
    final AtomicReference<String> document = new AtomicReference<>();
    final AtomicInteger requests = new AtomicInteger();
    final AtomicInteger answered = new AtomicInteger();
    volatile CountDownLatch held = new CountDownLatch(0);

    Jwks() throws IOException {
      server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
      server.setExecutor(threads);
      server.createContext("/.well-known/jwks.json", exchange -> {
        requests.incrementAndGet();
        try {
          held.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        byte[] body = document.get().getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", "application/json");
        exchange.sendResponseHeaders(200, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
          out.write(body);
        }
        answered.incrementAndGet();
      });
      server.start();
    }

    /** From now on the JWKS holds these keys (their public parts). */
    void publish(JWK... keys) {
      document.set(new JWKSet(List.of(keys)).toPublicJWKSet().toString());
    }

    /** Requests wait until the returned latch is released. */
    CountDownLatch hold() {
      CountDownLatch latch = new CountDownLatch(1);
      held = latch;
      return latch;
    }

    String url() {
      return "http://127.0.0.1:" + server.getAddress().getPort() + "/.well-known/jwks.json";
    }

    int requests() {
      return requests.get();
    }

    int answered() {
      return answered.get();
    }

    @Override
    public void close() {
      held.countDown();
      server.stop(0);
      threads.shutdownNow();
    }
  }

  /** Wall-clock time that only moves when the test says so (the JWKS cache's intervals). */
  static final class TestClock extends Clock {
    final AtomicLong millis = new AtomicLong(System.currentTimeMillis());

    void advance(Duration d) {
      millis.addAndGet(d.toMillis());
    }

    @Override
    public long millis() {
      return millis.get();
    }

    @Override
    public Instant instant() {
      return Instant.ofEpochMilli(millis());
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }
  }
}
