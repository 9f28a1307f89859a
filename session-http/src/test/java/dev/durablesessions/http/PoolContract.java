package dev.durablesessions.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.durablesessions.http.testing.TestServer;
import dev.durablesessions.persistence.Database;
import dev.durablesessions.session.Role;
import java.net.http.HttpResponse;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** A session belongs to the agent pool named when it was created (else the default pool), recorded in its first event. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class PoolContract {
  abstract Database database();

  TestServer server;
  String ada;

  @BeforeAll
  void start() {
    server = new TestServer(database(), "durable-sessions.dispatch.pools { support-bot {} }");
    ada = server.token("ada", Role.USER);
  }

  @AfterAll
  void stop() {
    server.close();
  }

  HttpResponse<String> call(String method, String path, String body) {
    return server.call(method, path, ada, body);
  }

  JsonNode json(HttpResponse<String> r) {
    return SocketContract.json(r.body());
  }

  @Test
  void aSessionCreatedForAPoolNamesItInItsCreatedEventAndSummary() {
    String id = "pool-" + UUID.randomUUID();
    HttpResponse<String> created = call("POST", "/v1/sessions", "{\"id\":\"" + id + "\",\"pool\":\"support-bot\"}");
    assertEquals(201, created.statusCode(), created.body());
    assertEquals("support-bot", json(created).path("pool").asText());
    assertEquals("support-bot", json(call("GET", "/v1/sessions/" + id, null)).path("pool").asText());
    JsonNode first = json(call("GET", "/v1/sessions/" + id + "/events", null)).path("events").get(0);
    assertEquals("session.created", first.path("type").asText());
    assertEquals("support-bot", first.path("pool").asText());
  }

  @Test
  void aSessionCreatedWithoutAPoolBelongsToTheDefaultPool() {
    HttpResponse<String> created = call("POST", "/v1/sessions", "");
    assertEquals(201, created.statusCode(), created.body());
    assertEquals("default", json(created).path("pool").asText());
    String id = json(created).path("sessionId").asText();
    JsonNode first = json(call("GET", "/v1/sessions/" + id + "/events", null)).path("events").get(0);
    assertEquals("default", first.path("pool").asText());
  }

  @Test
  void anUnknownPoolOrOneThatIsNoStringIsRefusedAndCreatesNothing() {
    String id = "pool-" + UUID.randomUUID();
    BadInputTest.assertError(call("POST", "/v1/sessions", "{\"id\":\"" + id + "\",\"pool\":\"nobody-runs-this\"}"), 400, "unknown_pool");
    BadInputTest.assertError(call("POST", "/v1/sessions", "{\"id\":\"" + id + "\",\"pool\":7}"), 400, "invalid_request");
    BadInputTest.assertError(call("GET", "/v1/sessions/" + id, null), 404, "session_not_found");
  }
}
