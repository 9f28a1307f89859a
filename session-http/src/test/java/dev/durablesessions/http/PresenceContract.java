package dev.durablesessions.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.durablesessions.http.testing.TestServer;
import dev.durablesessions.http.testing.WsClient;
import dev.durablesessions.persistence.Database;
import dev.durablesessions.session.Role;
import dev.durablesessions.session.SessionCommand;
import dev.durablesessions.session.SessionEntity;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Presence over real sockets: the four endings (left, disconnected, lost, cancelled) stay
 * apart, a crash is reported exactly once and only after the grace period, heartbeats tell a
 * dead agent from a slow one, stalls are marked, signals round-trip, and a session that moves
 * keeps its participants' presence.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class PresenceContract {
  static final long GRACE_MS = 700;
  static final long HEARTBEAT_TIMEOUT_MS = 1200;

  abstract Database database();

  TestServer server;
  String user;
  String agent;
  final HttpClient http = HttpClient.newHttpClient();
  final ScheduledExecutorService heartbeats = Executors.newScheduledThreadPool(1);

  @BeforeAll
  void start() {
    server = new TestServer(database(), """
        durable-sessions.presence.grace = %dms
        durable-sessions.presence.stall-after = 500ms
        durable-sessions.presence.reattach-window = 1500ms
        durable-sessions.follower.keep-alive-interval = 300ms
        durable-sessions.http.socket.heartbeat-timeout = %dms
        """.formatted(GRACE_MS, HEARTBEAT_TIMEOUT_MS));
    user = server.token("ada", Role.USER);
    agent = server.token("bot", Role.AGENT);
  }

  @AfterAll
  void stop() {
    heartbeats.shutdownNow();
    server.close();
  }

  String newSession() {
    String id = "p-" + UUID.randomUUID();
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(server.http() + "/v1/sessions"))
          .header("Authorization", "Bearer " + user).POST(HttpRequest.BodyPublishers.ofString("{\"id\":\"" + id + "\"}")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(201, r.statusCode());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
    return id;
  }

  /** Connects and keeps the socket alive with heartbeats, as a live client does. */
  WsClient live(String id, String token, String device) {
    WsClient c = WsClient.connect(server.ws(id, 0) + "&device=" + device, token);
    heartbeats.scheduleAtFixedRate(() -> c.trySend("{\"type\":\"heartbeat\"}"), 200, 300, TimeUnit.MILLISECONDS);
    c.nextOfType("attached");
    return c;
  }

  JsonNode history(String id) {
    try {
      return Json.MAPPER.readTree(http.send(HttpRequest.newBuilder(URI.create(server.http() + "/v1/sessions/" + id + "/events?limit=1000"))
          .header("Authorization", "Bearer " + user).build(), HttpResponse.BodyHandlers.ofString()).body()).path("events");
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static List<JsonNode> ofType(JsonNode events, String type) {
    List<JsonNode> out = new ArrayList<>();
    for (JsonNode e : events) if (type.equals(e.path("type").asText())) out.add(e);
    return out;
  }

  static boolean about(JsonNode e, String participant) {
    return participant.equals(e.path("participant").path("id").asText());
  }

  /** Waits for an event in the session's history. */
  JsonNode awaitEvent(String id, Predicate<JsonNode> wanted, long timeoutMs) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    do {
      for (JsonNode e : history(id)) if (wanted.test(e)) return e;
      Thread.onSpinWait();
    } while (System.nanoTime() < deadline);
    throw new AssertionError("no such event in " + history(id));
  }

  static Predicate<JsonNode> type(String type, String participant) {
    return e -> type.equals(e.path("type").asText()) && about(e, participant);
  }

  @Test
  void agentWhoseSocketDiesWithoutGoodbyeIsLostExactlyOnceAndItsStreamEndsAsAgentLost() throws Exception {
    String id = newSession();
    try (WsClient watcher = live(id, user, "phone")) {
      WsClient bot = live(id, agent, "bot-1");
      bot.send("{\"type\":\"stream.start\",\"messageId\":\"m1\"}");
      bot.send("{\"type\":\"stream.delta\",\"messageId\":\"m1\",\"text\":\"half an ans\"}");
      watcher.nextOfType("stream.delta");
      bot.socket.abort(); // the process dies: no leave, no close frame

      JsonNode disconnected = watcher.next(type("participant.disconnected", "bot")::test);
      assertEquals("bot-1", disconnected.path("device").asText());
      assertTrue(disconnected.hasNonNull("graceUntil"));
      JsonNode lost = watcher.next(type("participant.lost", "bot")::test);
      long waited = java.time.Duration.between(java.time.Instant.parse(disconnected.path("at").asText()),
          java.time.Instant.parse(lost.path("at").asText())).toMillis();
      assertTrue(waited >= GRACE_MS - 50, "lost after only " + waited + " ms");
      JsonNode ended = watcher.nextOfType("stream.ended");
      assertEquals("agent_lost", ended.path("reason").asText());
      assertEquals("m1", ended.path("messageId").asText());

      // exactly once: nothing more about the agent, however long we wait
      TimeUnit.MILLISECONDS.sleep(GRACE_MS * 2); // waiting for the absence of an event: no probe can signal it
      JsonNode events = history(id);
      assertEquals(1, ofType(events, "participant.lost").size());
      assertEquals(1, ofType(events, "participant.disconnected").stream().filter(e -> about(e, "bot")).count());
      assertTrue(ofType(events, "participant.left").isEmpty(), "a crash is not a goodbye");
    }
  }

  @Test
  void agentThatReconnectsWithinTheGracePeriodIsNeverLost() throws Exception {
    String id = newSession();
    WsClient first = live(id, agent, "bot-1");
    first.socket.abort();
    awaitEvent(id, type("participant.disconnected", "bot"), 5000);
    try (WsClient again = live(id, agent, "bot-1")) {
      awaitEvent(id, e -> "participant.connected".equals(e.path("type").asText()) && about(e, "bot")
          && e.path("offset").asLong() > 4, 5000);
      TimeUnit.MILLISECONDS.sleep(GRACE_MS * 2); // the grace period passes: no lost event may appear
      assertTrue(ofType(history(id), "participant.lost").isEmpty(), history(id).toString());
      assertFalse(again.closed.isDone());
    }
  }

  @Test
  void silentSocketIsClosedAsDeadButASlowHeartbeatingAgentIsNot() throws Exception {
    String id = newSession();
    // a slow agent: busy, streams nothing, but its heartbeats arrive
    try (WsClient slow = live(id, agent, "slow")) {
      // a frozen one: connected, then never sends another byte
      WsClient frozen = WsClient.connect(server.ws(id, 0) + "&device=frozen", server.token("frozen-bot", Role.AGENT));
      frozen.nextOfType("attached");
      JsonNode closing = frozen.nextOfType("closing");
      assertEquals("heartbeat_timeout", closing.path("reason").asText());
      JsonNode disconnected = awaitEvent(id, type("participant.disconnected", "frozen-bot"), 5000);
      assertEquals("heartbeat_timeout", disconnected.path("reason").asText());
      awaitEvent(id, type("participant.lost", "frozen-bot"), 5000);
      // the slow one outlived three heartbeat timeouts without a single presence change
      TimeUnit.MILLISECONDS.sleep(HEARTBEAT_TIMEOUT_MS); // the absence of a flap is what is under test
      JsonNode events = history(id);
      assertTrue(ofType(events, "participant.disconnected").stream().noneMatch(e -> about(e, "bot")), events.toString());
      assertFalse(slow.closed.isDone());
    }
  }

  @Test
  void agentThatStreamsNothingIsMarkedStalledOnce() throws Exception {
    String id = newSession();
    try (WsClient bot = live(id, agent, "bot-1")) {
      bot.send("{\"type\":\"status\",\"status\":\"streaming\"}");
      bot.send("{\"type\":\"stream.start\",\"messageId\":\"m1\"}");
      JsonNode stalled = awaitEvent(id, e -> "agent.stalled".equals(e.path("type").asText()), 5000);
      assertEquals("bot", stalled.path("agent").asText());
      assertEquals("m1", stalled.path("messageId").asText());
      TimeUnit.MILLISECONDS.sleep(1200); // more silence must not repeat the mark
      assertEquals(1, ofType(history(id), "agent.stalled").size());
      JsonNode summary = Json.MAPPER.readTree(http.send(HttpRequest.newBuilder(URI.create(server.http() + "/v1/sessions/" + id))
          .header("Authorization", "Bearer " + user).build(), HttpResponse.BodyHandlers.ofString()).body());
      assertEquals("bot", summary.path("stalled").path("m1").asText());
      JsonNode botView = null;
      for (JsonNode p : summary.path("participants")) if ("bot".equals(p.path("participant").path("id").asText())) botView = p;
      assertEquals("streaming", botView.path("status").asText());
      assertEquals("online", botView.path("presence").path("status").asText());
      assertEquals("bot-1", botView.path("devices").get(0).path("device").asText());
      // streaming again clears the mark
      bot.send("{\"type\":\"stream.delta\",\"messageId\":\"m1\",\"text\":\"back\"}");
      awaitEvent(id, e -> "stream.delta".equals(e.path("type").asText()), 5000);
    }
  }

  @Test
  void signalsReachTheStreamingAgentAtOnceAndItsAnswersReachTheSender() {
    String id = newSession();
    try (WsClient bot = live(id, agent, "bot-1"); WsClient ada = live(id, user, "phone")) {
      bot.send("{\"type\":\"stream.start\",\"messageId\":\"m1\"}");
      bot.send("{\"type\":\"stream.delta\",\"messageId\":\"m1\",\"text\":\"working \"}");
      ada.send("{\"type\":\"signal\",\"ref\":\"s1\",\"kind\":\"steer\",\"to\":{\"role\":\"agent\"},\"text\":\"shorter please\"}");
      JsonNode steer = bot.nextOfType("signal");
      assertEquals("steer", steer.path("kind").asText());
      assertEquals("shorter please", steer.path("text").asText());
      ada.send("{\"type\":\"signal\",\"ref\":\"s2\",\"kind\":\"cancel\",\"toolCallId\":\"call-7\",\"to\":{\"participant\":\"bot\"}}");
      JsonNode cancel = bot.nextOfType("signal");
      assertEquals("call-7", cancel.path("toolCallId").asText());
      ada.send("{\"type\":\"signal\",\"ref\":\"s3\",\"kind\":\"typing\",\"to\":{\"role\":\"agent\"}}");
      JsonNode typing = bot.nextOfType("signal");

      bot.send("{\"type\":\"signal.answer\",\"ref\":\"a1\",\"signal\":" + steer.path("offset").asLong() + ",\"outcome\":\"consumed\"}");
      bot.send("{\"type\":\"signal.answer\",\"ref\":\"a2\",\"signal\":" + cancel.path("offset").asLong() + ",\"outcome\":\"consumed\"}");
      bot.send("{\"type\":\"signal.answer\",\"ref\":\"a3\",\"signal\":" + typing.path("offset").asLong() + ",\"outcome\":\"ignored\"}");
      JsonNode a1 = ada.nextOfType("signal.answered");
      assertEquals(steer.path("offset").asLong(), a1.path("signal").asLong());
      assertEquals("consumed", a1.path("outcome").asText());
      assertEquals("consumed", ada.nextOfType("signal.answered").path("outcome").asText());
      assertEquals("ignored", ada.nextOfType("signal.answered").path("outcome").asText());

      // only the addressee answers, once, a signal that exists
      ada.send("{\"type\":\"signal.answer\",\"ref\":\"x\",\"signal\":" + steer.path("offset").asLong() + ",\"outcome\":\"consumed\"}");
      ada.expectError("signal_not_found");
      ada.send("{\"type\":\"signal\",\"ref\":\"s4\",\"kind\":\"interrupt\",\"to\":{\"role\":\"agent\"}}");
      long interrupt = bot.nextOfType("signal").path("offset").asLong();
      ada.send("{\"type\":\"signal.answer\",\"ref\":\"y\",\"signal\":" + interrupt + ",\"outcome\":\"consumed\"}");
      ada.expectError("not_addressee");
      bot.send("{\"type\":\"stream.end\",\"messageId\":\"m1\",\"reason\":\"cancelled\"}");
      assertEquals("cancelled", ada.nextOfType("stream.ended").path("reason").asText());
    }
  }

  @Test
  void leavingIsAGoodbyeNotADisconnection() throws Exception {
    String id = newSession();
    WsClient bot = live(id, agent, "bot-1");
    bot.send("{\"type\":\"leave\",\"ref\":\"bye\"}");
    assertEquals("bye", bot.nextOfType("ack").path("ref").asText());
    awaitEvent(id, type("participant.left", "bot"), 5000);
    TimeUnit.MILLISECONDS.sleep(GRACE_MS * 2); // neither disconnected nor lost may follow
    JsonNode events = history(id);
    assertTrue(ofType(events, "participant.disconnected").stream().noneMatch(e -> about(e, "bot")), events.toString());
    assertTrue(ofType(events, "participant.lost").isEmpty(), events.toString());
  }

  @Test
  void sessionMovedToANewIncarnationKeepsPresenceAndDeliversWithoutLoss() throws Exception {
    String id = newSession();
    try (WsClient bot = live(id, agent, "bot-1"); WsClient ada = live(id, user, "phone")) {
      bot.send("{\"type\":\"stream.start\",\"messageId\":\"m1\"}");
      StringBuilder sent = new StringBuilder();
      for (int i = 0; i < 40; i++) {
        if (i == 15) {
          // stop the incarnation mid-stream: the next message starts a new one from the journal
          ClusterSharding.get(server.kit.system()).entityRefFor(SessionEntity.TYPE_KEY, id).tell(SessionCommand.Passivate.INSTANCE);
        }
        String token = "t" + i + " ";
        sent.append(token);
        bot.send("{\"type\":\"stream.delta\",\"ref\":\"d" + i + "\",\"producer\":{\"id\":\"p\",\"epoch\":1,\"seq\":" + i
            + "},\"messageId\":\"m1\",\"text\":\"" + token + "\"}");
        TimeUnit.MILLISECONDS.sleep(20); // pacing like a model
      }
      // deltas sent while the incarnation was stopping may have been dropped; the agent retries
      // what was not acknowledged, with the same stamps
      java.util.Set<Long> acked = new java.util.HashSet<>();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (acked.size() < 40 && System.nanoTime() < deadline) {
        JsonNode f = bot.frames.poll(300, TimeUnit.MILLISECONDS);
        if (f != null && "ack".equals(f.path("type").asText())) acked.add(f.path("seq").asLong());
        if (f == null) {
          for (int i = 0; i < 40; i++) {
            if (!acked.contains((long) i)) {
              bot.send("{\"type\":\"stream.delta\",\"producer\":{\"id\":\"p\",\"epoch\":1,\"seq\":" + i
                  + "},\"messageId\":\"m1\",\"text\":\"t" + i + " \"}");
            }
          }
        }
      }
      assertEquals(40, acked.size());
      bot.send("{\"type\":\"stream.end\",\"messageId\":\"m1\",\"reason\":\"complete\"}");
      StringBuilder received = new StringBuilder();
      long last = 0;
      JsonNode f;
      do {
        f = ada.next(WsClient::isEvent);
        assertTrue(f.path("offset").asLong() > last, "offsets out of order");
        last = f.path("offset").asLong();
        if ("stream.delta".equals(f.path("type").asText())) received.append(f.path("text").asText());
      } while (!"stream.ended".equals(f.path("type").asText()));
      assertEquals(sent.toString(), received.toString());
      // both devices re-attached to the new incarnation: nobody was disconnected
      TimeUnit.MILLISECONDS.sleep(1800); // past the re-attach window
      JsonNode events = history(id);
      assertTrue(ofType(events, "participant.disconnected").isEmpty(), events.toString());
      JsonNode summary = Json.MAPPER.readTree(http.send(HttpRequest.newBuilder(URI.create(server.http() + "/v1/sessions/" + id))
          .header("Authorization", "Bearer " + user).build(), HttpResponse.BodyHandlers.ofString()).body());
      for (JsonNode p : summary.path("participants")) {
        assertEquals("online", p.path("presence").path("status").asText(), summary.toString());
        assertEquals(1, p.path("devices").size(), summary.toString());
      }
    }
  }
}
