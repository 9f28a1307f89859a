package dev.durablesessions.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.durablesessions.http.testing.TestServer;
import dev.durablesessions.http.testing.WsClient;
import dev.durablesessions.persistence.Database;
import dev.durablesessions.session.Role;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Session state over MCP (docs/MCP.md) on a real node: every tool answers what its REST endpoint
 * answers, a commit over MCP is a commit on every socket, and every refusal is the documented
 * MCP error and writes nothing.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class McpContract {
  abstract Database database();

  TestServer server;
  String ada;
  String bot;
  String sam;
  String eve;
  final AtomicInteger ids = new AtomicInteger();

  @BeforeAll
  void start() {
    // A long grace: no participant.lost is written while a test compares answers at one head.
    server = new TestServer(database(), """
        durable-sessions.http.ask-timeout = 2s
        durable-sessions.presence.grace = 10m
        """);
    ada = server.token("ada", Role.USER);
    bot = server.token("bot", Role.AGENT);
    sam = server.token("sam", Role.SUPPORT);
    eve = server.token("eve", Role.OBSERVER);
  }

  @AfterAll
  void stop() {
    server.close();
  }

  // ---------------------------------------------------------------- the wire

  /** One JSON-RPC request to /mcp, as the Streamable HTTP client sends it; the whole HTTP response. */
  HttpResponse<String> post(String token, String body) {
    var builder = java.net.http.HttpRequest.newBuilder(java.net.URI.create(server.http() + "/mcp"))
        .header("Content-Type", "application/json").header("Accept", "application/json, text/event-stream")
        .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body));
    if (token != null) builder.header("Authorization", "Bearer " + token);
    try {
      return java.net.http.HttpClient.newHttpClient().send(builder.build(), HttpResponse.BodyHandlers.ofString());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  JsonNode rpc(String token, String method, Object params) {
    ObjectNode request = Json.MAPPER.createObjectNode().put("jsonrpc", "2.0").put("id", ids.incrementAndGet()).put("method", method);
    request.set("params", Json.MAPPER.valueToTree(params));
    HttpResponse<String> r = post(token, request.toString());
    assertEquals(200, r.statusCode(), r.body());
    assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"), r.headers().toString());
    return SocketContract.json(r.body());
  }

  /** A tool's result (the JSON-RPC result), whether it succeeded or was refused. */
  JsonNode tool(String token, String name, Object arguments) {
    JsonNode response = rpc(token, "tools/call", java.util.Map.of("name", name, "arguments", arguments));
    assertTrue(response.has("result"), response.toString());
    JsonNode result = response.get("result");
    // the text content is the structured content, as JSON text
    assertEquals(result.path("structuredContent"), SocketContract.json(result.path("content").get(0).path("text").asText()));
    return result;
  }

  JsonNode ok(String token, String name, Object arguments) {
    JsonNode result = tool(token, name, arguments);
    assertFalse(result.path("isError").asBoolean(), result.toString());
    return result.path("structuredContent");
  }

  /** A refused call: isError, the API's error code, and nothing written. */
  void refused(String token, String name, Object arguments, String code, String session) {
    long head = head(session);
    JsonNode result = tool(token, name, arguments);
    assertTrue(result.path("isError").asBoolean(), result.toString());
    assertEquals(code, result.path("structuredContent").path("error").path("code").asText(), result.toString());
    assertFalse(result.path("structuredContent").path("error").path("message").asText().isBlank());
    assertEquals(head, head(session), "a refused call wrote nothing");
  }

  JsonNode rest(String path, String token) {
    HttpResponse<String> r = server.call("GET", path, token, null);
    assertEquals(200, r.statusCode(), r.body());
    return SocketContract.json(r.body());
  }

  long head(String session) {
    return rest("/v1/sessions/" + session, sam).path("head").asLong();
  }

  /** A session with two turns of agent work: a tool call, commits in both turns, and replies. */
  String sessionWithWork() {
    String id = "mcp-" + UUID.randomUUID();
    assertEquals(201, server.call("POST", "/v1/sessions", ada, "{\"id\":\"" + id + "\"}").statusCode());
    try (WsClient user = WsClient.connect(server.ws(id, 0), ada); WsClient agent = WsClient.connect(server.ws(id, 0), bot)) {
      user.nextOfType("attached");
      agent.nextOfType("attached");
      ack(user, "{\"type\":\"message\",\"ref\":\"u1\",\"text\":\"fix the login bug\"}");
      ack(agent, "{\"type\":\"tool.call\",\"ref\":\"c1\",\"toolCallId\":\"call-1\",\"name\":\"edit_file\"}");
      ack(agent, StateContract.commit("k1", "edit_file",
          "[{\"op\":\"add\",\"path\":\"/files_modified/-\",\"value\":\"src/login.ts\"},{\"op\":\"add\",\"path\":\"/tools_used/-\",\"value\":\"edit_file\"}]"));
      ack(agent, "{\"type\":\"message\",\"ref\":\"a1\",\"text\":\"fixed\"}");
      ack(user, "{\"type\":\"message\",\"ref\":\"u2\",\"text\":\"and the session?\"}");
      ack(agent, StateContract.commit("k2", "think",
          "[{\"op\":\"add\",\"path\":\"/decisions_made/-\",\"value\":{\"what\":\"patch the token check\",\"why\":\"smallest change\"}}]"));
      ack(agent, StateContract.commit("k3", "edit_file", "[{\"op\":\"add\",\"path\":\"/files_modified/-\",\"value\":\"src/session.ts\"}]"));
      ack(agent, "{\"type\":\"message\",\"ref\":\"a2\",\"text\":\"done\"}");
    }
    // Closing the sockets writes their last receipts and disconnections (one write per socket):
    // wait for both, so that the session's head stays where it is while MCP and REST are compared.
    long deadline = System.nanoTime() + WsClient.WAIT.toNanos();
    while (disconnections(id) < 2) {
      assertTrue(System.nanoTime() < deadline, "both sockets' disconnections were written");
      java.util.concurrent.locks.LockSupport.parkNanos(20_000_000);
    }
    return id;
  }

  int disconnections(String id) {
    int n = 0;
    for (JsonNode e : rest("/v1/sessions/" + id + "/events?limit=1000", sam).path("events")) {
      if (e.path("type").asText().equals("participant.disconnected")) n++;
    }
    return n;
  }

  static void ack(WsClient ws, String frame) {
    String ref = SocketContract.json(frame).path("ref").asText();
    JsonNode answer = StateContract.request(ws, ref, frame);
    assertEquals("ack", answer.path("type").asText(), answer.toString());
  }

  // ---------------------------------------------------------------- tests

  @Test
  void theServerSaysItIsStatelessStreamableHttpWithToolsAndResourceTemplates() {
    JsonNode init = rpc(ada, "initialize", java.util.Map.of("protocolVersion", "2025-06-18", "capabilities", java.util.Map.of(),
        "clientInfo", java.util.Map.of("name", "test", "version", "1")));
    assertEquals("durable-sessions", init.path("result").path("serverInfo").path("name").asText(), init.toString());
    assertEquals("2025-06-18", init.path("result").path("protocolVersion").asText());
    assertTrue(init.path("result").path("capabilities").has("tools"));
    assertFalse(init.path("result").path("capabilities").path("resources").path("subscribe").asBoolean(), "no subscriptions: stateless");
    // a notification is accepted with 202 and no body
    assertEquals(202, post(ada, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}").statusCode());

    Set<String> names = new TreeSet<>();
    for (JsonNode tool : rpc(ada, "tools/list", java.util.Map.of()).path("result").path("tools")) {
      names.add(tool.path("name").asText());
      assertEquals("object", tool.path("inputSchema").path("type").asText(), tool.toString());
      assertFalse(tool.path("description").asText().isBlank());
    }
    assertEquals(new TreeSet<>(List.of("commit_state", "diff_state", "get_resume_package", "get_state", "list_commits", "list_sessions",
        "read_handoff_note", "read_history", "write_handoff_note")), names);
    Set<String> templates = new TreeSet<>();
    rpc(ada, "resources/templates/list", java.util.Map.of()).path("result").path("resourceTemplates")
        .forEach(t -> templates.add(t.path("uriTemplate").asText()));
    assertEquals(new TreeSet<>(List.of("session://{sessionId}/state", "session://{sessionId}/transcript")), templates);
  }

  @Test
  void everyReadToolAnswersWhatItsRestEndpointAnswers() {
    String id = sessionWithWork();
    String s = "/v1/sessions/" + id;
    assertEquals(rest(s + "/state", ada), ok(ada, "get_state", java.util.Map.of("sessionId", id)));
    assertEquals(rest(s + "/state?at=5", ada), ok(ada, "get_state", java.util.Map.of("sessionId", id, "at", 5)));
    assertEquals(rest(s + "/state?turn=1", ada), ok(ada, "get_state", java.util.Map.of("sessionId", id, "turn", 1)));
    JsonNode diff = ok(ada, "diff_state", java.util.Map.of("sessionId", id, "from", 1, "to", 2));
    assertEquals(rest(s + "/diff?from=1&to=2", ada), diff);
    assertEquals(2, diff.path("commits").size(), diff.toString());
    assertEquals(rest(s + "/diff?turn=2&attempt=1&vs=1", ada), ok(ada, "diff_state", java.util.Map.of("sessionId", id, "turn", 2, "attempt", 1, "vs", 1)));
    JsonNode files = ok(ada, "list_commits", java.util.Map.of("sessionId", id, "path", "/files_modified", "lastTurns", 5));
    assertEquals(rest(s + "/commits?path=/files_modified&lastTurns=5", ada), files);
    assertEquals(2, files.path("commits").size(), files.toString());
    assertEquals(rest(s + "/commits?tool=think", ada), ok(ada, "list_commits", java.util.Map.of("sessionId", id, "tool", "think")));
    assertEquals(rest(s + "/resume?after=3", bot), ok(bot, "get_resume_package", java.util.Map.of("sessionId", id, "after", 3)));
    assertEquals(rest(s + "/events?after=2&limit=4", eve), ok(eve, "read_history", java.util.Map.of("sessionId", id, "after", 2, "limit", 4)));
    assertEquals(rest("/v1/sessions?limit=1000", sam), ok(sam, "list_sessions", java.util.Map.of("limit", 1000)));
    // the resources are the same bodies
    JsonNode state = rpc(ada, "resources/read", java.util.Map.of("uri", "session://" + id + "/state")).path("result").path("contents").get(0);
    assertEquals("application/json", state.path("mimeType").asText());
    assertEquals(rest(s + "/state", ada), SocketContract.json(state.path("text").asText()));
    JsonNode transcript = rpc(ada, "resources/read", java.util.Map.of("uri", "session://" + id + "/transcript")).path("result").path("contents").get(0);
    assertEquals(rest(s + "/events?after=0&limit=1000", ada), SocketContract.json(transcript.path("text").asText()));
  }

  @Test
  void aCommitOverMcpIsCommittedAndReachesEverySocket() {
    String id = sessionWithWork();
    try (WsClient device = WsClient.connect(server.ws(id, head(id)), ada)) {
      device.nextOfType("attached");
      JsonNode committed = ok(bot, "commit_state", java.util.Map.of("sessionId", id, "tool", "run_tests", "outputSummary", "12 passed",
          "provenance", "verified", "patch", List.of(java.util.Map.of("op", "add", "path", "/pending_actions/-",
              "value", java.util.Map.of("id", "deploy", "what", "deploy the fix", "done", false)))));
      long offset = committed.path("offset").asLong();
      JsonNode event = device.nextOfType("state.committed");
      assertEquals(offset, event.path("offset").asLong(), event.toString());
      assertEquals("bot", event.path("by").path("id").asText());
      assertEquals("run_tests", event.path("tool").asText());
      assertEquals("verified", event.path("provenance").asText());
      assertEquals("deploy", rest("/v1/sessions/" + id + "/state", ada).path("document").path("pending_actions").get(0).path("id").asText());
    }
  }

  @Test
  void handoffNotesAreWrittenWithAControlChangeAndReadBack() {
    String id = sessionWithWork();
    JsonNode none = ok(ada, "read_handoff_note", java.util.Map.of("sessionId", id));
    assertFalse(none.has("note"), none.toString());
    var note = java.util.Map.of("inProgress", List.of("refund for order 42"),
        "decided", List.of(java.util.Map.of("what", "refund approved", "why", "damaged in transit")), "waitingOn", List.of("warehouse"));
    JsonNode transfer = ok(bot, "write_handoff_note", java.util.Map.of("sessionId", id, "via", "transfer", "mode", "cold",
        "to", java.util.Map.of("queue", "billing"), "note", note));
    assertTrue(transfer.path("offset").asLong() > 0, transfer.toString());
    JsonNode read = ok(ada, "read_handoff_note", java.util.Map.of("sessionId", id));
    assertEquals("refund for order 42", read.path("note").path("inProgress").get(0).asText(), read.toString());
    assertEquals("queued", read.path("control").path("phase").asText(), read.toString());
    JsonNode resume = rest("/v1/sessions/" + id + "/resume", bot);
    assertEquals(resume.path("note"), read.path("note"));
    assertEquals("queued", resume.path("control").path("phase").asText(), "the resume package's control carries its phase: " + resume);
    // a support claims and hands back with a new note, which replaces it
    assertEquals(200, server.call("POST", "/v1/sessions/" + id + "/claim", sam, "").statusCode());
    ok(sam, "write_handoff_note", java.util.Map.of("sessionId", id, "via", "handback", "note", java.util.Map.of("next", List.of("ship the replacement"))));
    assertEquals("ship the replacement", ok(bot, "read_handoff_note", java.util.Map.of("sessionId", id)).path("note").path("next").get(0).asText());
  }

  @Test
  void refusalsAreToolErrorsWithTheApiCodeAndChangeNothing() {
    String id = sessionWithWork();
    String outsider = server.tokens.issue("mallory", Role.AGENT, List.of("other-*"), Duration.ofHours(1));
    var patch = List.of(java.util.Map.of("op", "add", "path", "/tools_used/-", "value", "x"));
    // a token whose session patterns do not match: refused before the session is asked, for reads and writes
    refused(outsider, "get_state", java.util.Map.of("sessionId", id), "forbidden", id);
    refused(outsider, "commit_state", java.util.Map.of("sessionId", id, "patch", patch), "forbidden", id);
    // observers read, but do not commit (nor does a user); the session refuses
    ok(eve, "get_state", java.util.Map.of("sessionId", id));
    refused(eve, "commit_state", java.util.Map.of("sessionId", id, "patch", patch), "forbidden", id);
    refused(ada, "commit_state", java.util.Map.of("sessionId", id, "patch", patch), "forbidden", id);
    // a patch that does not apply, or breaks the document's rules
    refused(bot, "commit_state", java.util.Map.of("sessionId", id, "patch", List.of(java.util.Map.of("op", "remove", "path", "/nope"))), "patch_rejected", id);
    refused(bot, "commit_state", java.util.Map.of("sessionId", id, "patch", List.of(java.util.Map.of("op", "replace", "path", "/decisions_made", "value", 7))), "patch_rejected", id);
    refused(bot, "commit_state", java.util.Map.of("sessionId", id), "patch_rejected", id);
    refused(bot, "commit_state", java.util.Map.of("sessionId", id, "patch", patch, "toolCallId", "nope"), "tool_call_not_found", id);
    // malformed calls: wrong types, missing or out-of-range arguments
    refused(bot, "commit_state", java.util.Map.of("sessionId", id, "patch", patch, "provenance", "maybe"), "invalid_request", id);
    refused(bot, "commit_state", java.util.Map.of("sessionId", id, "patch", patch, "tool", 7), "invalid_request", id);
    refused(ada, "get_state", java.util.Map.of("sessionId", id, "at", "5"), "invalid_request", id);
    refused(ada, "get_state", java.util.Map.of("sessionId", id, "at", 1.5), "invalid_request", id);
    refused(ada, "get_state", java.util.Map.of("sessionId", id, "at", 1, "turn", 1), "invalid_request", id);
    refused(ada, "get_state", java.util.Map.of("sessionId", id, "at", 10_000), "offset_beyond_head", id);
    refused(ada, "get_state", java.util.Map.of(), "invalid_request", id);
    refused(ada, "get_state", java.util.Map.of("sessionId", "no spaces"), "invalid_request", id);
    refused(ada, "diff_state", java.util.Map.of("sessionId", id, "from", 2, "to", 1), "invalid_request", id);
    refused(ada, "list_commits", java.util.Map.of("sessionId", id, "path", "files"), "invalid_request", id);
    refused(ada, "read_history", java.util.Map.of("sessionId", id, "limit", 0), "invalid_request", id);
    refused(ada, "list_sessions", java.util.Map.of(), "forbidden", id);
    refused(bot, "write_handoff_note", java.util.Map.of("sessionId", id, "via", "handback", "note", java.util.Map.of("decided", "not a list")), "invalid_request", id);
    refused(bot, "write_handoff_note", java.util.Map.of("sessionId", id, "via", "fax", "note", java.util.Map.of()), "invalid_request", id);
    refused(eve, "write_handoff_note", java.util.Map.of("sessionId", id, "via", "handback", "note", java.util.Map.of()), "forbidden", id);
    refused(ada, "get_state", java.util.Map.of("sessionId", "mcp-never-created"), "session_not_found", id);
  }

  @Test
  void protocolErrorsAreJsonRpcErrorsAndHttpRefusalsKeepTheApiBody() {
    String id = sessionWithWork();
    long head = head(id);
    // not JSON, not JSON-RPC: 400 with a JSON-RPC parse error
    HttpResponse<String> garbage = post(bot, "{not json");
    assertEquals(400, garbage.statusCode());
    assertEquals(-32700, SocketContract.json(garbage.body()).path("error").path("code").asInt(), garbage.body());
    assertEquals(400, post(bot, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}]").statusCode());
    // an unknown tool or method: a JSON-RPC error in a 200 answer
    JsonNode unknownTool = rpc(bot, "tools/call", java.util.Map.of("name", "drop_tables", "arguments", java.util.Map.of()));
    assertTrue(unknownTool.has("error"), unknownTool.toString());
    JsonNode unknownMethod = rpc(bot, "sessions/explode", java.util.Map.of());
    assertEquals(-32601, unknownMethod.path("error").path("code").asInt(), unknownMethod.toString());
    // a resource outside the token's patterns, or of no session
    String outsider = server.tokens.issue("mallory", Role.AGENT, List.of("other-*"), Duration.ofHours(1));
    JsonNode forbidden = rpc(outsider, "resources/read", java.util.Map.of("uri", "session://" + id + "/state"));
    assertEquals(-32602, forbidden.path("error").path("code").asInt(), forbidden.toString());
    assertEquals("forbidden", forbidden.path("error").path("data").path("error").path("code").asText(), forbidden.toString());
    JsonNode missing = rpc(sam, "resources/read", java.util.Map.of("uri", "session://mcp-never-created/state"));
    assertEquals(-32002, missing.path("error").path("code").asInt(), missing.toString());
    // no token, a bad token: 401 with the API's error body; GET: 405 (stateless, no server stream)
    HttpResponse<String> anonymous = post(null, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}");
    assertEquals(401, anonymous.statusCode());
    assertEquals("unauthorized", SocketContract.json(anonymous.body()).path("error").path("code").asText());
    assertEquals(401, post("not-a-jwt", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}").statusCode());
    assertEquals(405, server.call("GET", "/mcp", bot, null).statusCode());
    assertEquals(405, server.call("DELETE", "/mcp", bot, null).statusCode());
    assertEquals(head, head(id), "no protocol error wrote anything");
  }
}
