package dev.durablesessions.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.durablesessions.http.testing.TestServer;
import dev.durablesessions.http.testing.WsClient;
import dev.durablesessions.persistence.Database;
import dev.durablesessions.session.Role;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** End to end over real sockets: devices, agents, resume, signals, producers. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class SocketContract {
  abstract Database database();

  TestServer server;
  String userToken;
  String agentToken;
  final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  void start() {
    server = new TestServer(database(), "");
    userToken = server.token("ada", Role.USER);
    agentToken = server.token("bot", Role.AGENT);
  }

  @AfterAll
  void stop() {
    server.close();
  }

  HttpResponse<String> request(String method, String path, String token, String body) {
    return server.call(method, path, token, body);
  }

  String newSession() {
    String id = "ws-" + UUID.randomUUID();
    assertEquals(201, request("POST", "/v1/sessions", userToken, "{\"id\":\"" + id + "\"}").statusCode());
    return id;
  }

  static String frame(String type, String ref, String producer, String fields) {
    return "{\"type\":\"" + type + "\",\"ref\":\"" + ref + "\"" + (producer == null ? "" : ",\"producer\":" + producer)
        + (fields.isEmpty() ? "" : "," + fields) + "}";
  }

  static String stamp(long epoch, long seq) {
    return "{\"id\":\"bot/p\",\"epoch\":" + epoch + ",\"seq\":" + seq + "}";
  }

  /** The agent streams {@code deltas} tokens into message m1, then ends it; returns the full text. */
  CompletableFuture<String> streamInBackground(WsClient agent, int deltas, long seed) {
    return CompletableFuture.supplyAsync(() -> {
      Random random = new Random(seed);
      StringBuilder text = new StringBuilder();
      agent.send(frame("stream.start", "s", stamp(1, 0), "\"messageId\":\"m1\""));
      for (int i = 1; i <= deltas; i++) {
        String token = "t" + i + " ";
        text.append(token);
        agent.send(frame("stream.delta", "d" + i, stamp(1, i), "\"messageId\":\"m1\",\"text\":\"" + token + "\""));
        // pacing with jitter, like a model emitting tokens: the stream spans many linger windows
        java.util.concurrent.locks.LockSupport.parkNanos(500_000 + random.nextInt(3_000_000));
      }
      agent.send(frame("stream.end", "e", stamp(1, deltas + 1), "\"messageId\":\"m1\",\"reason\":\"complete\""));
      return text.toString();
    });
  }

  static boolean endsM1(JsonNode f) {
    return "stream.ended".equals(f.path("type").asText()) && "m1".equals(f.path("messageId").asText());
  }

  @Test
  void deviceReconnectingAtRandomOffsetsDuringAStreamGetsEveryEventExactlyOnce() {
    Random random = new Random(2026);
    for (int trial = 0; trial < 3; trial++) {
      String id = newSession();
      try (WsClient agent = WsClient.connect(server.ws(id, 0), agentToken)) {
        agent.nextOfType("attached");
        CompletableFuture<String> streamed = streamInBackground(agent, 500, random.nextLong());
        List<JsonNode> seen = new ArrayList<>();
        long offset = 0;
        int reconnects = 0;
        boolean ended = false;
        while (!ended) {
          try (WsClient device = WsClient.connect(server.ws(id, offset), userToken)) {
            JsonNode attached = device.nextOfType("attached");
            assertEquals(offset, attached.path("after").asLong());
            int take = 1 + random.nextInt(5);
            for (int i = 0; i < take && !ended; i++) {
              JsonNode event = device.next(WsClient::isEvent);
              seen.add(event);
              offset = event.path("offset").asLong();
              ended = endsM1(event);
            }
          } // the device drops the connection mid-stream (abort, no goodbye)
          reconnects++;
        }
        String expected = streamed.join();
        List<Long> offsets = seen.stream().map(f -> f.path("offset").asLong()).toList();
        assertEquals(LongStream.rangeClosed(1, offset).boxed().toList(), offsets,
            "trial " + trial + " after " + reconnects + " reconnects");
        StringBuilder text = new StringBuilder();
        seen.stream().filter(f -> "stream.delta".equals(f.path("type").asText())).forEach(f -> text.append(f.path("text").asText()));
        assertEquals(expected, text.toString());
        assertTrue(reconnects > 3, "the stream should have been resumed several times, was " + reconnects);
      }
    }
  }

  @Test
  void twoDevicesOfOneUserSeeIdenticalStreams() {
    String id = newSession();
    try (WsClient phone = WsClient.connect(server.ws(id, 0), userToken);
        WsClient laptop = WsClient.connect(server.ws(id, 0), userToken);
        WsClient agent = WsClient.connect(server.ws(id, 0), agentToken)) {
      phone.nextOfType("attached");
      laptop.nextOfType("attached");
      agent.nextOfType("attached");
      streamInBackground(agent, 100, 1).join();
      List<JsonNode> a = untilEnd(phone);
      List<JsonNode> b = untilEnd(laptop);
      assertEquals(a, b);
      assertTrue(a.size() > 3);
    }
  }

  static List<JsonNode> untilEnd(WsClient device) {
    List<JsonNode> events = new ArrayList<>();
    JsonNode e;
    do {
      e = device.next(WsClient::isEvent);
      events.add(e);
    } while (!endsM1(e));
    return events;
  }

  @Test
  void agentAppendRetriedAfterReconnectIsNotDuplicated() {
    String id = newSession();
    JsonNode first;
    try (WsClient agent = WsClient.connect(server.ws(id, 0), agentToken)) {
      agent.nextOfType("attached");
      agent.send(frame("message", "a1", stamp(7, 0), "\"text\":\"exactly once\""));
      first = agent.nextOfType("ack");
      assertEquals(false, first.path("duplicate").asBoolean());
    } // connection lost before the agent trusted the ack: it retries on a new socket
    long head = summary(id).path("head").asLong();
    try (WsClient agent = WsClient.connect(server.ws(id, head), agentToken)) {
      agent.nextOfType("attached");
      agent.send(frame("message", "a1-retry", stamp(7, 0), "\"text\":\"exactly once\""));
      JsonNode retry = agent.nextOfType("ack");
      assertEquals("a1-retry", retry.path("ref").asText());
      assertEquals(first.path("offset").asLong(), retry.path("offset").asLong());
      assertTrue(retry.path("duplicate").asBoolean());
    }
    JsonNode history = json(request("GET", "/v1/sessions/" + id + "/events?after=0", userToken, null).body());
    long copies = 0;
    for (JsonNode e : history.path("events")) if ("exactly once".equals(e.path("text").asText())) copies++;
    assertEquals(1, copies);
  }

  @Test
  void interruptReachesTheStreamingAgentAndIsRecorded() {
    String id = newSession();
    try (WsClient agent = WsClient.connect(server.ws(id, 0), agentToken);
        WsClient user = WsClient.connect(server.ws(id, 0), userToken)) {
      agent.nextOfType("attached");
      user.nextOfType("attached");
      agent.send(frame("stream.start", "s", null, "\"messageId\":\"m1\""));
      agent.send(frame("stream.delta", "d", null, "\"messageId\":\"m1\",\"text\":\"thinking \""));
      user.nextOfType("stream.delta");
      user.send(frame("signal", "stop", null, "\"kind\":\"interrupt\",\"to\":{\"role\":\"agent\"},\"text\":\"stop now\""));
      JsonNode ack = user.nextOfType("ack");
      JsonNode signal = agent.nextOfType("signal");
      assertEquals("interrupt", signal.path("kind").asText());
      assertEquals("agent", signal.path("to").path("role").asText());
      assertEquals("ada", signal.path("by").path("id").asText());
      assertEquals(ack.path("offset").asLong(), signal.path("offset").asLong());
      // the agent stops the run, and everyone sees why it ended
      agent.send(frame("stream.end", "x", null, "\"messageId\":\"m1\",\"reason\":\"cancelled\""));
      assertEquals("cancelled", user.nextOfType("stream.ended").path("reason").asText());
    }
  }

  JsonNode summary(String id) {
    return json(request("GET", "/v1/sessions/" + id, userToken, null).body());
  }

  static JsonNode json(String s) {
    try {
      return Json.MAPPER.readTree(s);
    } catch (Exception e) {
      throw new IllegalStateException(s, e);
    }
  }
}
