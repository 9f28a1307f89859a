package dev.durablesessions.http.authz;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.durablesessions.http.testing.TestServer;
import dev.durablesessions.http.testing.WsClient;
import dev.durablesessions.session.Role;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The node the matrix runs against (one {@link TestServer}: real HTTP, real sockets, a real
 * journal), the callers' tokens, and what rows set up: sessions in a given phase, queued
 * sessions, streams. Setup runs as identities of its own ({@code setup-*}, covering {@code *}),
 * never as a column's caller unless a row says so.
 */
final class Node implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration WAIT = Duration.ofSeconds(10);

  final TestServer server;
  private final HttpClient http = HttpClient.newHttpClient();
  private final Map<Caller, String> tokens = new EnumMap<>(Caller.class);
  final String setupAdmin;
  final String setupHuman;
  final String setupUser;

  Node(TestServer server) {
    this.server = server;
    for (Caller c : Caller.values()) {
      tokens.put(c, switch (c.reach) {
        case IN, OUT -> server.tokens.issue(c.subject(), c.role, c.patterns(), Duration.ofHours(1));
        case NONE -> null;
        case FORGED -> forged(c.subject(), c.role, c.patterns());
      });
    }
    setupAdmin = server.tokens.issue("setup-admin", Role.ADMIN, List.of("*"), Duration.ofHours(1));
    setupHuman = server.tokens.issue("setup-human", Role.HUMAN, List.of("*"), Duration.ofHours(1));
    setupUser = server.tokens.issue("setup-user", Role.USER, List.of("*"), Duration.ofHours(1));
  }

  String token(Caller caller) {
    return tokens.get(caller);
  }

  // ---------------------------------------------------------------- HTTP

  HttpResponse<String> call(String method, String path, String token, String body, Map<String, String> headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server.http() + path)).timeout(WAIT)
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

  HttpResponse<String> call(String method, String path, String token, String body) {
    return call(method, path, token, body, Map.of());
  }

  /** An answer as the matrix writes it: the status, and the code of a JSON error body if there is one. */
  static String canonical(int status, String body) {
    if (status >= 400 && body != null && body.startsWith("{")) {
      try {
        JsonNode code = JSON.readTree(body).path("error").path("code");
        if (code.isTextual()) return status + " " + code.asText();
      } catch (IOException notJson) {
        // a bare status then
      }
    }
    return Integer.toString(status);
  }

  static JsonNode json(String body) {
    try {
      return JSON.readTree(body);
    } catch (IOException e) {
      throw new AssertionError("not JSON: " + body, e);
    }
  }

  /** A setup request that must succeed. */
  JsonNode must(String method, String path, String token, String body, int status) {
    HttpResponse<String> r = call(method, path, token, body);
    if (r.statusCode() != status) {
      throw new AssertionError("setup " + method + " " + path + " answered " + r.statusCode() + " " + r.body());
    }
    return r.body().isEmpty() ? null : json(r.body());
  }

  // ---------------------------------------------------------------- sessions

  static String newId(String prefix) {
    return prefix + UUID.randomUUID();
  }

  /** A new session covered by the in-pattern tokens, created by setup (agent_in_control). */
  String newSession() {
    return newSession(Caller.IN_PREFIX);
  }

  String newSession(String prefix) {
    String id = newId(prefix);
    must("POST", "/v1/sessions", setupAdmin, "{\"id\":\"" + id + "\"}", 201);
    return id;
  }

  /** "absent", or the session's head: what a refused write must leave as it was. */
  String sessionState(String id) {
    HttpResponse<String> r = call("GET", "/v1/sessions/" + id, setupAdmin, null);
    if (r.statusCode() == 404) return "absent";
    if (r.statusCode() != 200) throw new AssertionError("summary of " + id + ": " + r.statusCode() + " " + r.body());
    JsonNode s = json(r.body());
    return "head " + s.path("head").asLong() + ", " + s.path("control").path("phase").asText();
  }

  JsonNode summary(String id) {
    return must("GET", "/v1/sessions/" + id, setupAdmin, null, 200);
  }

  /** A session with a warm transfer pending, offered to {@code to} ({@code {"participant":…}} or {@code {"queue":…}}). */
  String pendingTransfer(String to) {
    String id = newSession();
    must("POST", "/v1/sessions/" + id + "/transfers", setupAdmin, "{\"mode\":\"warm\",\"to\":" + to + "}", 200);
    return id;
  }

  /** A session queued by a cold transfer to {@code queue}. */
  String queued(String prefix, String queue) {
    String id = newSession(prefix);
    must("POST", "/v1/sessions/" + id + "/transfers", setupAdmin, "{\"mode\":\"cold\",\"to\":{\"queue\":\"" + queue + "\"}}", 200);
    return id;
  }

  /** A session where the holder of {@code humanToken} (subject {@code human}) has the floor. */
  String humanInControl(String human, String humanToken) {
    String id = pendingTransfer("{\"participant\":\"" + human + "\"}");
    must("POST", "/v1/sessions/" + id + "/transfers/accept", humanToken, null, 200);
    return id;
  }

  /** A session erased by setup (its record stays). */
  String erased(String prefix) {
    String id = newSession(prefix);
    must("DELETE", "/v1/sessions/" + id, setupAdmin, null, 200);
    return id;
  }

  /** Waits until the queue directory lists {@code id} in {@code queue} (it lags a write by a moment). */
  void awaitListed(String queue, String id) {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (true) {
      for (JsonNode e : must("GET", "/v1/queues/" + queue, setupAdmin, null, 200).path("waiting")) {
        if (id.equals(e.path("sessionId").asText())) return;
      }
      if (System.nanoTime() > deadline) throw new AssertionError(id + " never appeared in queue " + queue);
      Thread.onSpinWait();
    }
  }

  /** Waits until each subject has a device online in the session (its join and connect are written). */
  void awaitOnline(String id, Set<String> subjects) {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (true) {
      long online = 0;
      for (JsonNode p : summary(id).path("participants")) {
        if (subjects.contains(p.path("participant").path("id").asText()) && "online".equals(p.path("presence").path("status").asText())) {
          online++;
        }
      }
      if (online == subjects.size()) return;
      if (System.nanoTime() > deadline) throw new AssertionError("not all of " + subjects + " online in " + id + ": " + summary(id));
      Thread.onSpinWait();
    }
  }

  /**
   * A session where setup-admin called a tool and asked {@code to} ({@code {"role":…}} or
   * {@code {"participant":…}}) to approve it; setup's socket is gone (its disconnection written)
   * before this returns, so nothing else writes to the session while a cell runs.
   */
  Row.Scene pendingApproval(String to) {
    String id = newSession();
    String approvalId = newId("ap-");
    try (WsClient setup = socket(id, setupAdmin)) {
      for (String frame : List.of(
          "{\"type\":\"tool.call\",\"ref\":\"call\",\"toolCallId\":\"call-1\",\"name\":\"delete_file\"}",
          "{\"type\":\"tool.approval.request\",\"ref\":\"ask\",\"toolCallId\":\"call-1\",\"approvalId\":\"" + approvalId
              + "\",\"to\":" + to + "}")) {
        setup.send(frame);
        String ref = json(frame).path("ref").asText();
        JsonNode answer = setup.next(f -> ref.equals(f.path("ref").asText()));
        if (!"ack".equals(answer.path("type").asText())) throw new AssertionError("setup frame " + frame + " answered " + answer);
      }
    }
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (summary(id).toString().contains("\"online\"")) {
      if (System.nanoTime() > deadline) throw new AssertionError("setup-admin's socket never counted as disconnected in " + id);
      Thread.onSpinWait();
    }
    return Row.Scene.approval(id, approvalId);
  }

  // ---------------------------------------------------------------- sockets

  WsClient socket(String id, String token) {
    WsClient client = WsClient.connect(server.ws(id, 0), token);
    JsonNode attached = client.nextOfType("attached");
    if (!id.equals(attached.path("sessionId").asText())) throw new AssertionError("attached to what? " + attached);
    return client;
  }

  /**
   * A WebSocket opening handshake on a plain TCP socket, so that a refusal's status and JSON
   * error code can be read (the JDK's client keeps only the status). A 101 is a socket that
   * opened; it is closed at once.
   */
  String upgrade(String id, String token) {
    return upgradeAt("/v1/sessions/" + id + "/ws", token);
  }

  /** A WebSocket upgrade request to {@code path}: "101", or the refusal's status and code. */
  String upgradeAt(String path, String token) {
    try (Socket s = new Socket("127.0.0.1", server.port)) {
      s.setSoTimeout((int) WAIT.toMillis());
      String request = "GET " + path + " HTTP/1.1\r\n"
          + "Host: 127.0.0.1:" + server.port + "\r\n"
          + "Upgrade: websocket\r\nConnection: Upgrade\r\n"
          + "Sec-WebSocket-Key: " + Base64.getEncoder().encodeToString(UUID.randomUUID().toString().substring(0, 16).getBytes(StandardCharsets.US_ASCII)) + "\r\n"
          + "Sec-WebSocket-Version: 13\r\n"
          + (token == null ? "" : "Authorization: Bearer " + token + "\r\n")
          + "\r\n";
      OutputStream out = s.getOutputStream();
      out.write(request.getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      String statusLine = line(in);
      int status = Integer.parseInt(statusLine.split(" ")[1]);
      int length = 0;
      for (String h = line(in); !h.isEmpty(); h = line(in)) {
        if (h.regionMatches(true, 0, "Content-Length:", 0, 15)) length = Integer.parseInt(h.substring(15).trim());
      }
      if (status == 101) return "101";
      return canonical(status, new String(in.readNBytes(length), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String line(InputStream in) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    for (int c = in.read(); c != '\n'; c = in.read()) {
      if (c < 0) throw new IOException("connection closed mid-header");
      if (c != '\r') b.write(c);
    }
    return b.toString(StandardCharsets.US_ASCII);
  }

  // ---------------------------------------------------------------- Durable Streams

  static final Map<String, String> TEXT = Map.of("Content-Type", "text/plain");

  /** A new text stream named {@code prefix…}, created by setup, holding one message. */
  String newStream(String prefix) {
    String name = newId(prefix);
    HttpResponse<String> r = call("PUT", "/v1/stream/" + name, setupAdmin, "first", TEXT);
    if (r.statusCode() != 201) throw new AssertionError("setup PUT stream " + name + ": " + r.statusCode() + " " + r.body());
    return name;
  }

  /** "absent", or the stream's tail: what a refused write must leave as it was. */
  String streamState(String name) {
    HttpResponse<String> r = call("HEAD", "/v1/stream/" + name, setupAdmin, null);
    if (r.statusCode() == 404) return "absent";
    if (r.statusCode() != 200) throw new AssertionError("HEAD stream " + name + ": " + r.statusCode());
    return "tail " + r.headers().firstValue("Stream-Next-Offset").orElse("?")
        + (r.headers().firstValue("Stream-Closed").isPresent() ? ", closed" : "");
  }

  // ---------------------------------------------------------------- tokens

  /** A well-formed HS256 token with every claim right, signed with a secret the node does not have. */
  private static String forged(String subject, Role role, List<String> sessions) {
    Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
    String header = b64.encodeToString("{\"alg\":\"HS256\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8));
    String payload = b64.encodeToString(JSON.createObjectNode()
        .put("iss", "durable-sessions").put("sub", subject).put("role", role.wire())
        .put("exp", Instant.now().plus(Duration.ofHours(1)).getEpochSecond())
        .set("sessions", JSON.valueToTree(sessions)).toString().getBytes(StandardCharsets.UTF_8));
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec("not-the-node-secret-not-the-node-secret-0123".getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      String signature = b64.encodeToString(mac.doFinal((header + "." + payload).getBytes(StandardCharsets.US_ASCII)));
      return header + "." + payload + "." + signature;
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    server.close();
  }
}
