package dev.durablesessions.http.cors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.durablesessions.http.authz.ProtocolDoc;
import dev.durablesessions.http.testing.TestServer;
import dev.durablesessions.http.testing.WsClient;
import dev.durablesessions.session.Role;
import dev.durablesessions.testing.TestDatabases;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Browsers on another origin, against a real node: preflights on every route of the session
 * API are answered for the configured origin (and refused for another), every answer to it
 * (errors included) carries the CORS headers and no other origin gets any, the Durable Streams
 * stay open to every origin, and sockets do not look at the Origin at all.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CorsTest {
  static final String APP = "https://app.example.com";
  static final String EVIL = "https://evil.example.com";
  static final ObjectMapper JSON = new ObjectMapper();

  TestServer server;
  String ada;
  String session;
  final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  void start() {
    server = new TestServer(TestDatabases.h2(), """
        durable-sessions.http.cors.allowed-origins = ["https://app.example.com/"]
        durable-sessions.http.cors.max-age = 5m
        """);
    ada = server.token("ada", Role.USER);
    session = "cors-" + UUID.randomUUID();
    assertEquals(201, server.call("POST", "/v1/sessions", ada, "{\"id\":\"" + session + "\"}").statusCode());
  }

  @AfterAll
  void stop() {
    server.close();
  }

  HttpResponse<String> send(TestServer on, String method, String path, String token, String body, Map<String, String> headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(on.http() + path))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (token != null) b.header("Authorization", "Bearer " + token);
    headers.forEach(b::header);
    try {
      return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  HttpResponse<String> preflight(TestServer on, String path, String origin, String method) {
    return send(on, "OPTIONS", path, null, null, Map.of("Origin", origin, "Access-Control-Request-Method", method,
        "Access-Control-Request-Headers", "authorization,content-type"));
  }

  static String header(HttpResponse<?> r, String name) {
    List<String> values = r.headers().allValues(name);
    return values.isEmpty() ? null : String.join(", ", values);
  }

  static List<String> corsHeaders(HttpResponse<?> r) {
    return r.headers().map().keySet().stream().filter(h -> h.toLowerCase().startsWith("access-control-")).toList();
  }

  static void assertAllowed(HttpResponse<?> r, String origin, String context) {
    assertEquals(List.of(origin), r.headers().allValues("Access-Control-Allow-Origin"), context);
    assertTrue(String.valueOf(header(r, "Vary")).contains("Origin"), context + ": Vary " + header(r, "Vary"));
  }

  /** Every session API route of docs/PROTOCOL.md's Methods table, with its methods, placeholders filled in. */
  Map<String, Set<String>> sessionApiRoutes() {
    Map<String, Set<String>> routes = new java.util.LinkedHashMap<>();
    new ProtocolDoc().methodsTable().forEach((path, methods) -> {
      if (Cors.covered(path)) {
        routes.put(path.replace("{id}", session).replace("{queue}", "billing").replace("{approvalId}", "ap-1"), methods);
      }
    });
    assertTrue(routes.size() > 20, "the Methods table lists the session API: " + routes.keySet());
    return routes;
  }

  @Test
  void aPreflightFromAnAllowedOriginIsAnsweredOnEveryRouteOfTheSessionApiWithoutAToken() {
    List<String> problems = new ArrayList<>();
    sessionApiRoutes().forEach((path, methods) -> {
      for (String method : methods) {
        HttpResponse<String> r = preflight(server, path, APP, method);
        String context = "preflight of " + method + " " + path;
        if (r.statusCode() != 204) {
          problems.add(context + ": " + r.statusCode() + " " + r.body());
          continue;
        }
        if (!List.of(APP).equals(r.headers().allValues("Access-Control-Allow-Origin"))) problems.add(context + ": " + r.headers().map());
        if (!String.valueOf(header(r, "Vary")).contains("Origin")) problems.add(context + " has no Vary: Origin");
        if (!List.of(header(r, "Access-Control-Allow-Methods").split(",\\s*")).contains(method)) {
          problems.add(context + " does not allow " + method + ": " + header(r, "Access-Control-Allow-Methods"));
        }
        String allowHeaders = String.valueOf(header(r, "Access-Control-Allow-Headers"));
        if (!allowHeaders.contains("Authorization") || !allowHeaders.contains("Content-Type")) problems.add(context + ": " + allowHeaders);
        if (!"300".equals(header(r, "Access-Control-Max-Age"))) problems.add(context + ": Max-Age " + header(r, "Access-Control-Max-Age"));
      }
    });
    assertTrue(problems.isEmpty(), String.join("\n", problems));
  }

  @Test
  void aPreflightFromAnotherOriginIsRefusedWithoutCorsHeaders() {
    for (String path : sessionApiRoutes().keySet()) {
      HttpResponse<String> r = preflight(server, path, EVIL, "POST");
      assertEquals(403, r.statusCode(), path + ": " + r.body());
      assertEquals("forbidden", json(r.body()).path("error").path("code").asText(), r.body());
      assertEquals(List.of(), corsHeaders(r), path);
    }
  }

  @Test
  void everyAnswerToAnAllowedOriginCarriesCorsHeadersErrorsIncluded() {
    Map<String, String> origin = Map.of("Origin", APP);
    List<HttpResponse<String>> answers = List.of(
        send(server, "GET", "/v1/sessions/" + session, ada, null, origin),                         // 200
        send(server, "POST", "/v1/sessions/" + session + "/messages", ada, "{\"text\":\"hi\"}", origin), // 201
        send(server, "GET", "/v1/sessions/" + session, null, null, origin),                        // 401 unauthorized
        send(server, "GET", "/v1/sessions/nope-" + UUID.randomUUID(), ada, null, origin),          // 404 session_not_found
        send(server, "GET", "/v1/sessions/" + session + "/nowhere", ada, null, origin),            // 404 not_found
        send(server, "PUT", "/v1/sessions/" + session + "/messages", ada, "{}", origin),           // 405
        send(server, "POST", "/v1/sessions/" + session + "/messages", ada, "{", origin),           // 400 bad_json
        send(server, "POST", "/v1/sessions/" + session + "/approvals/ap-1", ada, "{\"approved\":true}", origin), // 404 approval_not_found
        send(server, "GET", "/v1/queues", ada, null, origin),                                      // 403 forbidden
        send(server, "GET", "/v1/erasures", ada, null, origin),                                    // 403 forbidden
        send(server, "GET", "/v1/sessions/" + session + "/stream?offset=-1", ada, null, origin));  // the session log
    List<Integer> statuses = answers.stream().map(HttpResponse::statusCode).toList();
    assertEquals(List.of(200, 201, 401, 404, 404, 405, 400, 404, 403, 403, 200), statuses);
    for (HttpResponse<String> r : answers) {
      String context = r.request().method() + " " + r.uri() + " -> " + r.statusCode();
      assertAllowed(r, APP, context);
      String exposed = String.valueOf(header(r, "Access-Control-Expose-Headers"));
      for (String h : List.of("Retry-After", "WWW-Authenticate", "Stream-Next-Offset")) assertTrue(exposed.contains(h), context + ": " + exposed);
      assertEquals(null, header(r, "Access-Control-Allow-Credentials"), context);
    }
  }

  @Test
  void anotherOriginOrNoOriginGetsNoCorsHeadersNotEvenOnTheSessionLog() {
    for (Map<String, String> headers : List.of(Map.of("Origin", EVIL), Map.<String, String>of())) {
      for (String path : List.of("/v1/sessions/" + session, "/v1/sessions/" + session + "/stream?offset=-1", "/v1/sessions/nope")) {
        HttpResponse<String> r = send(server, "GET", path, ada, null, headers);
        assertTrue(r.statusCode() < 500, path + " " + r.statusCode());
        assertEquals(List.of(), corsHeaders(r), path + " with " + headers);
        assertTrue(String.valueOf(header(r, "Vary")).contains("Origin"), path + ": the answer depends on the Origin");
      }
    }
  }

  @Test
  void anOptionsRequestThatIsNoPreflightIsStillAMethodNotAllowed() {
    HttpResponse<String> r = send(server, "OPTIONS", "/v1/sessions/" + session, ada, null, Map.of("Origin", APP));
    assertEquals(405, r.statusCode(), r.body());
    assertAllowed(r, APP, "a plain OPTIONS");
  }

  @Test
  void theDurableStreamsStayOpenToEveryOrigin() {
    String stream = "/v1/stream/" + "cors-" + UUID.randomUUID();
    HttpResponse<String> pre = preflight(server, stream, EVIL, "PUT");
    assertEquals(204, pre.statusCode(), pre.body());
    assertEquals(List.of("*"), pre.headers().allValues("Access-Control-Allow-Origin"));
    HttpResponse<String> created = send(server, "PUT", stream, ada, "x", Map.of("Origin", EVIL, "Content-Type", "text/plain"));
    assertEquals(201, created.statusCode(), created.body());
    assertEquals(List.of("*"), created.headers().allValues("Access-Control-Allow-Origin"));
  }

  @Test
  void aSocketIsNotCheckedForItsOrigin() {
    try (WsClient socket = WsClient.connect(server.ws(session, 0), ada, true, Map.of("Origin", EVIL))) {
      assertEquals(session, socket.nextOfType("attached").path("sessionId").asText());
    }
  }

  @Test
  void devModeAllowsAnyOrigin() {
    try (TestServer dev = new TestServer(TestDatabases.h2(), "durable-sessions.auth.dev-mode = on")) {
      String origin = "http://localhost:5173";
      HttpResponse<String> pre = preflight(dev, "/v1/sessions/any/messages", origin, "POST");
      assertEquals(204, pre.statusCode(), pre.body());
      assertAllowed(pre, origin, "dev-mode preflight");
      HttpResponse<String> r = send(dev, "GET", "/v1/sessions/any", dev.token("ada", Role.USER), null, Map.of("Origin", origin));
      assertEquals(404, r.statusCode(), r.body());
      assertAllowed(r, origin, "dev-mode answer");
    }
  }

  static JsonNode json(String body) {
    try {
      return JSON.readTree(body);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
