package dev.durablesessions.http.webhook;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import dev.durablesessions.http.Json;
import dev.durablesessions.http.testing.TestServer;
import dev.durablesessions.session.Role;
import dev.durablesessions.session.SessionCommand;
import dev.durablesessions.session.SessionEntity;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A webhook pool end to end, as a node runs it: the session's need reaches the dispatcher,
 * which asks the node's caller once per need; the receiver (a "function") answers through the
 * API with the token it was given. One user message, one call; the answer, repeated reports
 * and a retried need call nothing more; the next message is a new need with a new key.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class WebhookDispatchContract {
  abstract dev.durablesessions.persistence.Database database();

  com.sun.net.httpserver.HttpServer function;
  final List<JsonNode> calls = new CopyOnWriteArrayList<>();
  TestServer server;
  String ada;

  @BeforeAll
  void start() throws IOException {
    function = com.sun.net.httpserver.HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    function.createContext("/", this::answer);
    function.start();
    server = new TestServer(database(), """
        durable-sessions.dispatch.pools {
          fn { mode = webhook, webhook { url = "http://127.0.0.1:%d/fn", secret = "%s", min-backoff = 20ms, max-backoff = 100ms } }
        }
        """.formatted(function.getAddress().getPort(), WebhookContract.SECRET), Clock.systemUTC(), true);
    ada = server.token("ada", Role.USER);
  }

  @AfterAll
  void stop() {
    org.apache.pekko.http.javadsl.Http.get(server.kit.system()).shutdownAllConnectionPools().toCompletableFuture().join();
    server.close();
    function.stop(0);
  }

  /** The function: checks the signature, then answers the session with the token it was given. */
  private void answer(HttpExchange exchange) throws IOException {
    byte[] body = exchange.getRequestBody().readAllBytes();
    boolean signed = WebhookContract.verifiesAsDocumented(exchange.getRequestHeaders().getFirst("DS-Signature"), body);
    exchange.sendResponseHeaders(signed ? 204 : 401, -1);
    exchange.close();
    if (!signed) return;
    JsonNode call = Json.MAPPER.readTree(body);
    calls.add(call);
    var reply = server.call("POST", "/v1/sessions/" + call.path("sessionId").asText() + "/messages", call.path("token").asText(),
        "{\"text\":\"answered " + call.path("idempotencyKey").asText() + "\"}");
    if (reply.statusCode() != 201) throw new IllegalStateException("the function could not answer: " + reply.body());
  }

  List<JsonNode> callsFor(String session) {
    return calls.stream().filter(c -> session.equals(c.path("sessionId").asText())).toList();
  }

  static void await(String what, java.util.function.BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (!condition.getAsBoolean()) {
      assertTrue(System.nanoTime() < deadline, "waited 15 s for " + what);
      TimeUnit.MILLISECONDS.sleep(20);
    }
  }

  long post(String session, String text) throws IOException {
    var r = server.call("POST", "/v1/sessions/" + session + "/messages", ada, "{\"text\":\"" + text + "\"}");
    assertEquals(201, r.statusCode(), r.body());
    return Json.MAPPER.readTree(r.body()).path("offset").asLong();
  }

  @Test
  void eachUnansweredUserMessageCallsTheFunctionOnceAndItAnswersWithItsScopedToken() throws Exception {
    String id = "fn-" + UUID.randomUUID();
    assertEquals(201, server.call("POST", "/v1/sessions", ada, "{\"id\":\"" + id + "\",\"pool\":\"fn\"}").statusCode());
    TimeUnit.MILLISECONDS.sleep(300); // a new session with nothing to answer calls nobody
    assertEquals(List.of(), callsFor(id));

    long first = post(id, "where is my parcel?");
    await("the first call", () -> callsFor(id).size() == 1);
    JsonNode call = callsFor(id).get(0);
    assertEquals(id + ":1:1", call.path("idempotencyKey").asText());
    assertEquals(first, call.path("fromOffset").asLong());
    assertEquals("needs_agent", call.path("reason").asText());
    await("the function's answer is in the session", () -> server.call("GET", "/v1/sessions/" + id + "/events?after=" + first, ada, null)
        .body().contains("answered " + id + ":1:1"));

    // The same need reported again (a session that recovers reports itself) calls nobody.
    ClusterSharding.get(server.kit.system()).entityRefFor(SessionEntity.TYPE_KEY, id).tell(SessionCommand.ReportNeed.INSTANCE);
    TimeUnit.MILLISECONDS.sleep(500);
    assertEquals(1, callsFor(id).size(), "one need, one call");

    post(id, "and my refund?");
    await("the second call", () -> callsFor(id).size() == 2);
    assertEquals(id + ":2:1", callsFor(id).get(1).path("idempotencyKey").asText(), "a new need, a new key");
    TimeUnit.MILLISECONDS.sleep(500);
    assertEquals(2, callsFor(id).size());
  }
}
