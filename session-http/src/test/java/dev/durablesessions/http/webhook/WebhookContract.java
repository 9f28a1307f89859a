package dev.durablesessions.http.webhook;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import dev.durablesessions.http.Json;
import dev.durablesessions.http.rest.SessionQueries;
import dev.durablesessions.http.rest.SessionRoutes;
import dev.durablesessions.http.testing.TestServer;
import dev.durablesessions.session.Role;
import dev.durablesessions.session.dispatch.Pools;
import dev.durablesessions.session.dispatch.WebhookCall;
import dev.durablesessions.session.resume.SessionJournal;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A webhook pool's calls against a real receiver on a real port, from a real node: the
 * receiver checks every signature with the documented recipe (not with the server's class),
 * and the token each request carries is tried against the node.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class WebhookContract {
  abstract dev.durablesessions.persistence.Database database();

  static final String SECRET = "webhook-test-secret-0123456789-abcdefghij";

  /** One request as the receiver got it. */
  record Received(String path, Map<String, List<String>> headers, byte[] body, boolean signatureValid) {
    String header(String name) {
      List<String> values = headers.get(name);
      return values == null ? null : values.get(0);
    }

    JsonNode json() {
      try {
        return Json.MAPPER.readTree(body);
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  com.sun.net.httpserver.HttpServer receiver;
  final List<Received> received = new CopyOnWriteArrayList<>();
  /** /flaky answers 500 to the first attempt of each key, then 200. */
  final Map<String, Boolean> failedOnce = new ConcurrentHashMap<>();
  TestServer server;
  ActorRef<WebhookCall> caller;
  String ada;

  @BeforeAll
  void start() throws IOException {
    receiver = com.sun.net.httpserver.HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    receiver.createContext("/", this::receive);
    receiver.start();
    String base = "http://127.0.0.1:" + receiver.getAddress().getPort();
    String webhook = "webhook { secret = \"" + SECRET + "\", min-backoff = 20ms, max-backoff = 100ms, timeout = 3s";
    server = new TestServer(database(), "durable-sessions.dispatch.pools {\n"
        + "  flaky-fn { mode = webhook, " + webhook + ", url = \"" + base + "/flaky\" } }\n"
        + "  down-fn { mode = webhook, " + webhook + ", max-attempts = 3, url = \"" + base + "/down\" } }\n"
        + "  refusing-fn { mode = webhook, " + webhook + ", url = \"" + base + "/refusing\" } }\n"
        + "}");
    var system = server.kit.system();
    SessionJournal journal = SessionJournal.fromConfig(system);
    SessionQueries queries = new SessionQueries(ClusterSharding.get(system), journal,
        system.settings().config().getDuration("durable-sessions.http.ask-timeout"), SessionRoutes.views(system, journal));
    caller = server.kit.spawn(WebhookCaller.create(Pools.fromConfig(system.settings().config()), server.tokens, queries), "webhooks");
    ada = server.token("ada", Role.USER);
  }

  @AfterAll
  void stop() {
    org.apache.pekko.http.javadsl.Http.get(server.kit.system()).shutdownAllConnectionPools().toCompletableFuture().join();
    server.close();
    receiver.stop(0);
  }

  private void receive(HttpExchange exchange) throws IOException {
    byte[] body = exchange.getRequestBody().readAllBytes();
    String path = exchange.getRequestURI().getPath();
    Received r = new Received(path, Map.copyOf(exchange.getRequestHeaders()), body,
        verifiesAsDocumented(exchange.getRequestHeaders().getFirst("DS-Signature"), body));
    received.add(r);
    String key = r.header("Idempotency-key");
    int status = switch (path) {
      case "/flaky" -> failedOnce.putIfAbsent(key, true) == null ? 500 : 200;
      case "/down" -> 503;
      case "/refusing" -> 400;
      default -> 404;
    };
    exchange.sendResponseHeaders(status, -1);
    exchange.close();
  }

  /** docs/AGENTS.md: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>, within 5 minutes. */
  static boolean verifiesAsDocumented(String header, byte[] body) {
    if (header == null || !header.matches("t=[0-9]+,v1=[0-9a-f]{64}")) return false;
    long t = Long.parseLong(header.substring(2, header.indexOf(',')));
    if (Math.abs(Instant.now().getEpochSecond() - t) > 300) return false;
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      mac.update((t + ".").getBytes(StandardCharsets.UTF_8));
      return header.endsWith("v1=" + HexFormat.of().formatHex(mac.doFinal(body)));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  List<Received> receivedFor(String key) {
    return received.stream().filter(r -> key.equals(r.header("Idempotency-key"))).toList();
  }

  static void await(String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting until " + what);
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
  }

  /** A session of {@code pool} with one unanswered user message (offset 3). */
  String sessionWithAQuestion(String pool) {
    String id = "wh-" + UUID.randomUUID();
    assertEquals(201, server.call("POST", "/v1/sessions", ada, "{\"id\":\"" + id + "\",\"pool\":\"" + pool + "\"}").statusCode());
    assertEquals(201, server.call("POST", "/v1/sessions/" + id + "/messages", ada, "{\"text\":\"where is my parcel?\"}").statusCode());
    return id;
  }

  JsonNode events(String id) {
    HttpResponse<String> page = server.call("GET", "/v1/sessions/" + id + "/events?after=0", ada, null);
    assertEquals(200, page.statusCode(), page.body());
    try {
      return Json.MAPPER.readTree(page.body()).path("events");
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  JsonNode eventOfType(String id, String type) {
    for (JsonNode e : events(id)) if (type.equals(e.path("type").asText())) return e;
    return null;
  }

  @Test
  void aCallAnswered500IsRetriedOnceWithTheSameKeyAndBodyAndEverySignatureVerifies() {
    String id = sessionWithAQuestion("flaky-fn");
    String key = id + ":1:1";
    double deliveredBefore = WebhookMetrics.CALLS.labelValues("flaky-fn", "delivered").get();
    caller.tell(new WebhookCall(id, "flaky-fn", 3, key, "needs_agent"));
    await("the second attempt arrived", () -> receivedFor(key).size() >= 2);
    await("the call counts as delivered", () -> WebhookMetrics.CALLS.labelValues("flaky-fn", "delivered").get() > deliveredBefore);
    List<Received> attempts = receivedFor(key);
    assertEquals(2, attempts.size());
    for (Received r : attempts) {
      assertTrue(r.signatureValid(), "the receiver verifies the signature: " + r.header("Ds-signature"));
      assertEquals("/flaky", r.path());
      assertTrue(r.header("Content-type").startsWith("application/json"), r.header("Content-type"));
    }
    assertEquals(List.of("1", "2"), attempts.stream().map(r -> r.header("Ds-attempt")).toList());
    assertArrayEquals(attempts.get(0).body(), attempts.get(1).body(), "every attempt sends the same body");

    JsonNode body = attempts.get(0).json();
    assertEquals(id, body.path("sessionId").asText());
    assertEquals("flaky-fn", body.path("pool").asText());
    assertEquals(3, body.path("fromOffset").asLong());
    assertEquals("needs_agent", body.path("reason").asText());
    assertEquals(key, body.path("idempotencyKey").asText());
    assertTrue(Instant.parse(body.path("tokenExpiresAt").asText()).isAfter(Instant.now()));
    assertTrue(body.path("resume").isObject(), "the resume package is in the request: " + body);
    assertEquals(2, body.path("resume").path("since").asLong(-1), "the resume package starts at the user message: " + body.path("resume"));
    assertEquals("where is my parcel?", body.path("resume").path("addressed").path(0).path("text").asText(), body.path("resume").toString());

    // The token answers in that session, and nowhere else.
    String token = body.path("token").asText();
    assertEquals(200, server.call("GET", "/v1/sessions/" + id, token, null).statusCode());
    HttpResponse<String> answer = server.call("POST", "/v1/sessions/" + id + "/messages", token, "{\"text\":\"On its way.\"}");
    assertEquals(201, answer.statusCode(), answer.body());
    String other = sessionWithAQuestion("flaky-fn");
    assertEquals(403, server.call("GET", "/v1/sessions/" + other, token, null).statusCode());
    assertEquals(403, server.call("POST", "/v1/sessions/" + other + "/messages", token, "{\"text\":\"hi\"}").statusCode());
    assertEquals(403, server.call("POST", "/v1/sessions", token, "").statusCode(), "nor can it create sessions");
  }

  @Test
  void oneNeedIsDeliveredOnceHoweverOftenItIsAskedFor() {
    String id = sessionWithAQuestion("flaky-fn");
    String key = id + ":1:1";
    // Asked twice while in flight (the first attempt fails, the retry waits), then again once delivered.
    caller.tell(new WebhookCall(id, "flaky-fn", 3, key, "needs_agent"));
    caller.tell(new WebhookCall(id, "flaky-fn", 3, key, "needs_agent"));
    await("delivered", () -> receivedFor(key).size() >= 2);
    caller.tell(new WebhookCall(id, "flaky-fn", 3, key, "needs_agent"));
    // A later need of another session, asked after the repeats: once it is delivered, the caller
    // has handled the repeats too (it takes its messages in order), and sent nothing for them.
    String marker = sessionWithAQuestion("flaky-fn");
    caller.tell(new WebhookCall(marker, "flaky-fn", 3, marker + ":1:1", "needs_agent"));
    await("the marker delivered", () -> receivedFor(marker + ":1:1").size() >= 2);
    assertEquals(List.of("1", "2"), receivedFor(key).stream().map(r -> r.header("Ds-attempt")).toList(),
        "one need, one delivery: the first attempt and its retry, nothing for the repeats");
  }

  @Test
  void aUrlThatAlwaysFailsEndsInAgentWebhookFailedAndTheFailedMetric() {
    String id = sessionWithAQuestion("down-fn");
    String key = id + ":1:1";
    double failedBefore = WebhookMetrics.CALLS.labelValues("down-fn", "failed").get();
    caller.tell(new WebhookCall(id, "down-fn", 3, key, "needs_agent"));
    await("agent.webhook_failed is in the session's history", () -> eventOfType(id, "agent.webhook_failed") != null);
    JsonNode failed = eventOfType(id, "agent.webhook_failed");
    assertEquals("down-fn", failed.path("pool").asText());
    assertEquals(3, failed.path("attempts").asInt());
    assertEquals(503, failed.path("lastStatus").asInt());
    assertEquals(key, failed.path("idempotencyKey").asText());
    assertEquals("session", failed.path("by").path("id").asText());
    assertEquals(List.of("1", "2", "3"), receivedFor(key).stream().map(r -> r.header("Ds-attempt")).toList(),
        "max-attempts, then no more");
    assertEquals(failedBefore + 1, WebhookMetrics.CALLS.labelValues("down-fn", "failed").get());
    assertTrue(WebhookMetrics.CALLS.labelValues("down-fn", "retried").get() >= 2);
  }

  @Test
  void anAnswerThatRetryingCannotChangeFailsTheCallAtOnce() {
    String id = sessionWithAQuestion("refusing-fn");
    String key = id + ":1:1";
    caller.tell(new WebhookCall(id, "refusing-fn", 3, key, "needs_agent"));
    await("agent.webhook_failed is in the session's history", () -> eventOfType(id, "agent.webhook_failed") != null);
    JsonNode failed = eventOfType(id, "agent.webhook_failed");
    assertEquals(1, failed.path("attempts").asInt());
    assertEquals(400, failed.path("lastStatus").asInt());
    assertEquals(1, receivedFor(key).size(), "a 400 is not retried");
  }
}
