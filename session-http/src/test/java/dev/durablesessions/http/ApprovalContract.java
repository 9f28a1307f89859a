package dev.durablesessions.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.durablesessions.http.testing.TestServer;
import dev.durablesessions.http.testing.WsClient;
import dev.durablesessions.persistence.Database;
import dev.durablesessions.session.Role;
import java.net.http.HttpResponse;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Tool approvals end to end, over real sockets and HTTP: an agent asks, the addressee decides
 * over its socket or over REST, and the agent hears the decision live; only the addressee
 * decides, only once, and not after the call ended; refusals write nothing.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class ApprovalContract {
  abstract Database database();

  TestServer server;
  String ada;
  String ben;
  String bot;
  String otherBot;
  String eve;

  @BeforeAll
  void start() {
    server = new TestServer(database(), "");
    ada = server.token("ada", Role.USER);
    ben = server.token("ben", Role.USER);
    bot = server.token("bot", Role.AGENT);
    otherBot = server.token("bot-2", Role.AGENT);
    eve = server.token("eve", Role.OBSERVER);
  }

  @AfterAll
  void stop() {
    server.close();
  }

  String newSession() {
    String id = "ap-" + UUID.randomUUID();
    assertEquals(201, server.call("POST", "/v1/sessions", ada, "{\"id\":\"" + id + "\"}").statusCode());
    return id;
  }

  JsonNode summary(String id) {
    HttpResponse<String> r = server.call("GET", "/v1/sessions/" + id, ada, null);
    assertEquals(200, r.statusCode(), r.body());
    return SocketContract.json(r.body());
  }

  long head(String id) {
    return summary(id).path("head").asLong();
  }

  /** Sends a frame and returns its answer (the ack or error carrying its ref). */
  static JsonNode send(WsClient ws, String frame) {
    String ref = SocketContract.json(frame).path("ref").asText();
    ws.send(frame);
    return ws.next(f -> ref.equals(f.path("ref").asText()) && f.path("type").asText().matches("ack|error"));
  }

  static JsonNode acked(WsClient ws, String frame) {
    JsonNode answer = send(ws, frame);
    assertEquals("ack", answer.path("type").asText(), frame + " -> " + answer);
    return answer;
  }

  static void refused(WsClient ws, String code, String frame) {
    JsonNode answer = send(ws, frame);
    assertEquals("error", answer.path("type").asText(), frame + " -> " + answer);
    assertEquals(code, answer.path("code").asText(), frame + " -> " + answer);
  }

  static String call(String ref, String toolCallId) {
    return "{\"type\":\"tool.call\",\"ref\":\"" + ref + "\",\"toolCallId\":\"" + toolCallId + "\",\"name\":\"delete_file\"}";
  }

  static String ask(String ref, String toolCallId, String approvalId, String to) {
    return "{\"type\":\"tool.approval.request\",\"ref\":\"" + ref + "\",\"toolCallId\":\"" + toolCallId + "\",\"approvalId\":\""
        + approvalId + "\",\"to\":" + to + ",\"input\":{\"path\":\"a.ts\"},\"text\":\"may I delete a.ts?\"}";
  }

  static String answer(String ref, String approvalId, boolean approved, String reason) {
    return "{\"type\":\"tool.approval.answer\",\"ref\":\"" + ref + "\",\"approvalId\":\"" + approvalId + "\",\"approved\":" + approved
        + (reason == null ? "" : ",\"reason\":\"" + reason + "\"") + "}";
  }

  static JsonNode event(WsClient ws, String type, long offset) {
    return ws.next(f -> type.equals(f.path("type").asText()) && f.path("offset").asLong() == offset);
  }

  /** Both sockets attached, and the writes their connections cause are done (an append after them was answered). */
  WsClient[] agentAndUser(String id) {
    WsClient agent = WsClient.connect(server.ws(id, 0), bot);
    WsClient user = WsClient.connect(server.ws(id, 0), ada);
    agent.nextOfType("attached");
    user.nextOfType("attached");
    return new WsClient[] {agent, user};
  }

  @Test
  void theAgentAsksTheUserApprovesOverTheSocketAndTheAgentHearsItLive() {
    String id = newSession();
    WsClient[] sockets = agentAndUser(id);
    try (WsClient agent = sockets[0]; WsClient user = sockets[1]) {
      acked(agent, call("c1", "call-1"));
      JsonNode asked = acked(agent, ask("p1", "call-1", "ap-1", "{\"role\":\"user\"}")
          .replace("\"ref\"", "\"producer\":{\"id\":\"tools\",\"epoch\":0,\"seq\":0},\"ref\""));
      long requestedAt = asked.path("offset").asLong();

      JsonNode requested = event(user, "tool.approval.requested", requestedAt);
      assertEquals("bot", requested.path("by").path("id").asText());
      assertEquals("ap-1", requested.path("approvalId").asText());
      assertEquals("call-1", requested.path("toolCallId").asText());
      assertEquals("delete_file", requested.path("name").asText());
      assertEquals("user", requested.path("to").path("role").asText());
      assertEquals("a.ts", requested.path("input").path("path").asText());
      assertEquals("may I delete a.ts?", requested.path("text").asText());
      assertFalse(requested.has("producer"), requested.toString());

      JsonNode pending = summary(id).path("pendingApprovals");
      assertEquals(1, pending.size(), pending.toString());
      assertEquals(SocketContract.json("{\"approvalId\":\"ap-1\",\"toolCallId\":\"call-1\",\"name\":\"delete_file\",\"to\":{\"role\":\"user\"},"
          + "\"input\":{\"path\":\"a.ts\"},\"text\":\"may I delete a.ts?\",\"offset\":" + requestedAt + "}"), pending.get(0));

      long decidedAt = acked(user, answer("a1", "ap-1", true, null)).path("offset").asLong();
      JsonNode answered = event(agent, "tool.approval.answered", decidedAt);
      assertEquals("ada", answered.path("by").path("id").asText());
      assertEquals("ap-1", answered.path("approvalId").asText());
      assertEquals("call-1", answered.path("toolCallId").asText());
      assertTrue(answered.path("approved").asBoolean(), answered.toString());
      assertFalse(answered.has("reason"), answered.toString());
      assertEquals(0, summary(id).path("pendingApprovals").size());
      assertEquals(decidedAt, head(id));
    }
  }

  @Test
  void aDenialReachesTheAgentWithItsReason() {
    String id = newSession();
    WsClient[] sockets = agentAndUser(id);
    try (WsClient agent = sockets[0]; WsClient user = sockets[1]) {
      acked(agent, call("c1", "call-1"));
      acked(agent, ask("p1", "call-1", "ap-1", "{\"participant\":\"ada\"}"));
      long decidedAt = acked(user, answer("a1", "ap-1", false, "not that file")).path("offset").asLong();
      JsonNode answered = event(agent, "tool.approval.answered", decidedAt);
      assertFalse(answered.path("approved").asBoolean(true), answered.toString());
      assertTrue(answered.path("approved").isBoolean(), answered.toString());
      assertEquals("not that file", answered.path("reason").asText());
      // a denial does not end the call: the agent reports how it ended, and may ask again
      acked(agent, ask("p2", "call-1", "ap-2", "{\"participant\":\"ada\"}"));
    }
  }

  @Test
  void onlyTheAddresseeDecidesOnlyOnceAndNotAfterTheCallEndedAndRefusalsWriteNothing() {
    String id = newSession();
    WsClient[] sockets = agentAndUser(id);
    try (WsClient agent = sockets[0]; WsClient user = sockets[1];
        WsClient benSocket = WsClient.connect(server.ws(id, 0), ben);
        WsClient otherAgent = WsClient.connect(server.ws(id, 0), otherBot);
        WsClient watcher = WsClient.connect(server.ws(id, 0), eve)) {
      benSocket.nextOfType("attached");
      otherAgent.nextOfType("attached");
      watcher.nextOfType("attached");
      acked(agent, call("c1", "call-1"));
      acked(agent, call("c2", "call-2"));
      acked(agent, ask("p1", "call-1", "for-ada", "{\"participant\":\"ada\"}"));
      acked(agent, ask("p2", "call-2", "for-users", "{\"role\":\"user\"}"));
      // after these acks, every connection's join and presence are written: nothing else writes
      acked(benSocket, "{\"type\":\"signal\",\"ref\":\"settle\",\"kind\":\"typing\",\"to\":{\"role\":\"agent\"}}");
      acked(otherAgent, "{\"type\":\"signal\",\"ref\":\"settle\",\"kind\":\"typing\",\"to\":{\"role\":\"user\"}}");
      long head = head(id);

      refused(benSocket, "not_addressee", answer("x1", "for-ada", true, null));
      refused(agent, "not_addressee", answer("x2", "for-ada", true, null)); // the asker does not decide its own
      refused(watcher, "forbidden", answer("x3", "for-users", true, null));
      refused(user, "approval_not_found", answer("x4", "never-asked", true, null));
      refused(user, "invalid_frame", "{\"type\":\"tool.approval.answer\",\"ref\":\"x5\",\"approvalId\":\"for-ada\"}");
      refused(user, "invalid_frame", "{\"type\":\"tool.approval.answer\",\"ref\":\"x6\",\"approvalId\":\"for-ada\",\"approved\":\"true\"}");
      refused(otherAgent, "forbidden", ask("x7", "call-1", "stolen", "{\"role\":\"user\"}"));
      refused(user, "forbidden", ask("x8", "call-1", "by-a-user", "{\"role\":\"user\"}"));
      refused(agent, "approval_exists", ask("x9", "call-2", "for-ada", "{\"role\":\"user\"}"));
      refused(agent, "tool_call_not_found", ask("x10", "call-9", "ap-9", "{\"role\":\"user\"}"));
      assertEquals(head, head(id), "refusals write nothing");

      // the first answer wins
      acked(user, answer("a1", "for-ada", true, null));
      refused(user, "approval_not_found", answer("a2", "for-ada", false, null));
      // a tool.result ends the call, and its approval with it
      acked(agent, "{\"type\":\"tool.result\",\"ref\":\"r2\",\"toolCallId\":\"call-2\",\"outcome\":\"error\",\"summary\":\"gave up\"}");
      head = head(id);
      refused(benSocket, "approval_not_found", answer("a3", "for-users", true, null));
      refused(agent, "tool_call_finished", ask("x11", "call-2", "too-late", "{\"role\":\"user\"}"));
      assertEquals(head, head(id), "refusals write nothing");
      assertEquals(0, summary(id).path("pendingApprovals").size());
    }
  }

  @Test
  void aClientWithoutASocketDecidesOverRestAndTheAgentHearsItLive() {
    String id = newSession();
    WsClient[] sockets = agentAndUser(id);
    try (WsClient agent = sockets[0]; WsClient user = sockets[1]) {
      acked(agent, call("c1", "call-1"));
      acked(agent, ask("p1", "call-1", "ap-1", "{\"role\":\"user\"}"));
      acked(agent, call("c2", "call-2"));
      acked(agent, ask("p2", "call-2", "ap-2", "{\"participant\":\"ada\"}"));
      long head = head(id);
      String path = "/v1/sessions/" + id + "/approvals/";

      assertRefused(400, "invalid_request", server.call("POST", path + "ap-1", ada, "{\"approved\":\"yes\"}"));
      assertRefused(400, "invalid_request", server.call("POST", path + "ap-1", ada, "{\"reason\":\"no decision\"}"));
      assertRefused(400, "invalid_request", server.call("POST", path + "ap-1", ada, "{\"approved\":true,\"reason\":7}"));
      assertRefused(400, "bad_json", server.call("POST", path + "ap-1", ada, "{approved"));
      assertRefused(403, "not_addressee", server.call("POST", path + "ap-2", ben, "{\"approved\":true}"));
      assertRefused(403, "forbidden", server.call("POST", path + "ap-1", eve, "{\"approved\":true}"));
      assertRefused(404, "approval_not_found", server.call("POST", path + "never-asked", ada, "{\"approved\":true}"));
      assertEquals(head, head(id), "refusals write nothing");

      HttpResponse<String> approved = server.call("POST", path + "ap-1", ben,
          "{\"approved\":true,\"reason\":\"go ahead\",\"producer\":{\"id\":\"web\",\"epoch\":0,\"seq\":0}}");
      assertEquals(201, approved.statusCode(), approved.body());
      JsonNode body = SocketContract.json(approved.body());
      long decidedAt = body.path("offset").asLong();
      assertFalse(body.path("duplicate").asBoolean(true), approved.body());
      JsonNode answered = event(agent, "tool.approval.answered", decidedAt);
      assertEquals("ben", answered.path("by").path("id").asText());
      assertTrue(answered.path("approved").asBoolean());
      assertEquals("go ahead", answered.path("reason").asText());

      // a retry with the same stamp is the same answer; without one, the approval is decided already
      HttpResponse<String> retry = server.call("POST", path + "ap-1", ben,
          "{\"approved\":true,\"reason\":\"go ahead\",\"producer\":{\"id\":\"web\",\"epoch\":0,\"seq\":0}}");
      assertEquals(200, retry.statusCode(), retry.body());
      assertEquals(decidedAt, SocketContract.json(retry.body()).path("offset").asLong());
      assertTrue(SocketContract.json(retry.body()).path("duplicate").asBoolean());
      assertRefused(404, "approval_not_found", server.call("POST", path + "ap-1", ada, "{\"approved\":false}"));

      HttpResponse<String> closed = server.call("POST", "/v1/sessions/" + id + "/close", server.token("sue", Role.SUPPORT), "{}");
      assertEquals(200, closed.statusCode(), closed.body());
      assertRefused(409, "session_closed", server.call("POST", path + "ap-2", ada, "{\"approved\":true}"));
    }
  }

  @Test
  void theResumePackageListsPendingApprovalsAndTheAnswersToTheCallersOwn() {
    String id = newSession();
    WsClient[] sockets = agentAndUser(id);
    long decidedAt;
    try (WsClient agent = sockets[0]; WsClient user = sockets[1]) {
      acked(agent, call("c1", "call-1"));
      acked(agent, ask("p1", "call-1", "ap-1", "{\"role\":\"user\"}"));
      acked(agent, call("c2", "call-2"));
      acked(agent, ask("p2", "call-2", "ap-2", "{\"role\":\"user\"}"));
      decidedAt = acked(user, answer("a1", "ap-1", false, "no")).path("offset").asLong();
    }
    HttpResponse<String> r = server.call("GET", "/v1/sessions/" + id + "/resume?after=0", bot, null);
    assertEquals(200, r.statusCode(), r.body());
    JsonNode resume = SocketContract.json(r.body());
    JsonNode pending = resume.path("pendingApprovals");
    assertEquals(1, pending.size(), pending.toString());
    assertEquals("ap-2", pending.get(0).path("approvalId").asText());
    assertEquals("delete_file", pending.get(0).path("name").asText());
    boolean answerAddressed = false;
    for (JsonNode e : resume.path("addressed")) {
      if (e.path("type").asText().equals("tool.approval.answered")) {
        assertEquals(decidedAt, e.path("offset").asLong());
        answerAddressed = true;
      }
      assertFalse(e.path("type").asText().equals("tool.approval.requested"), "the agent's own requests are not addressed to it: " + e);
    }
    assertTrue(answerAddressed, "the answer to the agent's approval is addressed to it: " + resume.path("addressed"));

    JsonNode forUser = SocketContract.json(server.call("GET", "/v1/sessions/" + id + "/resume?after=0", ada, null).body());
    long requests = 0;
    for (JsonNode e : forUser.path("addressed")) if (e.path("type").asText().equals("tool.approval.requested")) requests++;
    assertEquals(2, requests, "both requests were addressed to users: " + forUser.path("addressed"));
  }

  static void assertRefused(int status, String code, HttpResponse<String> r) {
    assertEquals(status, r.statusCode(), r.body());
    assertEquals(code, SocketContract.json(r.body()).path("error").path("code").asText(), r.body());
  }
}
