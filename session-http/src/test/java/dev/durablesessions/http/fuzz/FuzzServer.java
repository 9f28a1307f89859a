package dev.durablesessions.http.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.durablesessions.http.fuzz.RawHttp.Header;
import dev.durablesessions.http.testing.TestServer;
import dev.durablesessions.session.Role;
import dev.durablesessions.testing.TestDatabases;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * One real node for a fuzz test class (H2, real HTTP), with a token per role and a raw HTTP
 * client. Presence and receipt timers are pushed out of the way, so that the only writes to a
 * session while it is fuzzed are the ones the fuzzed requests make: a refused request must
 * leave the head exactly where it was. Durable Streams are open, as for the protocol's own
 * clients (tokens are fuzzed on the session API); long-polls wait 20 ms.
 */
public final class FuzzServer implements AutoCloseable {
  static final String QUIET_TIMERS = """
      durable-sessions.http.socket.heartbeat-timeout = 0
      durable-sessions.follower.keep-alive-interval = 1h
      durable-sessions.presence.reattach-window = 2h
      durable-sessions.presence.grace = 2h
      durable-sessions.presence.stall-after = 2h
      durable-sessions.session.receipt-interval = 1h
      durable-sessions.streams.long-poll-timeout = 20ms
      durable-sessions.streams.open = on
      durable-sessions.http.limits.appends.count = 0
      durable-sessions.http.limits.session-creations.count = 0
      durable-sessions.http.limits.open-sockets = 0
      """;

  private static final ObjectMapper JSON = new ObjectMapper();

  public final TestServer server;
  public final RawHttp http;
  public final Map<Role, String> tokens = new EnumMap<>(Role.class);
  /** The subject of each role's token. */
  public static final Map<Role, String> SUBJECTS = Map.of(
      Role.AGENT, "bot", Role.USER, "ada", Role.HUMAN, "hal", Role.SUPPORT, "sue", Role.OBSERVER, "eve", Role.ADMIN, "root");

  public FuzzServer(String overrides) {
    server = new TestServer(TestDatabases.h2(), QUIET_TIMERS + overrides);
    http = new RawHttp(server.port);
    SUBJECTS.forEach((role, subject) -> tokens.put(role, server.token(subject, role)));
  }

  public String token(Role role) {
    return tokens.get(role);
  }

  public static List<Header> bearer(String token) {
    List<Header> headers = new ArrayList<>();
    if (token != null) headers.add(Header.of("Authorization", "Bearer " + token));
    return headers;
  }

  public RawHttp.Response call(String method, String target, String token, String json) {
    List<Header> headers = bearer(token);
    if (json != null) headers.add(Header.of("Content-Type", "application/json"));
    return http.send(method, target, headers, json == null ? null : json.getBytes(StandardCharsets.UTF_8));
  }

  public static JsonNode json(RawHttp.Response r) {
    try {
      return JSON.readTree(r.body());
    } catch (java.io.IOException e) {
      throw new AssertionError("not JSON (" + r.status() + "): " + RawHttp.abbreviate(r.text()), e);
    }
  }

  /** Creates a session owned by the user. */
  public void create(String sessionId) {
    RawHttp.Response r = call("POST", "/v1/sessions", token(Role.USER), "{\"id\":\"" + sessionId + "\"}");
    assertEquals(201, r.status(), () -> r.text() + "; exchanges before: \n  " + http.recent());
  }

  /** The session's head, from its summary. */
  public long head(String sessionId) {
    RawHttp.Response r = call("GET", "/v1/sessions/" + sessionId, token(Role.ADMIN), null);
    assertEquals(200, r.status(), r.text());
    return json(r).path("head").asLong();
  }

  /**
   * A session-API answer is either a success or the JSON error body with a documented code and
   * its documented status; never a server failure. Returns the error code, or null for a success.
   */
  public static String assertDocumented(RawHttp.Response r, String context) {
    if (r.status() < 300) return null;
    assertTrue(String.valueOf(r.header("Content-Type")).startsWith("application/json"),
        "an error answer is JSON, got " + r.status() + " " + r.header("Content-Type") + " " + RawHttp.abbreviate(r.text()) + ": " + context);
    JsonNode body = json(r);
    String code = body.path("error").path("code").asText(null);
    assertTrue(code != null && body.path("error").path("message").isTextual(),
        "an error body is {\"error\":{\"code\",\"message\"}}, got " + RawHttp.abbreviate(r.text()) + ": " + context);
    Documented.assertRefusal(r.status(), code, context + " -> " + RawHttp.abbreviate(r.text()));
    return code;
  }

  /** Pekko HTTP's limit on a request-target (pekko.http.server.parsing.max-uri-length). */
  public static final int MAX_URI_LENGTH = 2048;

  /** A request-target with a {@code %} not followed by two hex digits: not a URI. */
  public static boolean malformedTarget(String target) {
    return java.util.regex.Pattern.compile("%(?![0-9A-Fa-f]{2})").matcher(target).find();
  }

  /** The methods HTTP defines; Pekko HTTP's parser answers any other with 501. */
  private static final java.util.Set<String> METHODS = java.util.Set.of("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE", "CONNECT");

  /**
   * A request Pekko HTTP's parser refuses before any route sees it (docs/PROTOCOL.md section 3),
   * in plain text: 400 for a request-target that is not a URI, a header value with a control
   * character or a second Content-Type, 414 for a target over the length limit, 501 for a method HTTP does not define, 422
   * for a HEAD or TRACE request with a body.
   */
  public static boolean refusedByTheParser(String method, String target, List<Header> headers, boolean body, RawHttp.Response r) {
    boolean plain = String.valueOf(r.header("Content-Type")).startsWith("text/plain");
    boolean controlInHeader = headers.stream().anyMatch(h -> {
      for (byte b : h.value()) if (b >= 0 && b < 0x20 && b != '\t' || b == 0x7f) return true;
      return false;
    });
    boolean twoContentTypes = headers.stream().filter(h -> h.name().equalsIgnoreCase("Content-Type")).count() > 1;
    return plain && r.status() == 400 && (malformedTarget(target) || controlInHeader || twoContentTypes)
        || r.status() == 414 && target.length() > MAX_URI_LENGTH
        || r.status() == 501 && !METHODS.contains(method)
        || r.status() == 422 && body && (method.equals("HEAD") || method.equals("TRACE"));
  }

  /**
   * The agent calls {@code toolCallId} and asks {@code to} to approve it as {@code approvalId},
   * over a socket that is closed again; returns once its disconnection is written, after which
   * nothing writes to the session on its own (the grace period is hours).
   */
  public void askForApproval(String sessionId, String toolCallId, String approvalId, String to) {
    try (dev.durablesessions.http.testing.WsClient agent =
        dev.durablesessions.http.testing.WsClient.connect(server.ws(sessionId, 0), token(Role.AGENT))) {
      agent.nextOfType("attached");
      for (String frame : List.of(
          "{\"type\":\"tool.call\",\"ref\":\"call\",\"toolCallId\":\"" + toolCallId + "\",\"name\":\"delete_file\"}",
          "{\"type\":\"tool.approval.request\",\"ref\":\"ask\",\"toolCallId\":\"" + toolCallId + "\",\"approvalId\":\""
              + approvalId + "\",\"to\":" + to + "}")) {
        agent.send(frame);
        JsonNode answer = agent.next(f -> f.path("type").asText().matches("ack|error"));
        assertEquals("ack", answer.path("type").asText(), frame + " -> " + answer);
      }
    }
    long deadline = System.nanoTime() + java.time.Duration.ofSeconds(15).toNanos();
    while (!call("GET", "/v1/sessions/" + sessionId, token(Role.ADMIN), null).text().contains("\"disconnected\"")) {
      assertTrue(System.nanoTime() < deadline, "the agent's socket never counted as disconnected");
      Thread.onSpinWait();
    }
  }

  /** The node still serves: a new session takes a message and shows it in its history. */
  public void assertStillServing(String label) {
    String id = "alive-" + label + "-" + System.nanoTime();
    create(id);
    RawHttp.Response posted = call("POST", "/v1/sessions/" + id + "/messages", token(Role.USER), "{\"text\":\"still here\"}");
    assertEquals(201, posted.status(), () -> "after " + label + ": " + posted.text() + "; exchanges before: \n  " + http.recent());
    RawHttp.Response history = call("GET", "/v1/sessions/" + id + "/events", token(Role.USER), null);
    assertEquals(200, history.status(), history.text());
    assertTrue(history.text().contains("still here"), history.text());
    RawHttp.Response health = http.send("GET", "/health", List.of(), null);
    assertEquals(200, health.status());
  }

  @Override
  public void close() {
    http.close();
    server.close();
  }
}
