package dev.durablesessions.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.durablesessions.http.testing.TestServer;
import dev.durablesessions.session.Role;
import dev.durablesessions.testing.TestDatabases;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * MCP writes count against the caller's append limit, as REST writes do: past it a commit is a
 * {@code rate_limited} tool error that writes nothing, and reads go on. A refused call (a
 * session outside the token's patterns) takes no permit, as on REST.
 */
class McpRateLimitTest {
  private static final int APPENDS = 3;

  @Test
  void commitsPastTheAppendLimitAreRateLimitedAndWriteNothing() {
    try (TestServer server = new TestServer(TestDatabases.h2(), "durable-sessions.http.limits.appends { count = %d, per = 1h }\n"
        .formatted(APPENDS))) {
      String id = "mcp-rate-" + UUID.randomUUID();
      String ada = server.token("ada", Role.USER);
      String bot = server.token("bot", Role.AGENT);
      String outside = server.tokens.issue("bot", Role.AGENT, List.of("other-*"), java.time.Duration.ofHours(1));
      assertEquals(201, server.call("POST", "/v1/sessions", ada, "{\"id\":\"" + id + "\"}").statusCode());
      Mcp mcp = new Mcp(server);
      var patch = List.of(Map.of("op", "add", "path", "/tools_used/-", "value", "x"));
      assertEquals("forbidden", mcp.call(outside, "commit_state", Map.of("sessionId", id, "patch", patch)).path("structuredContent")
          .path("error").path("code").asText());
      for (int i = 0; i < APPENDS; i++) {
        JsonNode ok = mcp.call(bot, "commit_state", Map.of("sessionId", id, "patch", patch));
        assertFalse(ok.path("isError").asBoolean(), ok.toString());
      }
      long head = SocketContract.json(server.call("GET", "/v1/sessions/" + id, ada, null).body()).path("head").asLong();
      JsonNode limited = mcp.call(bot, "commit_state", Map.of("sessionId", id, "patch", patch));
      assertTrue(limited.path("isError").asBoolean(), limited.toString());
      assertEquals("rate_limited", limited.path("structuredContent").path("error").path("code").asText());
      assertEquals(head, SocketContract.json(server.call("GET", "/v1/sessions/" + id, ada, null).body()).path("head").asLong());
      JsonNode read = mcp.call(bot, "get_state", Map.of("sessionId", id));
      assertEquals(APPENDS, read.path("structuredContent").path("document").path("tools_used").size(), read.toString());
    }
  }

  /** tools/call over raw HTTP: the JSON-RPC result. */
  record Mcp(TestServer server) {
    JsonNode call(String token, String tool, Object arguments) {
      String body = Json.write(Map.of("jsonrpc", "2.0", "id", 1, "method", "tools/call", "params", Map.of("name", tool, "arguments", arguments)));
      var response = server.call("POST", "/mcp", token, body);
      assertEquals(200, response.statusCode(), response.body());
      return SocketContract.json(response.body()).path("result");
    }
  }
}
