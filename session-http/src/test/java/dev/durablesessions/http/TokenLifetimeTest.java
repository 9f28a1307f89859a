package dev.durablesessions.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.durablesessions.http.socket.ConnectionActor;
import dev.durablesessions.http.testing.TestServer;
import dev.durablesessions.http.testing.WsClient;
import dev.durablesessions.session.Role;
import dev.durablesessions.testing.TestDatabases;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A socket lives as long as its token: at the token's exp it gets a resumable token_expired
 * closing, unless a fresh token for the same participant arrived in an auth frame first; an SSE
 * reader's response ends at the token's exp with a closing event; a request with an expired
 * token is refused with token_expired, so a client knows to refresh and resume.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TokenLifetimeTest {
  TestServer server;
  final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  void start() {
    server = new TestServer(TestDatabases.h2(), "");
  }

  @AfterAll
  void stop() {
    server.close();
  }

  String token(String subject, Role role, Duration ttl) {
    return server.tokens.issue(subject, role, List.of("*"), ttl);
  }

  String createSession() {
    String id = "tl-" + UUID.randomUUID();
    HttpResponse<String> created = server.call("POST", "/v1/sessions", server.token("ada", Role.USER), "{\"id\":\"" + id + "\"}");
    assertEquals(201, created.statusCode(), created.body());
    return id;
  }

  JsonNode nextClosing(WsClient client) {
    return client.next(f -> "closing".equals(f.path("type").asText()));
  }

  @Test
  void aSocketWhoseTokenExpiresIsToldTokenExpiredResumablyAndClosed() throws Exception {
    String id = createSession();
    try (WsClient socket = WsClient.connect(server.ws(id, 0), token("ada", Role.USER, Duration.ofSeconds(2)))) {
      assertEquals("attached", socket.nextOfType("attached").path("type").asText());
      JsonNode closing = nextClosing(socket);
      assertEquals(ConnectionActor.CLOSE_TOKEN_EXPIRED, closing.path("code").asInt(), closing.toString());
      assertEquals("token_expired", closing.path("reason").asText());
      assertTrue(closing.path("resumable").asBoolean());
      socket.closed.get(10, TimeUnit.SECONDS);
    }
    // Resuming with a fresh token works, and the device's disconnection names the reason.
    try (WsClient again = WsClient.connect(server.ws(id, 0), server.token("ada", Role.USER))) {
      JsonNode disconnected = again.next(f -> "participant.disconnected".equals(f.path("type").asText()));
      assertEquals("token_expired", disconnected.path("reason").asText(), disconnected.toString());
    }
  }

  @Test
  void aFreshTokenInAnAuthFrameKeepsTheSocketOpenPastTheFirstTokensExpiry() throws Exception {
    String id = createSession();
    Instant firstExpiry = Instant.now().plusSeconds(2);
    try (WsClient socket = WsClient.connect(server.ws(id, 0), token("ada", Role.USER, Duration.ofSeconds(2)))) {
      socket.nextOfType("attached");
      String fresh = token("ada", Role.USER, Duration.ofHours(1));
      socket.send("{\"type\":\"auth\",\"ref\":\"renew\",\"token\":\"" + fresh + "\"}");
      JsonNode ack = socket.next(f -> "renew".equals(f.path("ref").asText()));
      assertEquals("ack", ack.path("type").asText(), ack.toString());
      assertTrue(Instant.parse(ack.path("expiresAt").asText()).isAfter(Instant.now().plusSeconds(3000)), ack.toString());
      // Past the first token's expiry (and its timer), the socket still works and was never told to close.
      while (Instant.now().isBefore(firstExpiry.plusSeconds(2))) {
        socket.send("{\"type\":\"heartbeat\"}");
        TimeUnit.MILLISECONDS.sleep(200); // the passage of time is what is under test here
      }
      socket.send("{\"type\":\"message\",\"ref\":\"after\",\"text\":\"still here\"}");
      assertEquals("ack", socket.next(f -> "after".equals(f.path("ref").asText())).path("type").asText());
      assertFalse(socket.closed.isDone());
      assertTrue(socket.frames.stream().noneMatch(f -> "closing".equals(f.path("type").asText())), socket.frames.toString());
    }
  }

  @Test
  void anAuthFrameForAnotherParticipantOrWithABadTokenIsRefusedAndTheOldExpiryStands() throws Exception {
    String id = createSession();
    try (WsClient socket = WsClient.connect(server.ws(id, 0), token("ada", Role.USER, Duration.ofSeconds(4)))) {
      socket.nextOfType("attached");
      socket.send("{\"type\":\"auth\",\"ref\":\"other\",\"token\":\"" + token("bob", Role.USER, Duration.ofHours(1)) + "\"}");
      assertEquals("forbidden", socket.next(f -> "other".equals(f.path("ref").asText())).path("code").asText());
      socket.send("{\"type\":\"auth\",\"ref\":\"role\",\"token\":\"" + token("ada", Role.SUPPORT, Duration.ofHours(1)) + "\"}");
      assertEquals("forbidden", socket.next(f -> "role".equals(f.path("ref").asText())).path("code").asText());
      String narrow = server.tokens.issue("ada", Role.USER, List.of("elsewhere-*"), Duration.ofHours(1));
      socket.send("{\"type\":\"auth\",\"ref\":\"narrow\",\"token\":\"" + narrow + "\"}");
      assertEquals("forbidden", socket.next(f -> "narrow".equals(f.path("ref").asText())).path("code").asText());
      socket.send("{\"type\":\"auth\",\"ref\":\"forged\",\"token\":\"not.a.token\"}");
      assertEquals("unauthorized", socket.next(f -> "forged".equals(f.path("ref").asText())).path("code").asText());
      socket.send("{\"type\":\"auth\",\"ref\":\"old\",\"token\":\"" + token("ada", Role.USER, Duration.ofSeconds(-60)) + "\"}");
      assertEquals("token_expired", socket.next(f -> "old".equals(f.path("ref").asText())).path("code").asText());
      socket.send("{\"type\":\"auth\",\"ref\":\"empty\"}");
      assertEquals("invalid_frame", socket.next(f -> "empty".equals(f.path("ref").asText())).path("code").asText());
      // None of them replaced the token: it expires as it would have.
      assertEquals(ConnectionActor.CLOSE_TOKEN_EXPIRED, nextClosing(socket).path("code").asInt());
    }
  }

  @Test
  void requestsWithAnExpiredTokenAreRefusedWithTokenExpired() {
    String expired = token("ada", Role.USER, Duration.ofSeconds(-60));
    HttpResponse<String> rest = server.call("GET", "/v1/sessions", expired, null);
    assertEquals(401, rest.statusCode());
    assertTrue(rest.body().contains("\"token_expired\""), rest.body());
    HttpResponse<String> forged = server.call("GET", "/v1/sessions", "not.a.token", null);
    assertEquals(401, forged.statusCode());
    assertTrue(forged.body().contains("\"unauthorized\""), forged.body());
    HttpResponse<String> stream = server.call("GET", "/v1/stream/tl-anything?offset=-1", expired, null);
    assertEquals(401, stream.statusCode());
    assertTrue(stream.body().startsWith("token_expired"), stream.body());
  }

  @Test
  void anSseReaderOfASessionLogIsEndedAtItsTokensExpiryWithAClosingEvent() throws Exception {
    String id = createSession();
    List<String> events = readSse("/v1/sessions/" + id + "/stream?live=sse&offset=-1", token("ada", Role.USER, Duration.ofSeconds(2)));
    assertTrue(events.contains("data"), "the reader got the session's events first: " + events);
    assertEquals("closing", events.get(events.size() - 1), events.toString());
  }

  @Test
  void anSseReaderOfADurableStreamIsEndedAtItsTokensExpiryWithAClosingEvent() throws Exception {
    String name = "tl-" + UUID.randomUUID();
    String writer = server.token("ada", Role.USER);
    HttpResponse<String> created = http.send(HttpRequest.newBuilder(URI.create(server.http() + "/v1/stream/" + name))
        .header("Authorization", "Bearer " + writer).header("Content-Type", "text/plain")
        .PUT(HttpRequest.BodyPublishers.ofString("hello")).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(201, created.statusCode(), created.body());
    List<String> events = readSse("/v1/stream/" + name + "?live=sse&offset=-1", token("ada", Role.USER, Duration.ofSeconds(2)));
    assertTrue(events.contains("data"), events.toString());
    assertEquals("closing", events.get(events.size() - 1), events.toString());
  }

  /** The event names of one SSE response, read to its end (which the token's expiry must bring). */
  List<String> readSse(String path, String token) throws Exception {
    HttpRequest request = HttpRequest.newBuilder(URI.create(server.http() + path)).header("Authorization", "Bearer " + token).build();
    HttpResponse<InputStream> r = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
    assertEquals(200, r.statusCode());
    CompletableFuture<List<String>> read = CompletableFuture.supplyAsync(() -> {
      List<String> names = new ArrayList<>();
      try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
        for (String line; (line = in.readLine()) != null; ) {
          if (line.startsWith("event: ")) names.add(line.substring(7));
          if (line.startsWith("data:") && names.get(names.size() - 1).equals("closing")) {
            assertTrue(line.contains("\"token_expired\"") && line.contains("\"resumable\":true"), line);
          }
        }
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
      return names;
    });
    List<String> names = read.get(30, TimeUnit.SECONDS);
    assertNotNull(names);
    return names;
  }
}
