package dev.durablesessions.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.durablesessions.http.Json;
import dev.durablesessions.http.auth.Tokens;
import dev.durablesessions.session.Role;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.junit.jupiter.api.Test;

/**
 * The runnable node as a user meets it: real HTTP port, real WebSocket, the built-in demo
 * agent, and a full restart of the node on the same database.
 */
abstract class NodeContract {
  static final String SECRET = "node-test-secret-node-test-secret-0123456789";

  abstract String databaseUrl();

  abstract String databaseUser();

  final HttpClient http = HttpClient.newHttpClient();
  final Tokens tokens = new Tokens(SECRET, "durable-sessions");
  final String user = tokens.issue("ada", Role.USER, List.of("*"), Duration.ofHours(1));

  static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  ActorSystem<Void> startNode(int httpPort) {
    return startNode(httpPort, "");
  }

  /** This class's own dispatcher journal (shared by its nodes, so a restarted node finds its leases): not the one earlier tests filled. */
  final String DISPATCHER_RUN = java.util.UUID.randomUUID().toString();

  ActorSystem<Void> startNode(int httpPort, String extra) {
    Config config = ConfigFactory.parseString(extra).withFallback(ConfigFactory.parseString("""
            durable-sessions.http.host = "127.0.0.1"
            durable-sessions.http.port = %d
            durable-sessions.database.url = "%s"
            durable-sessions.database.user = "%s"
            durable-sessions.auth.secret = "%s"
            pekko.remote.artery.canonical.port = 0
            durable-sessions.management.enabled = off
            pekko.coordinated-shutdown.exit-jvm = off
            pekko.cluster.jmx.multi-mbeans-in-same-jvm = on
            durable-sessions.dispatch.persistence-id = "agent-dispatcher-%s"
            """.formatted(httpPort, databaseUrl(), databaseUser(), SECRET, DISPATCHER_RUN)))
        .withFallback(ConfigFactory.load())
        .resolve();
    ActorSystem<Void> node = Node.start(config);
    awaitHealthy(httpPort);
    return node;
  }

  void awaitHealthy(int port) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      try {
        if (http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health")).build(),
            HttpResponse.BodyHandlers.ofString()).statusCode() == 200) return;
      } catch (Exception notYet) {
        // the port is not bound yet
      }
      Thread.onSpinWait();
    }
    throw new AssertionError("node did not become healthy on port " + port);
  }

  static void stopNode(ActorSystem<Void> node) {
    node.terminate();
    node.getWhenTerminated().toCompletableFuture().orTimeout(30, TimeUnit.SECONDS).join();
  }

  HttpResponse<String> call(int port, String method, String path, String body) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .header("Authorization", "Bearer " + user)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
        .build(), HttpResponse.BodyHandlers.ofString());
  }

  /** A device on the session's socket that records frames. */
  static final class Device implements WebSocket.Listener {
    final BlockingQueue<JsonNode> frames = new LinkedBlockingQueue<>();
    final StringBuilder partial = new StringBuilder();
    WebSocket socket;

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
      partial.append(data);
      if (last) {
        try {
          frames.add(Json.MAPPER.readTree(partial.toString()));
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
        partial.setLength(0);
      }
      ws.request(1);
      return null;
    }

    JsonNode next(String type) throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (System.nanoTime() < deadline) {
        JsonNode f = frames.poll(100, TimeUnit.MILLISECONDS);
        if (f != null && type.equals(f.path("type").asText())) return f;
      }
      throw new AssertionError("no " + type + " frame");
    }
  }

  Device connect(int port, String sessionId, long offset) {
    Device d = new Device();
    d.socket = http.newWebSocketBuilder()
        .buildAsync(URI.create("ws://127.0.0.1:" + port + "/v1/sessions/" + sessionId + "/ws?offset=" + offset + "&access_token=" + user), d)
        .join();
    return d;
  }

  @Test
  void demoAgentStreamsAnAnswerAndStopsAtOnceWhenInterrupted() throws Exception {
    int port = freePort();
    ActorSystem<Void> node = startNode(port);
    try {
      String id = "node-" + UUID.randomUUID();
      assertEquals(201, call(port, "POST", "/v1/sessions", "{\"id\":\"" + id + "\"}").statusCode());
      Device device = connect(port, id, 0);
      device.next("attached");
      // the built-in agent joins every new session
      while (!"demo-agent".equals(device.next("participant.joined").path("participant").path("id").asText())) {
        Thread.onSpinWait();
      }
      device.socket.sendText("{\"type\":\"message\",\"text\":\"hello agent\"}", true).join();
      JsonNode started = device.next("stream.started");
      assertEquals("demo-agent", started.path("by").path("id").asText());
      String messageId = started.path("messageId").asText();
      JsonNode delta = device.next("stream.delta");
      assertTrue(delta.path("text").asText().startsWith("You "), delta.toString());
      device.socket.sendText("{\"type\":\"signal\",\"kind\":\"interrupt\",\"to\":{\"role\":\"agent\"}}", true).join();
      JsonNode signal = device.next("signal");
      JsonNode ended = device.next("stream.ended");
      assertEquals(messageId, ended.path("messageId").asText());
      assertEquals("cancelled", ended.path("reason").asText());
      // at once: no delta of that answer was written after the interrupt was seen
      long signalOffset = signal.path("offset").asLong();
      JsonNode history = Json.MAPPER.readTree(call(port, "GET", "/v1/sessions/" + id + "/events?after=" + signalOffset, null).body());
      for (JsonNode e : history.path("events")) {
        if ("stream.delta".equals(e.path("type").asText())) {
          assertTrue(e.path("offset").asLong() < ended.path("offset").asLong(), "delta after the end: " + e);
        }
      }
      assertTrue(ended.path("offset").asLong() - signalOffset <= 3, "the agent kept streaming after the interrupt");
      device.socket.abort();
    } finally {
      stopNode(node);
    }
  }

  HttpResponse<String> callAs(String token, int port, String method, String path, String body) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .header("Authorization", "Bearer " + token)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
        .build(), HttpResponse.BodyHandlers.ofString());
  }

  /**
   * What a user asked after the human's last word, while the human had the floor, is answered
   * by the demo agent once the floor comes back; what the human answered is not answered twice.
   */
  @Test
  void demoAgentAnswersWhatIsUnansweredWhenTheFloorComesBack() throws Exception {
    int port = freePort();
    ActorSystem<Void> node = startNode(port);
    String support = tokens.issue("sam", Role.SUPPORT, List.of("*"), Duration.ofHours(1));
    try {
      String id = "node-" + UUID.randomUUID();
      assertEquals(201, call(port, "POST", "/v1/sessions", "{\"id\":\"" + id + "\"}").statusCode());
      Device device = connect(port, id, 0);
      device.next("attached");
      while (!"demo-agent".equals(device.next("participant.joined").path("participant").path("id").asText())) {
        Thread.onSpinWait();
      }
      String path = "/v1/sessions/" + id;
      assertEquals(200, callAs(support, port, "POST", path + "/transfers", "{\"mode\":\"cold\",\"to\":{\"queue\":\"billing\"}}").statusCode());
      assertEquals(200, callAs(support, port, "POST", path + "/claim", null).statusCode());
      device.next("session.claimed");
      long first = Json.MAPPER.readTree(call(port, "POST", path + "/messages", "{\"text\":\"first question\"}").body()).path("offset").asLong();
      assertEquals(201, callAs(support, port, "POST", path + "/messages", "{\"text\":\"the human answers it\"}").statusCode());
      long second = Json.MAPPER.readTree(call(port, "POST", path + "/messages", "{\"text\":\"second question\"}").body()).path("offset").asLong();
      assertTrue(second > first);
      long handedBack = Json.MAPPER.readTree(callAs(support, port, "POST", path + "/handback", "{}").body()).path("offset").asLong();
      JsonNode started = device.next("stream.started");
      assertTrue(started.path("offset").asLong() > handedBack, "nobody answers while the human has the floor: " + started);
      assertEquals("demo-" + second, started.path("messageId").asText(), "the unanswered question is answered, the answered one is not");
      JsonNode ended = device.next("stream.ended");
      assertEquals("complete", ended.path("reason").asText());
      JsonNode idle;
      do {
        idle = device.next("agent.status");
      } while (!"idle".equals(idle.path("status").asText()));
      JsonNode history = Json.MAPPER.readTree(call(port, "GET", path + "/events?after=" + handedBack + "&limit=1000", null).body());
      long answers = 0;
      for (JsonNode e : history.path("events")) if ("stream.started".equals(e.path("type").asText())) answers++;
      assertEquals(1, answers, "one answer after the handback");
      device.socket.abort();
    } finally {
      stopNode(node);
    }
  }

  @Test
  void agentProcessKilledWithoutGoodbyeIsReportedLostExactlyOnce() throws Exception {
    int port = freePort();
    ActorSystem<Void> node = startNode(port, "durable-sessions.presence.grace = 1s");
    try {
      String id = "crash-" + UUID.randomUUID();
      assertEquals(201, call(port, "POST", "/v1/sessions", "{\"id\":\"" + id + "\"}").statusCode());
      // a real agent process: another JVM holding a socket to the session
      ProcessBuilder agent = new ProcessBuilder(
          ProcessHandle.current().info().command().orElse("java"), "-cp", System.getProperty("java.class.path"),
          "dev.durablesessions.cluster.tools.Connect", id, "0", "worker-1");
      agent.environment().put("DS_TOKEN", tokens.issue("ext-agent", Role.AGENT, List.of("*"), Duration.ofHours(1)));
      agent.environment().put("DS_URL", "http://127.0.0.1:" + port);
      agent.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
      Process process = agent.start();
      try {
        awaitHistory(port, id, e -> "participant.connected".equals(e.path("type").asText())
            && "ext-agent".equals(e.path("participant").path("id").asText()));
      } finally {
        process.destroyForcibly(); // kill -9: no goodbye, no close frame
      }
      process.waitFor(10, TimeUnit.SECONDS);
      JsonNode lost = awaitHistory(port, id, e -> "participant.lost".equals(e.path("type").asText()));
      assertEquals("ext-agent", lost.path("participant").path("id").asText());
      JsonNode events = Json.MAPPER.readTree(call(port, "GET", "/v1/sessions/" + id + "/events?limit=1000", null).body()).path("events");
      int lostEvents = 0;
      JsonNode disconnected = null;
      for (JsonNode e : events) {
        if ("participant.lost".equals(e.path("type").asText())) lostEvents++;
        if ("participant.disconnected".equals(e.path("type").asText())) disconnected = e;
      }
      assertEquals(1, lostEvents);
      assertEquals("worker-1", disconnected.path("device").asText());
      assertTrue(disconnected.path("offset").asLong() < lost.path("offset").asLong());
    } finally {
      stopNode(node);
    }
  }

  JsonNode awaitHistory(int port, String id, java.util.function.Predicate<JsonNode> wanted) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() < deadline) {
      JsonNode events = Json.MAPPER.readTree(call(port, "GET", "/v1/sessions/" + id + "/events?limit=1000", null).body()).path("events");
      for (JsonNode e : events) if (wanted.test(e)) return e;
      TimeUnit.MILLISECONDS.sleep(50); // polling an HTTP endpoint: nothing else to await on
    }
    throw new AssertionError("no such event in session " + id);
  }

  @Test
  void sessionSurvivesAFullNodeRestartWithOffsetsAndProducerState() throws Exception {
    int port = freePort();
    String id = "restart-" + UUID.randomUUID();
    String producer = "{\"id\":\"ada-phone\",\"epoch\":1,\"seq\":0}";
    long offset;
    long head;
    ActorSystem<Void> node = startNode(port);
    try {
      assertEquals(201, call(port, "POST", "/v1/sessions", "{\"id\":\"" + id + "\"}").statusCode());
      HttpResponse<String> first = call(port, "POST", "/v1/sessions/" + id + "/messages", "{\"text\":\"remember me\",\"producer\":" + producer + "}");
      assertEquals(201, first.statusCode(), first.body());
      offset = Json.MAPPER.readTree(first.body()).path("offset").asLong();
      // wait for the demo agent's whole answer so the head is stable
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      JsonNode summary;
      do {
        summary = Json.MAPPER.readTree(call(port, "GET", "/v1/sessions/" + id, null).body());
        Thread.onSpinWait();
      } while ((summary.path("openStreams").size() > 0 || summary.path("head").asLong() < offset + 2) && System.nanoTime() < deadline);
      assertEquals(0, summary.path("openStreams").size(), "the demo agent's answer did not finish: " + summary);
      head = summary.path("head").asLong();
    } finally {
      stopNode(node);
    }

    ActorSystem<Void> restarted = startNode(port);
    try {
      JsonNode summary = Json.MAPPER.readTree(call(port, "GET", "/v1/sessions/" + id, null).body());
      assertTrue(summary.path("head").asLong() >= head, summary.toString());
      HttpResponse<String> retry = call(port, "POST", "/v1/sessions/" + id + "/messages", "{\"text\":\"remember me\",\"producer\":" + producer + "}");
      assertEquals(200, retry.statusCode(), retry.body());
      JsonNode ack = Json.MAPPER.readTree(retry.body());
      assertTrue(ack.path("duplicate").asBoolean());
      assertEquals(offset, ack.path("offset").asLong());
      JsonNode page = Json.MAPPER.readTree(call(port, "GET", "/v1/sessions/" + id + "/events?after=0&limit=1000", null).body());
      long expected = 1;
      for (JsonNode e : page.path("events")) assertEquals(expected++, e.path("offset").asLong());
      assertEquals(page.path("head").asLong(), expected - 1);
    } finally {
      stopNode(restarted);
    }
  }
}
