package dev.durablesessions.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.durablesessions.http.socket.ConnectionActor;
import dev.durablesessions.http.testing.TestServer;
import dev.durablesessions.http.testing.WsClient;
import dev.durablesessions.session.Role;
import dev.durablesessions.testing.TestDatabases;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A consumer that stops reading is cut off with the resumable consumer_too_slow close, while
 * a healthy device on the same session receives everything; the slow one then resumes from
 * its last offset without loss.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BackpressureTest {
  TestServer server;

  @BeforeAll
  void start() {
    server = new TestServer(TestDatabases.h2(), """
        durable-sessions.http.socket.outbound-buffer = 32
        durable-sessions.http.socket.slow-consumer-abort-after = 1s
        durable-sessions.session.coalesce-linger = 0
        """);
  }

  @AfterAll
  void stop() {
    server.close();
  }

  void awaitSubscribers(String id, String token, int expected) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    int subscribers = -1;
    while (System.nanoTime() < deadline) {
      HttpResponse<String> r = HttpClient.newHttpClient().send(
          HttpRequest.newBuilder(URI.create(server.http() + "/v1/sessions/" + id)).header("Authorization", "Bearer " + token).build(),
          HttpResponse.BodyHandlers.ofString());
      subscribers = Json.MAPPER.readTree(r.body()).path("subscribers").asInt();
      if (subscribers == expected) return;
      Thread.onSpinWait();
      TimeUnit.MILLISECONDS.sleep(50); // polling an HTTP endpoint: there is nothing to await on
    }
    assertEquals(expected, subscribers, "subscribers of " + id);
  }

  @Test
  void stalledConsumerIsCutOffResumablyWhileTheOthersKeepUp() throws Exception {
    String user = server.token("ada", Role.USER);
    String agentToken = server.token("bot", Role.AGENT);
    String id = "bp-" + java.util.UUID.randomUUID();
    HttpResponse<String> created = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create(server.http() + "/v1/sessions"))
            .header("Authorization", "Bearer " + user)
            .POST(HttpRequest.BodyPublishers.ofString("{\"id\":\"" + id + "\"}")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(201, created.statusCode());

    String chunk = "x".repeat(4000);
    int messages = 2000; // ~8 MB: more than loopback socket buffers and the 32-frame queue hold
    try (WsClient stalled = WsClient.connect(server.ws(id, 0), user, false);
        WsClient healthy = WsClient.connect(server.ws(id, 0), user);
        WsClient agent = WsClient.connect(server.ws(id, 0), agentToken)) {
      healthy.nextOfType("attached");
      agent.nextOfType("attached");
      for (int i = 0; i < messages; i++) {
        agent.send("{\"type\":\"message\",\"text\":\"" + i + chunk + "\"}");
        if (i % 200 == 0) agent.frames.clear(); // the agent's own copy of the stream is not under test
      }
      // The healthy device gets every event, in order, while the other one is stalled.
      List<Long> offsets = new ArrayList<>();
      long head = 2 + 1 + messages; // created, creator joined, agent joined, messages
      while (offsets.size() < head) {
        JsonNode e = healthy.next(WsClient::isEvent);
        offsets.add(e.path("offset").asLong());
      }
      assertEquals(LongStream.rangeClosed(1, head).boxed().toList(), offsets);

      // The server cut the stalled device off: the session no longer delivers to it.
      awaitSubscribers(id, user, 2);
      // Once it reads again it finds the end of its connection; whatever it got before, it
      // resumes from its last offset and loses nothing.
      stalled.resume();
      long last = 0;
      JsonNode closing = null;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (!stalled.closed.isDone() && System.nanoTime() < deadline) {
        JsonNode f = stalled.frames.poll(100, TimeUnit.MILLISECONDS);
        if (f == null) continue;
        if (WsClient.isEvent(f)) last = f.path("offset").asLong();
        if ("closing".equals(f.path("type").asText())) closing = f;
      }
      for (JsonNode f; (f = stalled.frames.poll()) != null; ) {
        if (WsClient.isEvent(f)) last = f.path("offset").asLong();
        if ("closing".equals(f.path("type").asText())) closing = f;
      }
      assertTrue(stalled.closed.isDone(), "the stalled socket was not closed");
      assertTrue(last < head, "the stalled device should not have received everything");
      if (closing != null) {
        assertEquals(ConnectionActor.CLOSE_CONSUMER_TOO_SLOW, closing.path("code").asInt());
        assertEquals("consumer_too_slow", closing.path("reason").asText());
        assertTrue(closing.path("resumable").asBoolean());
      }
      try (WsClient resumed = WsClient.connect(server.ws(id, last), user)) {
        resumed.nextOfType("attached");
        for (long expected = last + 1; expected <= head; expected++) {
          assertEquals(expected, resumed.next(WsClient::isEvent).path("offset").asLong());
        }
      }
    }
  }
}
