package dev.durablesessions.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Session state as data: commits, refusals, state at a turn, diffs, the commit log, resume packages, receipts, audit, metrics. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class StateContract {
  abstract Database database();

  TestServer server;
  String ada;
  String bot;
  String sam;
  final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  void start() {
    server = new TestServer(database(), """
        durable-sessions.session.receipt-interval = 200ms
        durable-sessions.follower.keep-alive-interval = 300ms
        durable-sessions.http.ask-timeout = 1s
        """);
    ada = server.token("ada", Role.USER);
    bot = server.token("bot", Role.AGENT);
    sam = server.token("sam", Role.SUPPORT);
  }

  @AfterAll
  void stop() {
    server.close();
  }

  HttpResponse<String> call(String method, String path, String token, String body) {
    return server.call(method, path, token, body);
  }

  JsonNode get(String path, String token) {
    HttpResponse<String> r = call("GET", path, token, null);
    assertEquals(200, r.statusCode(), r.body());
    return SocketContract.json(r.body());
  }

  String newSession() {
    String id = "st-" + UUID.randomUUID();
    assertEquals(201, call("POST", "/v1/sessions", ada, "{\"id\":\"" + id + "\"}").statusCode());
    return id;
  }

  /** Sends a frame on the agent socket and waits for its answer (ack or error). */
  static JsonNode request(WsClient ws, String ref, String frame) {
    ws.send(frame);
    return ws.next(f -> ref.equals(f.path("ref").asText()));
  }

  static String commit(String ref, String tool, String patch) {
    return "{\"type\":\"commit\",\"ref\":\"" + ref + "\",\"tool\":\"" + tool + "\",\"inputHash\":\"sha256:" + ref
        + "\",\"outputSummary\":\"" + tool + " ran\",\"provenance\":\"verified\",\"patch\":" + patch + "}";
  }

  void userTurn(WsClient user, String text) {
    JsonNode ack = request(user, "u-" + text, "{\"type\":\"message\",\"ref\":\"u-" + text + "\",\"text\":\"" + text + "\"}");
    assertEquals("ack", ack.path("type").asText(), ack.toString());
  }

  void agentReply(WsClient agent, String text) {
    JsonNode ack = request(agent, "a-" + text, "{\"type\":\"message\",\"ref\":\"a-" + text + "\",\"text\":\"" + text + "\"}");
    assertEquals("ack", ack.path("type").asText(), ack.toString());
  }

  @Test
  void commitsChangeTheStateByTurnAndAreQueryableDiffableAndFiltered() {
    String id = newSession();
    try (WsClient user = WsClient.connect(server.ws(id, 0), ada); WsClient agent = WsClient.connect(server.ws(id, 0), bot)) {
      user.nextOfType("attached");
      agent.nextOfType("attached");
      // turn 1: a tool call, its result, and the commit it caused
      userTurn(user, "fix the login bug");
      assertEquals("ack", request(agent, "c1", "{\"type\":\"tool.call\",\"ref\":\"c1\",\"toolCallId\":\"call-1\",\"name\":\"edit_file\",\"inputHash\":\"sha256:aa\"}").path("type").asText());
      assertEquals("ack", request(agent, "r1", "{\"type\":\"tool.result\",\"ref\":\"r1\",\"toolCallId\":\"call-1\",\"outcome\":\"ok\",\"summary\":\"1 file\"}").path("type").asText());
      JsonNode ack = request(agent, "k1", commit("k1", "edit_file", """
          [{"op":"add","path":"/files_modified/-","value":"src/login.ts"},
           {"op":"add","path":"/tools_used/-","value":"edit_file"},
           {"op":"add","path":"/pending_actions/-","value":{"id":"deploy","what":"deploy the fix","done":false}}]""").replace("\"tool\":", "\"toolCallId\":\"call-1\",\"tool\":"));
      assertEquals("ack", ack.path("type").asText(), ack.toString());
      agentReply(agent, "fixed");
      // turn 2: a decision, and a tool that timed out (recorded as an error the agent can branch on)
      userTurn(user, "why that way?");
      request(agent, "k2", commit("k2", "think", "[{\"op\":\"add\",\"path\":\"/decisions_made/-\",\"value\":{\"what\":\"patch the token check\",\"why\":\"smallest change\"}}]"));
      JsonNode timeout = request(agent, "k3", "{\"type\":\"commit\",\"ref\":\"k3\",\"tool\":\"run_tests\",\"error\":{\"code\":\"timeout\",\"message\":\"tests took > 60 s\"},\"evictedKeys\":[\"file_3\"],\"patch\":[]}");
      assertEquals("ack", timeout.path("type").asText(), timeout.toString());
      agentReply(agent, "because");
      // turn 3: more files, and the deploy action done
      userTurn(user, "ship it");
      request(agent, "k4", commit("k4", "edit_file", "[{\"op\":\"add\",\"path\":\"/files_modified/-\",\"value\":\"src/session.ts\"},{\"op\":\"replace\",\"path\":\"/pending_actions/0/done\",\"value\":true}]"));
      agentReply(agent, "shipped");

      // a patch that does not apply, or undoes a finished action, is refused and changes nothing
      long head = get("/v1/sessions/" + id, ada).path("head").asLong();
      JsonNode refused = request(agent, "bad1", commit("bad1", "edit_file", "[{\"op\":\"remove\",\"path\":\"/no/such/path\"}]"));
      assertEquals("patch_rejected", refused.path("code").asText(), refused.toString());
      assertEquals("patch_rejected", request(agent, "bad2", commit("bad2", "x", "[{\"op\":\"replace\",\"path\":\"/pending_actions/0/done\",\"value\":false}]")).path("code").asText());
      assertEquals("patch_rejected", request(agent, "bad3", commit("bad3", "x", "[{\"op\":\"replace\",\"path\":\"/decisions_made\",\"value\":7}]")).path("code").asText());
      assertEquals("patch_rejected", request(agent, "bad4", commit("bad4", "x", "{\"op\":\"add\"}")).path("code").asText());
      assertEquals("patch_rejected", request(agent, "bad8", commit("bad8", "x", "[{\"op\":\"add\",\"path\":\"files\",\"value\":1}]")).path("code").asText());
      // a remove of a missing member (acknowledged and written before), and of an index past the end
      JsonNode missing = request(agent, "bad9", commit("bad9", "x", "[{\"op\":\"remove\",\"path\":\"/nope\"}]"));
      assertEquals("patch_rejected", missing.path("code").asText(), missing.toString());
      assertTrue(missing.path("message").asText().contains("/nope"), missing.toString());
      assertEquals("patch_rejected", request(agent, "bad10", commit("bad10", "x", "[{\"op\":\"replace\",\"path\":\"/files_modified/-\",\"value\":1}]")).path("code").asText());
      assertEquals("tool_call_not_found", request(agent, "bad5", "{\"type\":\"tool.result\",\"ref\":\"bad5\",\"toolCallId\":\"nope\",\"outcome\":\"ok\"}").path("code").asText());
      assertEquals("tool_call_finished", request(agent, "bad6", "{\"type\":\"tool.result\",\"ref\":\"bad6\",\"toolCallId\":\"call-1\",\"outcome\":\"error\"}").path("code").asText());
      assertEquals("forbidden", request(user, "bad7", commit("bad7", "x", "[]")).path("code").asText());
      assertEquals(head, get("/v1/sessions/" + id, ada).path("head").asLong());

      JsonNode now = get("/v1/sessions/" + id + "/state", ada);
      assertEquals(3, now.path("turn").path("number").asInt());
      assertEquals("src/session.ts", now.path("document").path("files_modified").get(1).asText());
      assertTrue(now.path("document").path("pending_actions").get(0).path("done").asBoolean());

      JsonNode atTurn1 = get("/v1/sessions/" + id + "/state?turn=1", ada).path("document");
      assertEquals(1, atTurn1.path("files_modified").size());
      assertEquals(0, atTurn1.path("decisions_made").size());
      assertFalse(atTurn1.path("pending_actions").get(0).path("done").asBoolean());
      long k1Offset = ack.path("offset").asLong();
      assertEquals(0, get("/v1/sessions/" + id + "/state?at=" + (k1Offset - 1), ada).path("document").path("files_modified").size());
      assertEquals(1, get("/v1/sessions/" + id + "/state?at=" + k1Offset, ada).path("document").path("files_modified").size());

      JsonNode diff = get("/v1/sessions/" + id + "/diff?from=1&to=3", ada);
      List<String> ops = new ArrayList<>();
      for (JsonNode op : diff.path("patch")) ops.add(op.path("op").asText() + " " + op.path("path").asText());
      assertTrue(ops.contains("add /files_modified/1"), ops.toString());
      assertTrue(ops.contains("replace /pending_actions/0/done"), ops.toString());
      assertEquals(3, diff.path("commits").size()); // turns 2 and 3
      assertEquals("state.committed", diff.path("commits").get(0).path("type").asText());

      // "which files did the agent change in the last 2 turns" is one call
      JsonNode recent = get("/v1/sessions/" + id + "/commits?path=/files_modified&lastTurns=2", sam);
      assertEquals(1, recent.path("commits").size());
      assertEquals("[\"/files_modified/-\"]", recent.path("touched").toString());
      assertEquals(2, get("/v1/sessions/" + id + "/commits?tool=edit_file", sam).path("commits").size());
      JsonNode timedOut = get("/v1/sessions/" + id + "/commits?tool=run_tests", sam).path("commits").get(0);
      assertEquals("timeout", timedOut.path("error").path("code").asText());
      assertEquals("file_3", timedOut.path("evictedKeys").get(0).asText());
      assertEquals(2, timedOut.path("turn").asInt());
      JsonNode linked = get("/v1/sessions/" + id + "/commits?tool=edit_file", sam).path("commits").get(0);
      assertEquals("call-1", linked.path("toolCallId").asText());
      assertEquals("verified", linked.path("provenance").asText());
    }
  }

  @Test
  void aRetriedTurnIsRecordedAsARetryAndItsDiffIsOneCall() {
    String id = newSession();
    try (WsClient user = WsClient.connect(server.ws(id, 0), ada); WsClient agent = WsClient.connect(server.ws(id, 0), bot)) {
      user.nextOfType("attached");
      agent.nextOfType("attached");
      userTurn(user, "score this");
      request(agent, "a1", commit("a1", "score", "[{\"op\":\"add\",\"path\":\"/score\",\"value\":{\"confidence\":0.9,\"label\":\"A\"}}]"));
      JsonNode retry = request(agent, "retry", "{\"type\":\"turn.retry\",\"ref\":\"retry\",\"reason\":\"low agreement\"}");
      assertEquals("ack", retry.path("type").asText(), retry.toString());
      request(agent, "a2", commit("a2", "score", "[{\"op\":\"replace\",\"path\":\"/score\",\"value\":{\"confidence\":0.6,\"label\":\"B\"}}]"));
      JsonNode commits = get("/v1/sessions/" + id + "/commits?tool=score", ada).path("commits");
      assertEquals(1, commits.get(0).path("attempt").asInt());
      assertEquals(2, commits.get(1).path("attempt").asInt());
      assertEquals(commits.get(0).path("turn").asInt(), commits.get(1).path("turn").asInt());
      JsonNode diff = get("/v1/sessions/" + id + "/diff?turn=1&attempt=1&vs=2", ada);
      List<String> changed = new ArrayList<>();
      for (JsonNode op : diff.path("patch")) changed.add(op.path("path").asText());
      assertTrue(changed.contains("/score/confidence") && changed.contains("/score/label"), diff.toString());
      assertEquals(1, diff.path("commits").size());
    }
  }

  @Test
  void resumePackageHoldsWhatArrivedWhileTheAgentWasAwayAndStaysBounded() throws Exception {
    String id = newSession();
    long acked;
    try (WsClient agent = WsClient.connect(server.ws(id, 0), bot)) {
      agent.nextOfType("attached");
      request(agent, "n", commit("n", "plan", "[{\"op\":\"add\",\"path\":\"/pending_actions/-\",\"value\":{\"id\":\"refund\",\"what\":\"refund\",\"done\":false}}]"));
      agent.send("{\"type\":\"stream.start\",\"messageId\":\"run-1\"}");
      request(agent, "tc", "{\"type\":\"tool.call\",\"ref\":\"tc\",\"toolCallId\":\"call-9\",\"name\":\"lookup_order\"}");
      acked = SocketContract.json(call("GET", "/v1/sessions/" + id, ada, null).body()).path("head").asLong();
      agent.send("{\"type\":\"ack\",\"offset\":" + acked + "}");
      awaitReceipt(id, "bot", acked);
      agent.socket.abort(); // the agent process dies
    }
    // while it is away: a user message, a signal to the agent, a signal to someone else, a transfer note
    call("POST", "/v1/sessions/" + id + "/messages", ada, "{\"text\":\"are you still there?\"}");
    try (WsClient user = WsClient.connect(server.ws(id, 0), ada)) {
      user.nextOfType("attached");
      request(user, "s1", "{\"type\":\"signal\",\"ref\":\"s1\",\"kind\":\"steer\",\"to\":{\"role\":\"agent\"},\"text\":\"be brief\"}");
      request(user, "s2", "{\"type\":\"signal\",\"ref\":\"s2\",\"kind\":\"custom\",\"to\":{\"participant\":\"someone-else\"},\"text\":\"x\"}");
    }
    call("POST", "/v1/sessions/" + id + "/transfers", sam, "{\"mode\":\"warm\",\"to\":{\"queue\":\"q\"},\"note\":{\"next\":[\"refund order 42\"]}}");

    JsonNode pkg = get("/v1/sessions/" + id + "/resume", bot);
    assertEquals(acked, pkg.path("since").asLong(), "since the last offset the agent acknowledged");
    List<String> addressed = new ArrayList<>();
    for (JsonNode e : pkg.path("addressed")) addressed.add(e.path("type").asText() + ":" + e.path("text").asText());
    assertEquals(List.of("message:are you still there?", "signal:be brief"), addressed);
    assertEquals("refund order 42", pkg.path("note").path("next").get(0).asText());
    assertEquals("refund", pkg.path("state").path("pending_actions").get(0).path("id").asText());
    assertEquals("call-9", pkg.path("openRuns").path("toolCalls").get(0).path("toolCallId").asText());
    assertEquals("run-1", pkg.path("openRuns").path("streams").get(0).path("messageId").asText());
    assertEquals(SocketContract.json(call("GET", "/v1/sessions/" + id, ada, null).body()).path("head").asLong(), pkg.path("head").asLong());
    assertFalse(pkg.path("truncated").asBoolean());

    // bounded whatever the history: 300 more messages, at most max-events come back, flagged truncated
    for (int i = 0; i < 300; i++) call("POST", "/v1/sessions/" + id + "/messages", ada, "{\"text\":\"m" + i + "\"}");
    JsonNode big = get("/v1/sessions/" + id + "/resume", bot);
    assertEquals(200, big.path("addressed").size());
    assertTrue(big.path("truncated").asBoolean());
    assertEquals("message:m299", big.path("addressed").get(199).path("type").asText() + ":" + big.path("addressed").get(199).path("text").asText());
  }

  void awaitReceipt(String id, String participant, long offset) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      // a session stopped by the test drops what reaches it while stopping: 503, then asked again
      HttpResponse<String> answer = call("GET", "/v1/sessions/" + id + "/receipts?participant=" + participant + "&offset=" + offset, sam, null);
      if (answer.statusCode() == 200 && SocketContract.json(answer.body()).path("reached").asBoolean()) return;
      TimeUnit.MILLISECONDS.sleep(50); // polling an HTTP endpoint: nothing else to await on
    }
    throw new AssertionError("no receipt for " + participant + " at " + offset);
  }

  /**
   * The head of a session can be an event a reader never receives (here a receipt): attached's
   * visibleHead says where its backlog really ends, and the socket gets exactly the events up to
   * it, then nothing until the first live event after the head.
   */
  @Test
  void aSocketAttachingAfterAReceiptIsToldWhereItsBacklogEndsAndGetsExactlyThatBeforeLive() throws Exception {
    String id = newSession();
    try (WsClient phone = WsClient.connect(server.ws(id, 0) + "&device=phone", ada)) {
      JsonNode first = phone.nextOfType("attached");
      assertEquals(first.path("head").asLong(), first.path("visibleHead").asLong(), "nothing invisible yet: the backlog ends at the head");
      long connected = phone.nextOfType("participant.connected").path("offset").asLong();
      phone.send("{\"type\":\"heartbeat\",\"offset\":" + connected + "}");
      awaitReceipt(id, "ada", connected);
      long head = get("/v1/sessions/" + id, sam).path("head").asLong();

      try (WsClient laptop = WsClient.connect(server.ws(id, 0) + "&device=laptop", ada)) {
        JsonNode attached = laptop.nextOfType("attached");
        assertEquals(head, attached.path("head").asLong(), "the receipt is the head");
        long visibleHead = attached.path("visibleHead").asLong();
        assertTrue(visibleHead < head, "the receipt at the head is sent to no device: " + attached);
        assertTrue(visibleHead >= connected, "the events before the receipt are visible: " + attached);
        long live = SocketContract.json(call("POST", "/v1/sessions/" + id + "/messages", ada, "{\"text\":\"after\"}").body())
            .path("offset").asLong();

        List<Long> backlog = new ArrayList<>();
        JsonNode event = laptop.next(WsClient::isEvent);
        while (event.path("offset").asLong() <= head) {
          backlog.add(event.path("offset").asLong());
          event = laptop.next(WsClient::isEvent);
        }
        assertEquals(visibleHead, backlog.get(backlog.size() - 1), "the backlog ends at visibleHead: " + backlog);
        assertEquals(1L, backlog.get(0), "the backlog starts after the socket's offset: " + backlog);
        for (int i = 1; i < backlog.size(); i++) assertTrue(backlog.get(i) > backlog.get(i - 1), "in order: " + backlog);
        assertTrue(event.path("offset").asLong() > head, "the next event is live: " + event);
        while (event.path("offset").asLong() < live) event = laptop.next(WsClient::isEvent);
        assertEquals(live, event.path("offset").asLong(), "and the live message arrives: " + event);
      }
    }
  }

  @Test
  void receiptsSayWhoReceivedWhatAndWhenAndSurviveARestart() throws Exception {
    String id = newSession();
    long offset;
    try (WsClient phone = WsClient.connect(server.ws(id, 0) + "&device=phone", ada)) {
      phone.nextOfType("attached");
      offset = phone.nextOfType("participant.connected").path("offset").asLong();
      phone.send("{\"type\":\"heartbeat\",\"offset\":" + offset + "}");
      awaitReceipt(id, "ada", offset);
      // a device that keeps confirming what it has does not cause receipts of receipts: the head rests
      long head = get("/v1/sessions/" + id, sam).path("head").asLong();
      for (int i = 0; i < 3; i++) {
        TimeUnit.MILLISECONDS.sleep(300); // longer than the receipt interval (200 ms) each time
        phone.send("{\"type\":\"heartbeat\",\"offset\":" + offset + "}");
      }
      TimeUnit.MILLISECONDS.sleep(300);
      assertEquals(head, get("/v1/sessions/" + id, sam).path("head").asLong());
      for (JsonNode f : phone.frames) assertFalse("receipt".equals(f.path("type").asText()), "receipts go to no device");
    }
    JsonNode receipt = get("/v1/sessions/" + id + "/receipts?participant=ada&offset=" + offset, sam);
    assertEquals("phone", receipt.path("device").asText());
    assertTrue(receipt.hasNonNull("at"));
    assertFalse(get("/v1/sessions/" + id + "/receipts?participant=ada&offset=" + (offset + 5), sam).path("reached").asBoolean());
    // a restarted session knows it: receipts are events
    org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding.get(server.kit.system())
        .entityRefFor(dev.durablesessions.session.SessionEntity.TYPE_KEY, id).tell(dev.durablesessions.session.SessionCommand.Passivate.INSTANCE);
    awaitReceipt(id, "ada", offset);
    assertEquals(1, get("/v1/sessions/" + id + "/receipts?participant=ada", sam).path("receipts").size());
  }

  @Test
  void auditExportsAttributedEventsFilteredByParticipantTypeAndTime() throws Exception {
    String id = newSession();
    call("POST", "/v1/sessions/" + id + "/messages", ada, "{\"text\":\"one\"}");
    java.time.Instant middle = java.time.Instant.now();
    TimeUnit.MILLISECONDS.sleep(5); // distinct timestamps on either side of the cut
    call("POST", "/v1/sessions/" + id + "/messages", bot, "{\"text\":\"two\"}");
    HttpResponse<String> all = call("GET", "/v1/sessions/" + id + "/audit", sam, null);
    assertEquals(200, all.statusCode());
    assertTrue(all.headers().firstValue("Content-Type").orElse("").startsWith("application/x-ndjson"));
    String[] lines = all.body().strip().split("\n");
    long previous = 0;
    for (String line : lines) {
      JsonNode e = SocketContract.json(line);
      assertTrue(e.path("offset").asLong() > previous);
      previous = e.path("offset").asLong();
      assertTrue(e.path("by").hasNonNull("subject") && e.hasNonNull("at"), line);
    }
    String byBot = call("GET", "/v1/sessions/" + id + "/audit?participant=bot&type=message", sam, null).body().strip();
    assertEquals(1, byBot.split("\n").length, byBot);
    assertTrue(byBot.contains("\"two\""));
    String afterCut = call("GET", "/v1/sessions/" + id + "/audit?type=message&from=" + middle, sam, null).body().strip();
    assertEquals(1, afterCut.split("\n").length, afterCut);
    assertEquals(403, call("GET", "/v1/sessions/" + id + "/audit", ada, null).statusCode());
    assertEquals(400, call("GET", "/v1/sessions/" + id + "/audit?from=yesterday", sam, null).statusCode());
  }

  @Test
  void metricsAreExposedAndMove() {
    String before = call("GET", "/metrics", ada, null).body();
    double persisted = metric(before, "ds_events_persisted_total");
    String id = newSession();
    try (WsClient agent = WsClient.connect(server.ws(id, 0), bot)) {
      agent.nextOfType("attached");
      agent.send("{\"type\":\"stream.start\",\"messageId\":\"m\"}");
      for (int i = 0; i < 20; i++) agent.send("{\"type\":\"stream.delta\",\"messageId\":\"m\",\"text\":\"t" + i + "\"}");
      agent.send("{\"type\":\"stream.end\",\"messageId\":\"m\",\"reason\":\"complete\"}");
      agent.nextOfType("stream.ended");
      String after = call("GET", "/metrics", ada, null).body();
      assertTrue(metric(after, "ds_events_persisted_total") > persisted);
      assertTrue(metric(after, "ds_deltas_appended_total") >= metric(after, "ds_delta_events_total"));
      assertTrue(metric(after, "ds_sessions_active") >= 1);
      assertTrue(after.contains("ds_connections{role=\"agent\"}"), after);
      assertTrue(after.contains("ds_persist_latency_seconds_count"), after);
      assertTrue(after.contains("ds_delivery_lag_seconds_count"), after);
      assertTrue(after.contains("ds_sessions_streaming_to_nobody"), after);
    }
  }

  @Test
  void agentsAreToldWhenTheAudienceComesAndGoes() {
    String id = newSession();
    try (WsClient agent = WsClient.connect(server.ws(id, 0), bot)) {
      agent.nextOfType("attached");
      WsClient phone = WsClient.connect(server.ws(id, 0) + "&device=phone", ada);
      phone.nextOfType("attached");
      JsonNode present = agent.nextOfType("audience.changed");
      assertTrue(present.path("present").asBoolean());
      phone.socket.abort();
      JsonNode gone = agent.nextOfType("audience.changed");
      assertFalse(gone.path("present").asBoolean());
      assertEquals(0, gone.path("devices").asInt());
    }
  }

  static double metric(String text, String name) {
    double sum = 0;
    for (String line : text.split("\n")) {
      if (line.startsWith(name + " ") || line.startsWith(name + "{")) sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
    }
    return sum;
  }
}
