package dev.durablesessions.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import dev.durablesessions.http.testing.TestServer;
import dev.durablesessions.http.testing.WsClient;
import dev.durablesessions.persistence.Database;
import dev.durablesessions.session.Role;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Limits per identity on a real node, over real sockets and real HTTP. Every bucket refills
 * over an hour, so nothing comes back while a test runs: which writes are accepted is decided
 * by their count alone, never by timing. Each test uses subjects of its own.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class RateLimitContract {
  static final int APPENDS = 5;
  static final int CREATIONS = 3;
  static final int SOCKETS = 2;

  abstract Database database();

  TestServer server;
  final HttpClient http = HttpClient.newHttpClient();
  final ExecutorService pool = Executors.newFixedThreadPool(2);

  @BeforeAll
  void start() {
    server = new TestServer(database(), """
        durable-sessions.http.limits.appends { count = %d, per = 1h }
        durable-sessions.http.limits.session-creations { count = %d, per = 1h }
        durable-sessions.http.limits.open-sockets = %d
        """.formatted(APPENDS, CREATIONS, SOCKETS));
  }

  @AfterAll
  void stop() {
    pool.shutdownNow();
    server.close();
  }

  String token(String name, Role role) {
    return server.token(name + "-" + UUID.randomUUID(), role);
  }

  String newSession() {
    String id = "rl-" + UUID.randomUUID();
    HttpResponse<String> created = server.call("POST", "/v1/sessions", token("owner", Role.USER), "{\"id\":\"" + id + "\"}");
    assertEquals(201, created.statusCode(), created.body());
    return id;
  }

  static String message(String ref, String text) {
    return "{\"type\":\"message\",\"ref\":\"" + ref + "\",\"text\":\"" + text + "\"}";
  }

  /** The texts of every message in the session's history, by author. */
  Map<String, List<String>> messagesBy(String sessionId, Map<String, String> authors) throws Exception {
    JsonNode page = Json.MAPPER.readTree(server.call("GET", "/v1/sessions/" + sessionId + "/events?limit=1000",
        token("reader", Role.SUPPORT), null).body());
    Map<String, List<String>> by = new TreeMap<>();
    for (JsonNode e : page.path("events")) {
      if (!"message".equals(e.path("type").asText())) continue;
      String author = authors.getOrDefault(e.path("by").path("id").asText(), "someone else");
      by.computeIfAbsent(author, a -> new ArrayList<>()).add(e.path("text").asText());
    }
    return by;
  }

  static List<String> texts(String prefix, int n) {
    return IntStream.range(0, n).mapToObj(i -> prefix + i).toList();
  }

  /** The answers ({@code ack} or {@code error}) to {@code n} frames, by ref. */
  static Map<String, JsonNode> answers(WsClient client, int n) {
    Map<String, JsonNode> byRef = new TreeMap<>();
    while (byRef.size() < n) {
      JsonNode answer = client.next(f -> f.has("ref") && ("ack".equals(f.path("type").asText()) || "error".equals(f.path("type").asText())));
      byRef.put(answer.path("ref").asText(), answer);
    }
    return byRef;
  }

  static void assertRateLimited(HttpResponse<String> r) throws Exception {
    assertEquals(429, r.statusCode(), r.body());
    assertEquals("rate_limited", Json.MAPPER.readTree(r.body()).path("error").path("code").asText(), r.body());
    assertRetryAfterWithinTheRefillPeriod(r.headers().firstValue("Retry-After").orElse(null));
  }

  static void assertRetryAfterWithinTheRefillPeriod(String retryAfter) {
    assertTrue(retryAfter != null && retryAfter.matches("[0-9]+"), "Retry-After in seconds: " + retryAfter);
    long seconds = Long.parseLong(retryAfter);
    assertTrue(seconds >= 1 && seconds <= 3600, "Retry-After " + seconds);
  }

  <T> CompletableFuture<T> meanwhile(Supplier<T> work) {
    return CompletableFuture.supplyAsync(work, pool);
  }

  @Test
  void socketFramesOverTheAppendLimitAreRefusedWithRateLimitedWhileAnotherIdentityAppendsEverything() throws Exception {
    String id = newSession();
    String ada = "ada-" + UUID.randomUUID();
    String bob = "bob-" + UUID.randomUUID();
    try (WsClient adaSocket = WsClient.connect(server.ws(id, 0), server.token(ada, Role.USER));
        WsClient bobSocket = WsClient.connect(server.ws(id, 0), server.token(bob, Role.USER))) {
      adaSocket.nextOfType("attached");
      bobSocket.nextOfType("attached");
      // Interleaved: ada sends more than her limit, bob exactly his, at the same time.
      for (int i = 0; i < APPENDS + 3; i++) {
        adaSocket.send(message("a" + i, "ada-" + i));
        if (i < APPENDS) bobSocket.send(message("b" + i, "bob-" + i));
      }
      Map<String, JsonNode> adas = answers(adaSocket, APPENDS + 3);
      for (int i = 0; i < APPENDS + 3; i++) {
        JsonNode answer = adas.get("a" + i);
        if (i < APPENDS) {
          assertEquals("ack", answer.path("type").asText(), answer.toString());
        } else {
          assertEquals("error", answer.path("type").asText(), answer.toString());
          assertEquals("rate_limited", answer.path("code").asText());
          assertTrue(answer.path("retryAfterMs").asLong() > 0, answer.toString());
        }
      }
      Map<String, JsonNode> bobs = answers(bobSocket, APPENDS);
      bobs.values().forEach(answer -> assertEquals("ack", answer.path("type").asText(), "bob is unaffected: " + answer));

      // The socket stays open and keeps answering.
      adaSocket.send("{\"type\":\"no-such-frame\",\"ref\":\"x\"}");
      adaSocket.expectError("unknown_frame");
      assertFalse(adaSocket.closed.isDone(), "a rate_limited frame does not close the socket");
    }
    assertEquals(Map.of("ada", texts("ada-", APPENDS), "bob", texts("bob-", APPENDS)), messagesBy(id, Map.of(ada, "ada", bob, "bob")),
        "exactly the accepted appends, nothing from the refused ones");
  }

  @Test
  void restWritesOverTheAppendLimitGet429WithRetryAfterAndChangeNothing() throws Exception {
    String id = newSession();
    String ada = "ada-" + UUID.randomUUID();
    String bob = "bob-" + UUID.randomUUID();
    String adaToken = server.token(ada, Role.USER);
    String bobToken = server.token(bob, Role.USER);
    String path = "/v1/sessions/" + id + "/messages";
    CompletableFuture<List<Integer>> bobs = meanwhile(() -> IntStream.range(0, APPENDS)
        .mapToObj(i -> server.call("POST", path, bobToken, "{\"text\":\"bob-" + i + "\"}").statusCode()).toList());
    List<HttpResponse<String>> adas = new ArrayList<>();
    for (int i = 0; i < APPENDS + 3; i++) adas.add(server.call("POST", path, adaToken, "{\"text\":\"ada-" + i + "\"}"));

    for (int i = 0; i < APPENDS; i++) assertEquals(201, adas.get(i).statusCode(), adas.get(i).body());
    for (int i = APPENDS; i < APPENDS + 3; i++) assertRateLimited(adas.get(i));
    assertEquals(List.of(201, 201, 201, 201, 201), bobs.get(), "bob is unaffected");

    // Every write counts against the same bucket: a control request, and a socket frame.
    assertRateLimited(server.call("POST", "/v1/sessions/" + id + "/close", adaToken, "{\"reason\":\"done\"}"));
    try (WsClient socket = WsClient.connect(server.ws(id, 0), adaToken)) {
      socket.nextOfType("attached");
      socket.send(message("late", "ada-late"));
      JsonNode refused = socket.expectError("rate_limited");
      assertEquals("late", refused.path("ref").asText());
    }
    assertEquals(Map.of("ada", texts("ada-", APPENDS), "bob", texts("bob-", APPENDS)), messagesBy(id, Map.of(ada, "ada", bob, "bob")));
    JsonNode summary = Json.MAPPER.readTree(server.call("GET", "/v1/sessions/" + id, bobToken, null).body());
    assertEquals("agent_in_control", summary.path("control").path("phase").asText(), "the refused close did nothing: " + summary);
  }

  /** A socket upgrade: the open socket, or the HTTP answer that refused it. */
  record Upgrade(WsClient client, HttpResponse<?> refusal) {}

  Upgrade upgrade(String sessionId, String token) {
    try {
      return new Upgrade(WsClient.connect(server.ws(sessionId, 0), token), null);
    } catch (CompletionException e) {
      if (e.getCause() instanceof WebSocketHandshakeException refused) return new Upgrade(null, refused.getResponse());
      throw e;
    }
  }

  @Test
  void aSocketOverTheOpenSocketsLimitIsRefusedAtUpgradeAndAllowedOnceOneCloses() throws Exception {
    String id = newSession();
    String dev = token("dev", Role.USER);
    List<WsClient> open = new ArrayList<>();
    try {
      for (int i = 0; i < SOCKETS; i++) {
        Upgrade u = upgrade(id, dev);
        assertTrue(u.client() != null, "socket " + i + " opens");
        u.client().nextOfType("attached");
        open.add(u.client());
      }
      Upgrade extra = upgrade(id, dev);
      assertTrue(extra.client() == null, "one socket more than the limit is refused");
      assertEquals(429, extra.refusal().statusCode());
      assertRetryAfterWithinTheRefillPeriod(extra.refusal().headers().firstValue("Retry-After").orElse(null));

      // Another identity is not affected.
      Upgrade other = upgrade(id, token("eve", Role.USER));
      assertTrue(other.client() != null, "another identity opens its socket");
      open.add(other.client());
      other.client().nextOfType("attached");

      // Once one of dev's sockets has closed (the server counts it when its connection ends), dev gets one again.
      open.remove(0).close();
      long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
      while (true) {
        Upgrade again = upgrade(id, dev);
        if (again.client() != null) {
          open.add(again.client());
          again.client().nextOfType("attached");
          break;
        }
        assertEquals(429, again.refusal().statusCode(), "refused only by the limit while the closed socket ends");
        if (System.nanoTime() > deadline) fail("the closed socket never freed its slot");
        Thread.onSpinWait();
      }
      Upgrade stillFull = upgrade(id, dev);
      assertEquals(429, stillFull.client() == null ? stillFull.refusal().statusCode() : 101, "the limit holds again at two");
      if (stillFull.client() != null) stillFull.client().close();
    } finally {
      open.forEach(WsClient::close);
    }
  }

  @Test
  void sessionCreationsOverTheLimitGet429AndCreateNothing() throws Exception {
    String cat = token("cat", Role.USER);
    for (int i = 0; i < CREATIONS; i++) {
      HttpResponse<String> created = server.call("POST", "/v1/sessions", cat, "{\"id\":\"rl-c-" + UUID.randomUUID() + "\"}");
      assertEquals(201, created.statusCode(), created.body());
    }
    String refusedId = "rl-c-" + UUID.randomUUID();
    assertRateLimited(server.call("POST", "/v1/sessions", cat, "{\"id\":\"" + refusedId + "\"}"));
    HttpResponse<String> missing = server.call("GET", "/v1/sessions/" + refusedId, token("reader", Role.SUPPORT), null);
    assertEquals(404, missing.statusCode(), "the refused creation created nothing: " + missing.body());

    // Durable Streams creations count against the same bucket.
    HttpResponse<String> stream = send("PUT", "/v1/stream/rl-" + UUID.randomUUID(), cat, null);
    assertEquals(429, stream.statusCode(), stream.body());
    assertRetryAfterWithinTheRefillPeriod(stream.headers().firstValue("Retry-After").orElse(null));

    // Another identity creates as usual.
    HttpResponse<String> other = server.call("POST", "/v1/sessions", token("dan", Role.USER), "{\"id\":\"rl-c-" + UUID.randomUUID() + "\"}");
    assertEquals(201, other.statusCode(), other.body());
  }

  HttpResponse<String> send(String method, String path, String token, String jsonBody) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server.http() + path)).header("Authorization", "Bearer " + token)
        .method(method, jsonBody == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(jsonBody));
    b.header("Content-Type", "application/json");
    try {
      return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (Exception e) {
      throw new IllegalStateException(method + " " + path, e);
    }
  }

  @Test
  void durableStreamAppendsOverTheLimitGet429WhileAnotherIdentityAppendsEverything() throws Exception {
    String path = "/v1/stream/rl-" + UUID.randomUUID();
    String fay = token("fay", Role.AGENT);
    String gus = token("gus", Role.AGENT);
    assertEquals(201, send("PUT", path, fay, null).statusCode());
    CompletableFuture<List<Integer>> guses = meanwhile(() -> IntStream.range(0, APPENDS)
        .mapToObj(i -> send("POST", path, gus, "\"gus-" + i + "\"").statusCode()).toList());
    List<HttpResponse<String>> fays = new ArrayList<>();
    for (int i = 0; i < APPENDS + 3; i++) fays.add(send("POST", path, fay, "\"fay-" + i + "\""));

    for (int i = 0; i < APPENDS; i++) assertEquals(204, fays.get(i).statusCode(), fays.get(i).body());
    for (int i = APPENDS; i < APPENDS + 3; i++) {
      assertEquals(429, fays.get(i).statusCode(), fays.get(i).body());
      assertRetryAfterWithinTheRefillPeriod(fays.get(i).headers().firstValue("Retry-After").orElse(null));
    }
    assertEquals(List.of(204, 204, 204, 204, 204), guses.get(), "gus is unaffected");

    List<String> faysWritten = new ArrayList<>();
    List<String> gusesWritten = new ArrayList<>();
    for (JsonNode value : Json.MAPPER.readTree(send("GET", path + "?offset=-1", gus, null).body())) {
      (value.asText().startsWith("fay-") ? faysWritten : gusesWritten).add(value.asText());
    }
    assertEquals(texts("fay-", APPENDS), faysWritten, "exactly the accepted appends");
    assertEquals(texts("gus-", APPENDS), gusesWritten);
  }
}
