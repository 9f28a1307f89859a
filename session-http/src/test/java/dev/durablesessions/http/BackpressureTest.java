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
 * its last offset without loss. A consumer that only falls behind for a while (a burst larger
 * than its queue, a pause shorter than the stall timeout) is not cut: it catches up from the
 * journal on the same socket.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BackpressureTest {
  /**
   * A small queue and a short stall timeout. The test clients send no heartbeats, and on a
   * loaded CI machine a test can outlast the default 30 s heartbeat timeout: it is not what
   * these tests are about, so it is long here.
   */
  TestServer server;
  /** The same small queue, with a stall timeout longer than any pause the tests make. */
  TestServer patient;

  @BeforeAll
  void start() {
    server = new TestServer(TestDatabases.h2(), """
        durable-sessions.http.socket.outbound-buffer = 32
        durable-sessions.http.socket.stall-timeout = 2s
        durable-sessions.http.socket.slow-consumer-abort-after = 1s
        durable-sessions.http.socket.heartbeat-timeout = 300s
        durable-sessions.session.coalesce-linger = 0
        """);
    patient = new TestServer(TestDatabases.h2(), """
        durable-sessions.http.socket.outbound-buffer = 32
        durable-sessions.http.socket.stall-timeout = 120s
        durable-sessions.http.socket.heartbeat-timeout = 300s
        durable-sessions.session.coalesce-linger = 0
        """);
  }

  @AfterAll
  void stop() {
    server.close();
    patient.close();
  }

  String createSession(TestServer on, String user) {
    String id = "bp-" + java.util.UUID.randomUUID();
    HttpResponse<String> created = on.call("POST", "/v1/sessions", user, "{\"id\":\"" + id + "\"}");
    assertEquals(201, created.statusCode(), created.body());
    return id;
  }

  /** Reads events until {@code head}, asserting each offset from {@code after + 1} arrives once, in order, with no closing frame. */
  static void receiveEveryOffsetInOrder(WsClient client, long after, long head) {
    for (long expected = after + 1; expected <= head; expected++) {
      JsonNode f = client.next(x -> WsClient.isEvent(x) || "closing".equals(x.path("type").asText()));
      assertEquals(expected, f.path("offset").asLong(), f.toString());
    }
  }

  @Test
  void aConsumerThatPausesShorterThanTheStallTimeoutIsNotCutAndMissesNothing() throws Exception {
    // A queue of 32 frames holds a few milliseconds of this flood: the paused device's queue
    // fills within moments (the old rule cut it right there), and it must still get everything.
    String user = patient.token("ada", Role.USER);
    String agentToken = patient.token("bot", Role.AGENT);
    String id = createSession(patient, user);
    String chunk = "y".repeat(4000);
    int messages = 2000; // ~8 MB: more than the loopback socket buffers of a reader that stopped
    try (WsClient paused = WsClient.connect(patient.ws(id, 0), user, false);
        WsClient reading = WsClient.connect(patient.ws(id, 0), user);
        WsClient agent = WsClient.connect(patient.ws(id, 0), agentToken)) {
      reading.nextOfType("attached");
      agent.nextOfType("attached");
      for (int i = 0; i < messages; i++) {
        agent.send("{\"type\":\"message\",\"text\":\"" + i + chunk + "\"}");
        if (i % 200 == 0) agent.frames.clear();
      }
      long head = 2 + 1 + messages; // created, creator joined, agent joined, messages
      // Every event exists and went to the reading device; the paused one has been full for a while.
      receiveEveryOffsetInOrder(reading, 0, head);
      awaitSubscribers(patient, id, user, 3);
      paused.resume();
      assertEquals("attached", paused.next().path("type").asText());
      receiveEveryOffsetInOrder(paused, 0, head);
      assertTrue(!paused.closed.isDone(), "the paused device's socket was closed");
      // The agent, which read its own copy all along, was never cut either.
      agent.send("{\"type\":\"message\",\"text\":\"still here\",\"ref\":\"last\"}");
      agent.next(f -> "ack".equals(f.path("type").asText()) && "last".equals(f.path("ref").asText()));
    }
  }

  void awaitSubscribers(TestServer server, String id, String token, int expected) throws Exception {
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
      awaitSubscribers(server, id, user, 2);
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
      long resumedAt = System.nanoTime();
      try (WsClient resumed = WsClient.connect(server.ws(id, last), user)) {
        resumed.nextOfType("attached");
        for (long expected = last + 1; expected <= head; expected++) {
          JsonNode f = resumed.next(x -> WsClient.isEvent(x) || "closing".equals(x.path("type").asText()));
          assertEquals(expected, f.path("offset").asLong(), "resumed after " + last + ": " + f);
        }
      }
      System.out.printf("[backpressure] stalled device resumed after %d and caught up %d events in %d ms%n",
          last, head - last, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - resumedAt));
    }
  }
}
