package dev.durablesessions.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.durablesessions.http.testing.TestServer;
import dev.durablesessions.http.testing.WsClient;
import dev.durablesessions.session.Role;
import dev.durablesessions.testing.TestDatabases;
import java.net.http.HttpResponse;
import java.net.http.WebSocketHandshakeException;
import java.util.concurrent.CompletionException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The {@code events} frame (PROTOCOL §4, sockets opened with {@code batch=true}): a batching
 * socket receives exactly the events, in exactly the order and JSON, that a socket without it
 * receives one frame per event; frames hold at most {@code batch.max-events}; a lone live event
 * still goes alone; a reader that falls behind a small queue and catches up from the journal
 * misses nothing and gets nothing twice. The queue (16 frames) and batches (50 events) are
 * small here so that a few thousand events split, overflow and rewind many times.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EventsFrameTest {
  static final int MAX_EVENTS = 50;
  TestServer server;

  @BeforeAll
  void start() {
    server = new TestServer(TestDatabases.h2(), """
        durable-sessions.http.socket.outbound-buffer = 16
        durable-sessions.http.socket.stall-timeout = 120s
        durable-sessions.http.socket.heartbeat-timeout = 300s
        durable-sessions.http.socket.batch.max-events = %d
        durable-sessions.http.socket.batch.page-size = 300
        durable-sessions.session.coalesce-linger = 0
        # thousands of appends at once from one subject: not what the per-identity limit is for
        durable-sessions.http.limits.appends.count = 0
        """.formatted(MAX_EVENTS));
  }

  @AfterAll
  void stop() {
    server.close();
  }

  String createSession(String user) {
    String id = "batch-" + UUID.randomUUID();
    HttpResponse<String> created = server.call("POST", "/v1/sessions", user, "{\"id\":\"" + id + "\"}");
    assertEquals(201, created.statusCode(), created.body());
    return id;
  }

  /** Writes {@code count} messages over an agent socket and waits for the last one's ack; returns the head. */
  long write(String id, String agentToken, int count) {
    try (WsClient agent = WsClient.connect(server.ws(id, 0), agentToken)) {
      agent.nextOfType("attached");
      for (int i = 0; i < count; i++) agent.send("{\"type\":\"message\",\"text\":\"event " + i + "\",\"ref\":\"m" + i + "\"}");
      JsonNode last = agent.next(f -> "error".equals(f.path("type").asText())
          || "ack".equals(f.path("type").asText()) && ("m" + (count - 1)).equals(f.path("ref").asText()));
      assertEquals("ack", last.path("type").asText(), last.toString());
      return last.path("offset").asLong();
    }
  }

  /** Frames received until an event at or above {@code head} arrived, each events frame kept whole. */
  static List<JsonNode> framesUntil(WsClient client, long head) {
    List<JsonNode> frames = new ArrayList<>();
    long last = 0;
    while (last < head) {
      JsonNode f = client.next(x -> WsClient.isEvent(x) || "events".equals(x.path("type").asText())
          || "closing".equals(x.path("type").asText()));
      assertFalse("closing".equals(f.path("type").asText()), f.toString());
      frames.add(f);
      JsonNode lastEvent = "events".equals(f.path("type").asText()) ? f.path("events").get(f.path("events").size() - 1) : f;
      last = lastEvent.path("offset").asLong();
    }
    return frames;
  }

  static List<JsonNode> unpacked(List<JsonNode> frames) {
    List<JsonNode> events = new ArrayList<>();
    for (JsonNode f : frames) {
      if ("events".equals(f.path("type").asText())) f.path("events").forEach(events::add);
      else events.add(f);
    }
    return events;
  }

  static List<JsonNode> upTo(List<JsonNode> events, long head) {
    return events.stream().filter(e -> e.path("offset").asLong() <= head).toList();
  }

  static List<Long> offsets(List<JsonNode> events) {
    return events.stream().map(e -> e.path("offset").asLong()).toList();
  }

  @Test
  void aBatchingSocketGetsTheSameEventsInFewerFrames() {
    String user = server.token("ada", Role.USER);
    String id = createSession(user);
    long head = write(id, server.token("bot", Role.AGENT), 1500);

    List<JsonNode> single;
    try (WsClient plain = WsClient.connect(server.ws(id, 0), user)) {
      single = framesUntil(plain, head);
    }
    List<JsonNode> batched;
    try (WsClient batching = WsClient.connect(server.ws(id, 0) + "&batch=true", user)) {
      batched = framesUntil(batching, head);
    }
    assertTrue(single.stream().noneMatch(f -> "events".equals(f.path("type").asText())), "events frames on a socket that did not ask");
    // Identical events up to the head (each socket's own presence events come after it), same JSON.
    List<JsonNode> fromBatches = upTo(unpacked(batched), head);
    single = upTo(single, head);
    assertEquals(offsets(single), offsets(fromBatches));
    assertTrue(single.equals(fromBatches), "the events differ from those sent one per frame");
    for (int i = 1; i < fromBatches.size(); i++) {
      assertTrue(fromBatches.get(i).path("offset").asLong() > fromBatches.get(i - 1).path("offset").asLong());
    }
    // The backlog came in events frames, none above the configured size.
    long eventsFrames = batched.stream().filter(f -> "events".equals(f.path("type").asText())).count();
    assertTrue(eventsFrames >= head / MAX_EVENTS, "only " + eventsFrames + " events frames for " + head + " events");
    assertTrue(batched.size() < single.size() / 10, batched.size() + " frames against " + single.size());
    for (JsonNode f : batched) {
      if ("events".equals(f.path("type").asText())) {
        assertTrue(f.path("events").size() >= 2 && f.path("events").size() <= MAX_EVENTS, "events frame of " + f.path("events").size());
      }
    }
  }

  @Test
  void aLoneLiveEventGoesInItsOwnFrame() {
    String user = server.token("ada", Role.USER);
    String id = createSession(user);
    try (WsClient batching = WsClient.connect(server.ws(id, 0) + "&batch=true", user)) {
      JsonNode attached = batching.nextOfType("attached");
      long head = attached.path("head").asLong();
      framesUntil(batching, attached.path("visibleHead").asLong());
      HttpResponse<String> posted = server.call("POST", "/v1/sessions/" + id + "/messages", user, "{\"text\":\"alone\"}");
      assertEquals(201, posted.statusCode(), posted.body());
      // This socket's own presence events, written together, may come first (as an events frame).
      JsonNode live = batching.next(f -> "message".equals(f.path("type").asText())
          || "events".equals(f.path("type").asText()) && f.toString().contains("\"alone\""));
      assertEquals("message", live.path("type").asText(), live.toString());
      assertEquals("alone", live.path("text").asText());
      assertTrue(live.path("offset").asLong() > head);
    }
  }

  @Test
  void aBatchingReaderThatFallsBehindItsQueueMissesNothingAndGetsNothingTwice() throws Exception {
    String user = server.token("ada", Role.USER);
    String agentToken = server.token("bot", Role.AGENT);
    String id = createSession(user);
    String chunk = "z".repeat(2000);
    int messages = 1500; // ~3 MB: far more than 16 frames of 50 events, and than loopback buffers hold
    try (WsClient paused = WsClient.connect(server.ws(id, 0) + "&batch=true", user, false);
        WsClient agent = WsClient.connect(server.ws(id, 0), agentToken)) {
      agent.nextOfType("attached");
      for (int i = 0; i < messages; i++) {
        agent.send("{\"type\":\"message\",\"text\":\"" + i + chunk + "\",\"ref\":\"m" + i + "\"}");
        if (i % 200 == 0) agent.frames.clear();
      }
      JsonNode last = agent.next(f -> "error".equals(f.path("type").asText())
          || "ack".equals(f.path("type").asText()) && ("m" + (messages - 1)).equals(f.path("ref").asText()));
      assertEquals("ack", last.path("type").asText(), last.toString());
      long head = last.path("offset").asLong();
      paused.resume();
      List<JsonNode> events = upTo(unpacked(framesUntil(paused, head)), head);
      List<Long> expected = new ArrayList<>();
      for (long o = 1; o <= head; o++) expected.add(o);
      assertEquals(expected, offsets(events), "every offset once, in order");
      assertFalse(paused.closed.isDone(), "the batching reader was cut off");
    }
  }

  @Test
  void batchIsTrueOrFalse() throws Exception {
    String user = server.token("ada", Role.USER);
    String id = createSession(user);
    for (String bad : List.of("yes", "1", "", "TRUE")) {
      String uri = server.ws(id, 0) + "&batch=" + bad;
      try {
        WsClient.connect(uri, user).close();
        throw new AssertionError("the upgrade to " + uri + " should have been refused");
      } catch (CompletionException e) {
        assertEquals(400, ((WebSocketHandshakeException) e.getCause()).getResponse().statusCode(), uri);
      }
    }
    // Refused before the upgrade: nothing joined the session.
    HttpResponse<String> summary = server.call("GET", "/v1/sessions/" + id, user, null);
    assertEquals(2, Json.MAPPER.readTree(summary.body()).path("head").asLong(), summary.body());
  }
}
