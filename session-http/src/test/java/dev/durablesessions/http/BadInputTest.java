package dev.durablesessions.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.durablesessions.http.testing.TestServer;
import dev.durablesessions.http.testing.WsClient;
import dev.durablesessions.session.Role;
import dev.durablesessions.testing.TestDatabases;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Every malformed frame, request, offset or token gets its documented error, changes nothing, and the server keeps serving. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BadInputTest {
  TestServer server;
  String user;
  final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  void start() {
    server = new TestServer(TestDatabases.h2(), "durable-sessions.http.socket.max-frame-size = 64KiB");
    user = server.token("ada", Role.USER);
  }

  @AfterAll
  void stop() {
    server.close();
  }

  HttpResponse<String> call(String method, String path, String token, String body) {
    return server.call(method, path, token, body);
  }

  static void assertError(HttpResponse<String> r, int status, String code) {
    assertEquals(status, r.statusCode(), r.body());
    assertEquals(code, SocketContract.json(r.body()).path("error").path("code").asText(), r.body());
  }

  String newSession() {
    String id = "bad-" + UUID.randomUUID();
    assertEquals(201, call("POST", "/v1/sessions", user, "{\"id\":\"" + id + "\"}").statusCode());
    return id;
  }

  long head(String id) {
    return SocketContract.json(call("GET", "/v1/sessions/" + id, user, null).body()).path("head").asLong();
  }

  @Test
  void badFramesGetTheirErrorsAndTheSocketAndSessionCarryOn() {
    String id = newSession();
    try (WsClient ws = WsClient.connect(server.ws(id, 0), user)) {
      ws.nextOfType("attached");
      // connecting writes events too (presence, then the audience arriving); the bad frames below must add nothing after them
      ws.nextOfType("participant.connected");
      long head = ws.nextOfType("audience.changed").path("offset").asLong();
      assertEquals(head, head(id));
      ws.send("{not json");
      ws.expectError("bad_json");
      ws.send("[1,2]");
      ws.expectError("bad_json");
      ws.send("{\"type\":\"teleport\",\"ref\":\"r1\"}");
      assertEquals("r1", ws.expectError("unknown_frame").path("ref").asText());
      ws.send("{\"ref\":\"r2\"}");
      ws.expectError("unknown_frame");
      ws.send("{\"type\":\"signal\",\"ref\":\"r3\",\"kind\":\"explode\",\"to\":{\"role\":\"agent\"}}");
      assertEquals("r3", ws.expectError("invalid_frame").path("ref").asText());
      ws.send("{\"type\":\"signal\",\"ref\":\"r4\",\"kind\":\"interrupt\"}");
      ws.expectError("invalid_frame");
      ws.send("{\"type\":\"message\",\"ref\":\"r5\"}");
      ws.expectError("invalid_frame");
      ws.send("{\"type\":\"stream.delta\",\"ref\":\"r6\",\"messageId\":\"nope\",\"text\":\"x\"}");
      ws.expectError("stream_not_open");
      ws.send("{\"type\":\"message\",\"ref\":\"r7\",\"text\":\"" + "y".repeat(70 * 1024) + "\"}");
      ws.expectError("frame_too_large");
      ws.socket.sendBinary(ByteBuffer.wrap(new byte[] {1, 2, 3}), true).join();
      ws.expectError("binary_not_supported");
      ws.send("{\"type\":\"message\",\"ref\":\"r8\",\"producer\":{\"id\":\"p\",\"epoch\":0,\"seq\":4},\"text\":\"gap\"}");
      ws.expectError("sequence_gap");
      assertEquals(head, head(id), "no bad frame may change the session");

      // the same socket still works
      ws.send("{\"type\":\"message\",\"ref\":\"ok\",\"text\":\"still here\"}");
      // the event is published when persisted, the ack follows: either may come first on the wire
      JsonNode ack = null;
      JsonNode event = null;
      while (ack == null || event == null) {
        JsonNode f = ws.next();
        if ("ack".equals(f.path("type").asText())) ack = f;
        else if ("message".equals(f.path("type").asText())) event = f;
      }
      assertEquals("ok", ack.path("ref").asText());
      assertEquals(head + 1, ack.path("offset").asLong());
      assertEquals(head + 1, event.path("offset").asLong());
      assertEquals("still here", event.path("text").asText());
    }
  }

  @Test
  void badRequestsGetTheirErrorsAndChangeNothing() {
    String id = newSession();
    long head = head(id);
    assertError(call("GET", "/v1/sessions/" + id, null, null), 401, "unauthorized");
    assertError(call("GET", "/v1/sessions/" + id, "not.a.jwt", null), 401, "unauthorized");
    var forged = new dev.durablesessions.http.auth.Tokens("another-secret-another-secret-another-secret", "durable-sessions")
        .issue("mallory", Role.USER, List.of("*"), Duration.ofHours(1));
    assertError(call("GET", "/v1/sessions/" + id, forged, null), 401, "unauthorized");
    String expired = server.tokens.issue("ada", Role.USER, List.of("*"), Duration.ofSeconds(-60));
    assertError(call("GET", "/v1/sessions/" + id, expired, null), 401, "token_expired");
    String narrow = server.tokens.issue("bob", Role.USER, List.of("only-this-one"), Duration.ofHours(1));
    assertError(call("GET", "/v1/sessions/" + id, narrow, null), 403, "forbidden");
    assertError(call("POST", "/v1/sessions", narrow, "{}"), 403, "forbidden");
    String observer = server.token("eve", Role.OBSERVER);
    assertError(call("POST", "/v1/sessions/" + id + "/messages", observer, "{\"text\":\"hi\"}"), 403, "forbidden");

    assertError(call("GET", "/v1/sessions/no-such-session", user, null), 404, "session_not_found");
    assertError(call("GET", "/v1/sessions/bad%20id!", user, null), 400, "invalid_request");
    assertError(call("POST", "/v1/sessions", user, "{\"id\":\"" + id + "\"}"), 409, "session_exists");
    assertError(call("POST", "/v1/sessions", user, "{nope"), 400, "bad_json");
    assertError(call("POST", "/v1/sessions/" + id + "/messages", user, "{nope"), 400, "bad_json");
    assertError(call("POST", "/v1/sessions/" + id + "/messages", user, "{\"txt\":1}"), 400, "invalid_request");
    assertError(call("GET", "/v1/sessions/" + id + "/events?after=-1", user, null), 400, "invalid_offset");
    assertError(call("GET", "/v1/sessions/" + id + "/events?after=abc", user, null), 400, "invalid_offset");
    assertError(call("GET", "/v1/sessions/" + id + "/events?after=999", user, null), 400, "offset_beyond_head");
    assertError(call("GET", "/v1/sessions/" + id + "/events?limit=0", user, null), 400, "invalid_request");
    assertError(call("PUT", "/v1/sessions/" + id, user, null), 405, "method_not_allowed");
    assertError(call("DELETE", "/v1/sessions/" + id, user, null), 403, "forbidden"); // erasure is for admins
    assertError(call("GET", "/v1/nothing-here", user, null), 404, "not_found");
    assertError(call("GET", "/v1/sessions/" + id + "/ws", user, null), 400, "invalid_request");
    assertEquals(head, head(id), call("GET", "/v1/sessions/" + id + "/events", user, null).body());
    assertEquals(200, call("GET", "/health", null, null).statusCode());
  }

  /**
   * Found by fuzzing: JSON's escape {@code \\ud800} spells half a surrogate pair, which is no
   * Unicode text; the session used to accept it and then fail to store the event (and stop).
   */
  @Test
  void stringsWithUnpairedSurrogatesAreRefusedAsBadJsonAndChangeNothing() {
    String id = newSession();
    String agent = server.token("bot", Role.AGENT);
    try (WsClient ws = WsClient.connect(server.ws(id, 0), agent)) {
      ws.nextOfType("attached");
      // through the session, after the join: once answered, connecting has written all it writes
      ws.send("{\"type\":\"signal.answer\",\"ref\":\"settle\",\"signal\":-1,\"outcome\":\"consumed\"}");
      ws.expectError("signal_not_found");
      long head = head(id);
      ws.send("{\"type\":\"message\",\"ref\":\"m1\",\"text\":\"half \\ud800 a pair\"}");
      assertEquals("not JSON: unpaired surrogate in the string at /text", ws.expectError("bad_json").path("message").asText());
      ws.send("{\"type\":\"stream.start\",\"ref\":\"m2\",\"messageId\":\"\\udc00\"}");
      ws.expectError("bad_json");
      ws.send("{\"type\":\"commit\",\"ref\":\"m3\",\"patch\":[{\"op\":\"add\",\"path\":\"/\\ud83d\",\"value\":1}]}");
      ws.expectError("bad_json");
      assertError(call("POST", "/v1/sessions/" + id + "/messages", user, "{\"text\":\"\\ud800\"}"), 400, "bad_json");
      assertError(call("POST", "/v1/sessions/" + id + "/close", server.token("sue", Role.SUPPORT), "{\"reason\":\"x\\udbff\"}"), 400, "bad_json");
      assertEquals(head, head(id), "no refused input may change the session");

      // a whole pair is text like any other, and the session keeps serving
      ws.send("{\"type\":\"message\",\"ref\":\"ok\",\"text\":\"a whole pair \\ud83d\\ude00\"}");
      assertEquals(head + 1, ws.next(f -> "ack".equals(f.path("type").asText())).path("offset").asLong());
      JsonNode history = SocketContract.json(call("GET", "/v1/sessions/" + id + "/events?after=" + head, user, null).body());
      assertEquals("a whole pair \ud83d\ude00", history.path("events").get(0).path("text").asText());
    }
  }

  /**
   * Found by fuzzing: a patch that names an array element by a member name ({@code /files_modified/x})
   * made the patch library throw an exception the session did not expect, which stopped the session.
   */
  @Test
  void aPatchThatUsesAMemberNameOnAnArrayIsRejectedAndTheSessionKeepsServing() {
    String id = newSession();
    try (WsClient ws = WsClient.connect(server.ws(id, 0), server.token("bot", Role.AGENT))) {
      ws.nextOfType("attached");
      ws.send("{\"type\":\"signal.answer\",\"ref\":\"settle\",\"signal\":-1,\"outcome\":\"consumed\"}");
      ws.expectError("signal_not_found");
      long head = head(id);
      for (String op : List.of(
          "{\"op\":\"add\",\"path\":\"/files_modified/x\",\"value\":\"a.ts\"}",
          "{\"op\":\"replace\",\"path\":\"/files_modified/01\",\"value\":\"a.ts\"}",
          "{\"op\":\"remove\",\"path\":\"/tools_used/-x\"}",
          "{\"op\":\"add\",\"path\":\"/files_modified/99999999999999999999\",\"value\":\"a.ts\"}")) {
        ws.send("{\"type\":\"commit\",\"ref\":\"bad\",\"patch\":[" + op + "]}");
        assertEquals("bad", ws.expectError("patch_rejected").path("ref").asText(), op);
      }
      assertEquals(head, head(id), "a rejected patch writes nothing");
      ws.send("{\"type\":\"commit\",\"ref\":\"ok\",\"patch\":[{\"op\":\"add\",\"path\":\"/files_modified/-\",\"value\":\"a.ts\"}]}");
      JsonNode ack = ws.next(f -> "ok".equals(f.path("ref").asText()));
      assertEquals("ack", ack.path("type").asText(), ack.toString());
      assertEquals(head + 1, ack.path("offset").asLong());
    }
  }

  /** Found by fuzzing: a number given for a string, a string or a fraction for an integer, was converted and accepted. */
  @Test
  void fieldsOfTheWrongTypeAreRefusedNotConvertedAndChangeNothing() {
    String id = newSession();
    try (WsClient ws = WsClient.connect(server.ws(id, 0), server.token("bot", Role.AGENT))) {
      ws.nextOfType("attached");
      ws.send("{\"type\":\"signal.answer\",\"ref\":\"settle\",\"signal\":-1,\"outcome\":\"consumed\"}");
      ws.expectError("signal_not_found");
      long head = head(id);
      for (String frame : List.of(
          "{\"type\":\"message\",\"ref\":0,\"text\":\"a number for a ref\"}",
          "{\"type\":\"message\",\"ref\":\"w1\",\"text\":5}",
          "{\"type\":\"message\",\"ref\":\"w2\",\"text\":\"x\",\"messageId\":true}",
          "{\"type\":\"message\",\"ref\":\"w3\",\"text\":\"x\",\"producer\":{\"id\":\"p\",\"epoch\":\"0\",\"seq\":0}}",
          "{\"type\":\"message\",\"ref\":\"w4\",\"text\":\"x\",\"producer\":{\"id\":\"p\",\"epoch\":0,\"seq\":0.5}}",
          "{\"type\":\"signal.answer\",\"ref\":\"w5\",\"signal\":\"7\",\"outcome\":\"consumed\"}",
          "{\"type\":\"ack\",\"ref\":\"w6\",\"offset\":\"3\"}",
          "{\"type\":\"heartbeat\",\"ref\":\"w7\",\"offset\":1.5}",
          "{\"type\":\"ack\",\"ref\":\"w8\",\"offset\":1E2}",
          "{\"type\":\"heartbeat\",\"ref\":\"w9\",\"offset\":\"\"}",
          "{\"type\":\"heartbeat\",\"ref\":\"w10\",\"offset\":\" \"}")) {
        ws.send(frame);
        ws.expectError("invalid_frame");
      }
      String user = this.user;
      assertError(call("POST", "/v1/sessions/" + id + "/messages", user, "{\"text\":\"x\",\"messageId\":7}"), 400, "invalid_request");
      assertError(call("POST", "/v1/sessions/" + id + "/messages", user,
          "{\"text\":\"x\",\"producer\":{\"id\":\"p\",\"epoch\":\"0\",\"seq\":0}}"), 400, "invalid_request");
      assertError(call("POST", "/v1/sessions", user, "{\"id\":12345}"), 400, "invalid_request");
      String support = server.token("sue", Role.SUPPORT);
      assertError(call("POST", "/v1/sessions/" + id + "/close", support, "{\"reason\":{\"why\":\"x\"}}"), 400, "invalid_request");
      assertError(call("POST", "/v1/sessions/" + id + "/transfers", support, "{\"mode\":\"cold\",\"to\":{\"queue\":7}}"), 400, "invalid_request");
      assertError(call("POST", "/v1/sessions/" + id + "/handback", support, "{\"agent\":false}"), 400, "invalid_request");
      assertEquals(head, head(id), "no refused input may change the session");
      assertEquals(404, call("GET", "/v1/sessions/12345", user, null).statusCode(), "no session was created from a number");
    }
  }

  @Test
  void socketsWithBadOffsetsOrTokensAreRefusedBeforeTheUpgrade() {
    String id = newSession();
    assertHandshakeStatus(server.ws(id, 999), user, 400);
    assertHandshakeStatus(server.ws(id, 0).replace("offset=0", "offset=-3"), user, 400);
    assertHandshakeStatus(server.ws(id, 0).replace("offset=0", "offset=later"), user, 400);
    assertHandshakeStatus(server.ws("no-such-session", 0), user, 404);
    assertHandshakeStatus(server.ws(id, 0), "garbage", 401);
    // browsers that cannot set headers pass the token as a query parameter
    var listener = new java.net.http.WebSocket.Listener() {};
    http.newWebSocketBuilder().buildAsync(URI.create(server.ws(id, 0) + "&access_token=" + user), listener).join().abort();
  }

  void assertHandshakeStatus(String uri, String token, int status) {
    try {
      WsClient.connect(uri, token).close();
      throw new AssertionError("the upgrade to " + uri + " should have been refused");
    } catch (CompletionException e) {
      WebSocketHandshakeException h = (WebSocketHandshakeException) e.getCause();
      assertEquals(status, h.getResponse().statusCode(), uri);
    }
  }
}
