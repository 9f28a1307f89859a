package dev.durablesessions.http.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.durablesessions.http.auth.Tokens;
import dev.durablesessions.http.fuzz.RawHttp.Header;
import dev.durablesessions.http.testing.WsClient;
import dev.durablesessions.session.Role;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.AfterProperty;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Every read route of the session API (history, state, diff, commits, resume, receipts, audit,
 * the session log in catch-up, long-poll, SSE and HEAD, queues, the session list, the socket
 * upgrade), with valid query strings and headers mutated: offsets, limits and filters given
 * wrong types, edge numbers, unicode, repeated, dropped or renamed; paths and methods bent;
 * tokens missing, malformed, forged, expired, of every role, in the header or the query. Each
 * gets a success or its documented JSON error with the documented status, never a server
 * failure; reads and refusals leave the session's head where it was; the node keeps serving. A
 * method bent to DELETE by an admin erases the session (it then answers 410 and the fuzzing goes
 * on with a fresh one).
 */
class QueryAndHeaderFuzzTest {
  static FuzzServer node;
  static CaseCount count;
  static final AtomicLong unique = new AtomicLong();
  static String session;
  static String sockets;
  static long head;
  static Map<String, String> credentials;

  /** A read route: method, path ({@code {s}} is the fuzzed session) and a valid query. */
  record Request(String method, String path, List<String[]> query) {
    @Override
    public String toString() {
      StringBuilder b = new StringBuilder(method + " " + path);
      for (String[] q : query) b.append(b.indexOf("?") < 0 ? '?' : '&').append(q[0]).append('=').append(q[1]);
      return b.toString();
    }
  }

  static Request request(String method, String path, String... query) {
    List<String[]> q = new ArrayList<>();
    for (int i = 0; i < query.length; i += 2) q.add(new String[] {query[i], query[i + 1]});
    return new Request(method, path, q);
  }

  static final List<Request> REQUESTS = List.of(
      request("GET", "/v1/sessions", "limit", "10"),
      request("GET", "/v1/sessions/{s}"),
      request("GET", "/v1/sessions/{s}/events", "after", "1", "limit", "5"),
      request("GET", "/v1/sessions/{s}/state", "at", "3"),
      request("GET", "/v1/sessions/{s}/state", "turn", "1"),
      request("GET", "/v1/sessions/{s}/diff", "from", "0", "to", "1"),
      request("GET", "/v1/sessions/{s}/diff", "turn", "1", "attempt", "1", "vs", "1"),
      request("GET", "/v1/sessions/{s}/commits", "tool", "edit_file", "path", "/files_modified", "lastTurns", "1"),
      request("GET", "/v1/sessions/{s}/resume", "after", "2"),
      request("GET", "/v1/sessions/{s}/receipts", "participant", "sue", "offset", "1"),
      request("GET", "/v1/sessions/{s}/audit", "participant", "ada", "type", "message,state.committed",
          "from", "2020-01-01T00:00:00Z", "to", "2100-01-01T00:00:00Z"),
      request("GET", "/v1/sessions/{s}/stream", "offset", "-1"),
      request("GET", "/v1/sessions/{s}/stream", "offset", "now", "live", "long-poll", "cursor", "1"),
      request("GET", "/v1/sessions/{s}/stream", "offset", "0000000000000000_0000000000000001", "live", "sse"),
      request("HEAD", "/v1/sessions/{s}/stream", "offset", "now"),
      request("GET", "/v1/queues"),
      request("GET", "/v1/queues/billing"),
      request("GET", "/v1/sessions/{ws}/ws", "offset", "0", "device", "phone"));

  /** One change to a request. */
  record Change(String kind, int where, String value) {
    @Override
    public String toString() {
      return kind + "@" + where + (value == null ? "" : " " + RawHttp.abbreviate(JsonText.write(value)));
    }
  }

  @BeforeContainer
  static void start() {
    node = new FuzzServer("");
    count = new CaseCount("QueryAndHeaderFuzzTest");
    seedSessions();
    credentials = new LinkedHashMap<>();
    for (Role role : Role.values()) if (node.tokens.containsKey(role)) credentials.put(role.wire(), node.token(role));
    credentials.put("narrow", node.server.tokens.issue("nora", Role.SUPPORT, List.of("other-*"), Duration.ofHours(1)));
    credentials.put("expired", node.server.tokens.issue("ada", Role.USER, List.of("*"), Duration.ofSeconds(-60)));
    credentials.put("forged", new Tokens("another-secret-another-secret-another-secret", "durable-sessions")
        .issue("mallory", Role.ADMIN, List.of("*"), Duration.ofHours(1)));
    credentials.put("garbage", "not.a.jwt");
    credentials.put("none", null);
  }

  /**
   * A fresh session to fuzz, with a turn, a tool call, a commit and a result so the state views
   * have something to show, and a second one for the socket upgrades; {@link #head} is its head.
   */
  static void seedSessions() {
    session = "fz-read-" + unique.incrementAndGet();
    sockets = "fz-read-ws-" + unique.incrementAndGet();
    node.create(session);
    node.create(sockets);
    assertEquals(201, node.call("POST", "/v1/sessions/" + session + "/messages", node.token(Role.USER), "{\"text\":\"help\"}").status());
    try (WsClient agent = WsClient.connect(node.server.ws(session, 0), node.token(Role.AGENT))) {
      agent.nextOfType("attached");
      for (String frame : List.of(
          "{\"type\":\"tool.call\",\"ref\":\"a\",\"toolCallId\":\"c1\",\"name\":\"edit_file\"}",
          "{\"type\":\"commit\",\"ref\":\"b\",\"tool\":\"edit_file\",\"toolCallId\":\"c1\",\"patch\":[{\"op\":\"add\",\"path\":\"/files_modified/-\",\"value\":\"a.ts\"}]}",
          "{\"type\":\"tool.result\",\"ref\":\"c\",\"toolCallId\":\"c1\",\"outcome\":\"ok\"}",
          "{\"type\":\"ack\",\"offset\":3}")) {
        agent.send(frame);
        if (!frame.contains("\"ack\"")) assertEquals("ack", agent.next(f -> f.path("type").asText().matches("ack|error")).path("type").asText());
      }
    }
    // the agent's socket is gone once its disconnection is written; nothing else writes to the session after that
    long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    while (!node.call("GET", "/v1/sessions/" + session, node.token(Role.ADMIN), null).text().contains("\"disconnected\"")) {
      assertTrue(System.nanoTime() < deadline, "the agent's socket never counted as disconnected");
      Thread.onSpinWait();
    }
    head = node.head(session);
  }

  @AfterContainer
  static void stop() {
    if (count != null) count.print();
    if (node != null) node.close();
  }

  @Provide
  Arbitrary<Request> requests() {
    return Arbitraries.of(REQUESTS);
  }

  @Provide
  Arbitrary<List<Change>> changes() {
    Arbitrary<Integer> where = Arbitraries.integers().between(0, 100);
    Arbitrary<String> value = Arbitraries.frequencyOf(
        Tuple.of(4, EdgeValues.strings(1500)),
        Tuple.of(3, Arbitraries.of(EdgeValues.NUMBERS).map(JsonText.Raw::text)),
        Tuple.of(2, Arbitraries.of("-1", "now", "0000000000000000_0000000000000000", "0000000000000001_0000000000000000",
            "0_0", "00_1", "1", "9999999999999999_9999999999999999", "0000000000000000_" + "9".repeat(40), "long-poll", "sse", "LONG-POLL",
            "2026-11-22T17:00:00Z", "+999999999-12-31T23:59:59Z", "-999999999-01-01T00:00:00Z", "2026-13-45T99:99:99Z",
            "1970-01-01T00:00:00Z", "message,,", ",", "state.committed", "/files_modified/-", "files", "~", "/~")));
    Arbitrary<String> names = Arbitraries.of("after", "limit", "at", "turn", "from", "to", "attempt", "vs", "tool", "path",
        "lastTurns", "participant", "offset", "type", "live", "cursor", "device", "batch", "access_token", "Limit", "", "x", "%00", "a b");
    return Arbitraries.frequencyOf(
        Tuple.of(8, Combinators.combine(where, value).as((w, v) -> new Change("value", w, v))),
        Tuple.of(2, where.map(w -> new Change("drop", w, null))),
        Tuple.of(2, where.map(w -> new Change("repeat", w, null))),
        Tuple.of(2, Combinators.combine(names, value).as((k, v) -> new Change("add:" + k, 0, v))),
        Tuple.of(1, Arbitraries.of("&&", "=", "&=x", "%zz", "%", "+", "a=%ZZ", "%F0%9F", "%ED%A0%80", "%00=%00")
            .map(raw -> new Change("raw", 0, raw))),
        Tuple.of(2, EdgeValues.strings(300).map(id -> new Change("session", 0, id))),
        Tuple.of(1, Arbitraries.of("/", "//", "/extra", "/..", "/%2F", "/%00", "/events/1").map(t -> new Change("suffix", 0, t))),
        Tuple.of(1, Arbitraries.of("POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "GET", "FUZZ").map(m -> new Change("method", 0, m))),
        Tuple.of(3, Arbitraries.of("admin", "support", "human", "user", "agent", "observer", "narrow", "expired", "forged", "garbage", "none")
            .map(c -> new Change("token", 0, c))),
        Tuple.of(1, Arbitraries.of("header", "query", "both", "lowercase", "basic", "spaces", "empty")
            .map(c -> new Change("auth", 0, c))),
        Tuple.of(2, Combinators.combine(Arbitraries.of("Accept", "Content-Type", "If-None-Match", "Origin", "Cookie", "Range",
            "X-Forwarded-For", "Accept-Encoding", "Accept-Charset", "Cache-Control", "Last-Event-ID", "Connection", "Upgrade",
            "Sec-WebSocket-Version", "Sec-WebSocket-Key"), EdgeValues.strings(2000))
            .as((h, v) -> new Change("header:" + h, 0, v))))
        .list().ofMaxSize(4);
  }

  @Property(tries = 2600, shrinking = ShrinkingMode.BOUNDED)
  void everyMutatedReadGetsASuccessOrItsDocumentedErrorAndChangesNothing(
      @ForAll("requests") Request request, @ForAll("changes") List<Change> changes) {
    String method = request.method();
    String sessionId = session;
    String suffix = "";
    String credential = "admin";
    String auth = "header";
    List<String[]> query = new ArrayList<>();
    for (String[] q : request.query()) query.add(q.clone());
    List<Header> headers = new ArrayList<>();
    List<String> rawQuery = new ArrayList<>();
    for (Change c : changes) {
      int i = query.isEmpty() ? 0 : c.where() % query.size();
      if (c.kind().equals("value") && !query.isEmpty()) query.get(i)[1] = c.value();
      else if (c.kind().equals("drop") && !query.isEmpty()) query.remove(i);
      else if (c.kind().equals("repeat") && !query.isEmpty()) query.add(query.get(i).clone());
      else if (c.kind().startsWith("add:")) query.add(new String[] {c.kind().substring(4), c.value()});
      else if (c.kind().equals("raw")) rawQuery.add(c.value());
      else if (c.kind().equals("session")) sessionId = encode(c.value());
      else if (c.kind().equals("suffix")) suffix = c.value();
      else if (c.kind().equals("method")) method = c.value();
      else if (c.kind().equals("token")) credential = c.value();
      else if (c.kind().equals("auth")) auth = c.value();
      else if (c.kind().startsWith("header:")) headers.add(Header.of(c.kind().substring(7), headerValue(c.value())));
    }
    String token = credentials.get(credential);
    if (token != null) {
      switch (auth) {
        case "query" -> query.add(new String[] {"access_token", token});
        case "both" -> {
          query.add(new String[] {"access_token", token});
          headers.add(Header.of("Authorization", "Bearer " + token));
        }
        case "lowercase" -> headers.add(Header.of("Authorization", "bearer " + token));
        case "basic" -> headers.add(Header.of("Authorization", "Basic " + token));
        case "spaces" -> headers.add(Header.of("Authorization", "Bearer    " + token + "   "));
        case "empty" -> headers.add(Header.of("Authorization", "Bearer "));
        default -> headers.add(Header.of("Authorization", "Bearer " + token));
      }
    }
    boolean upgrade = request.path().endsWith("/ws");
    if (upgrade) {
      headers.add(Header.of("Upgrade", "websocket"));
      headers.add(Header.of("Connection", "Upgrade"));
      headers.add(Header.of("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="));
      headers.add(Header.of("Sec-WebSocket-Version", "13"));
    }
    StringBuilder target = new StringBuilder(request.path().replace("{s}", sessionId).replace("{ws}", upgrade ? sessions(sessionId) : sessionId))
        .append(suffix);
    char sep = '?';
    for (String[] q : query) {
      target.append(sep).append(encode(q[0])).append('=').append(encode(q[1]));
      sep = '&';
    }
    for (String raw : rawQuery) {
      target.append(sep).append(raw);
      sep = '&';
    }
    String context = request + " " + changes + " -> " + method + " " + RawHttp.abbreviate(target.toString());

    RawHttp.Response r = node.http.send(method, target.toString(), headers, null);
    if (FuzzServer.refusedByTheParser(method, target.toString(), headers, false, r)) {
      count.refused();
    } else if (method.equals("HEAD") && r.status() >= 300) {
      // an answer to HEAD has no body to read the code from: its status and type must still be a documented error's
      count.refused();
      assertTrue(Documented.CODES.containsValue(r.status()) && !List.of(500, 503).contains(r.status())
          && String.valueOf(r.header("Content-Type")).startsWith("application/json"), r.status() + " " + r.headers() + ": " + context);
    } else if (FuzzServer.assertDocumented(r, context) == null) {
      count.accepted();
      assertTrue(r.status() == 101 || r.status() == 200 || r.status() == 204 || r.status() == 304 || r.status() == 201,
          r.status() + " " + context);
    } else {
      count.refused();
    }
    if (method.equals("DELETE") && r.status() == 200 && sessionId.equals(session)) {
      // an admin's DELETE of the session (the route, bent to DELETE) erases it: it is gone for every reader
      RawHttp.Response gone = node.call("GET", "/v1/sessions/" + session + "/events", node.token(Role.ADMIN), null);
      assertEquals(410, gone.status(), "an erased session answers 410: " + context + " -> " + gone.text());
      assertEquals("session_erased", FuzzServer.json(gone).path("error").path("code").asText(), context);
      seedSessions();
    } else if (method.equals("GET") || method.equals("HEAD") || r.status() >= 300) {
      assertEquals(head, node.head(session), "a read or a refusal changed the session: " + context + " -> " + r.status() + " " + r.text());
    } else {
      head = node.head(session);
    }
    if (count.cases() % 500 == 0) node.assertStillServing("reads-" + count.cases()); // after each batch of 500
  }

  /** The socket upgrades go to their own session (connecting writes presence events). */
  private static String sessions(String sessionId) {
    return sessionId.equals(session) ? sockets : sessionId;
  }

  private static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  /** Header values travel as UTF-8 bytes; CR, LF and NUL would end or break the request itself, so they become spaces. */
  private static String headerValue(String s) {
    return s.replace('\r', ' ').replace('\n', ' ').replace('\u0000', ' ');
  }

  @AfterProperty
  void nodeStillServes() {
    node.assertStillServing("reads");
  }
}
