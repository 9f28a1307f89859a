package dev.durablesessions.http.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.durablesessions.http.fuzz.RawHttp.Header;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
 * The Durable Streams protocol under {@code /v1/stream/{name}}: creates (forks, TTLs, expiry,
 * closed), appends (JSON and bytes, idempotent producers, {@code Stream-Seq}, closes), reads
 * (catch-up, long-poll, SSE, {@code If-None-Match}), HEAD, DELETE and preflights, with their
 * valid headers, query strings, bodies, names and methods mutated. Each answer has a status
 * docs/PROTOCOL.md section 12 lists for that method (never 500, never 503 on an idle node)
 * and the protocol's CORS headers; a refused request, and every read, leaves the stream's tail
 * and closed flag as they were; the node keeps serving.
 */
class StreamRequestFuzzTest {
  static final int MAX_APPEND = 1024 * 1024;
  static FuzzServer node;
  static CaseCount count;
  static final AtomicLong unique = new AtomicLong();
  static long generation;
  static int sinceRotation;

  /** A valid request: {@code {g}} is the current pool, {@code {n}} unique per case. */
  record Request(String method, String name, List<String[]> headers, String query, Object body) {
    @Override
    public String toString() {
      StringBuilder b = new StringBuilder(method + " " + name + query);
      for (String[] h : headers) b.append(" [").append(h[0]).append(": ").append(h[1]).append(']');
      return b.toString();
    }
  }

  static Request request(String method, String name, String query, Object body, String... headers) {
    List<String[]> h = new ArrayList<>();
    for (int i = 0; i < headers.length; i += 2) h.add(new String[] {headers[i], headers[i + 1]});
    return new Request(method, name, h, query, body);
  }

  static final String JSON = "application/json";
  static final String ONE = "0000000000000000_0000000000000001";

  static final List<Request> REQUESTS = List.of(
      request("PUT", "fz/new/{n}", "", JsonText.array(JsonText.object("role", "user", "text", "hi")), "Content-Type", JSON),
      request("PUT", "fz/new/{n}", "", "plain text", "Content-Type", "text/plain", "Stream-TTL", "60"),
      request("PUT", "fz/new/{n}", "", null, "Content-Type", JSON, "Stream-Expires-At", "2100-01-01T00:00:00Z"),
      request("PUT", "fz/new/{n}", "", null, "Content-Type", JSON, "Stream-Closed", "true"),
      request("PUT", "fz/new/{n}", "", null, "Stream-Forked-From", "/v1/stream/fz/{g}/json", "Stream-Fork-Offset", ONE),
      request("PUT", "fz/new/{n}", "", null, "Stream-Forked-From", "fz/{g}/json", "Stream-Fork-Offset", "0000000000000000_0000000000000000",
          "Stream-Fork-Sub-Offset", "1"),
      request("PUT", "fz/{g}/json", "", null, "Content-Type", JSON),
      request("POST", "fz/{g}/json", "", JsonText.object("m", JsonText.number(1), "text", "hello"), "Content-Type", JSON),
      request("POST", "fz/{g}/json", "", JsonText.array(JsonText.number(1), "two", JsonText.object()), "Content-Type", "application/json; charset=utf-8",
          "Producer-Id", "p{n}", "Producer-Epoch", "0", "Producer-Seq", "0"),
      request("POST", "fz/{g}/json", "", "\"s\"", "Content-Type", JSON, "Stream-Seq", "{n}"),
      request("POST", "fz/{g}/bytes", "", "raw bytes", "Content-Type", "application/octet-stream"),
      request("POST", "fz/{g}/text", "", "line\n", "Content-Type", "text/plain; charset=utf-8", "Stream-Closed", "false"),
      request("POST", "fz/{g}/fork", "", JsonText.object("x", JsonText.number(1)), "Content-Type", JSON),
      request("POST", "fz/{g}/ttl", "", null, "Stream-Closed", "true"),
      request("POST", "fz/{g}/closed", "", "[1]", "Content-Type", JSON),
      request("GET", "fz/{g}/json", "?offset=-1", null),
      request("GET", "fz/{g}/fork", "?offset=" + ONE, null),
      request("GET", "fz/{g}/text", "?offset=now&live=long-poll&cursor=1", null),
      request("GET", "fz/{g}/bytes", "?offset=-1&live=sse", null),
      request("GET", "fz/{g}/closed", "?offset=-1&live=long-poll", null),
      request("GET", "fz/{g}/json", "?offset=-1", null, "If-None-Match", "\"x:-1:" + ONE + "\""),
      request("HEAD", "fz/{g}/ttl", "", null),
      request("DELETE", "fz/new/{n}", "", null),
      request("DELETE", "fz/{g}/text", "", null),
      request("OPTIONS", "fz/{g}/json", "", null, "Origin", "http://example.com", "Access-Control-Request-Method", "POST"));

  static final Map<String, Set<Integer>> STATUSES = Map.of(
      "PUT", Set.of(200, 201, 400, 404, 409, 413),
      "POST", Set.of(200, 204, 400, 403, 404, 409, 410, 413),
      "GET", Set.of(200, 204, 304, 400, 404, 410),
      "HEAD", Set.of(200, 400, 404, 410),
      "DELETE", Set.of(204, 400, 404, 410),
      "OPTIONS", Set.of(204, 400));

  /** One change to a request. */
  record Change(String kind, int where, String value, List<Mutation> plan) {
    @Override
    public String toString() {
      return kind + "@" + where + (value == null ? "" : " " + RawHttp.abbreviate(JsonText.write(value))) + (plan == null ? "" : " " + plan);
    }
  }

  @BeforeContainer
  static void start() {
    node = new FuzzServer("");
    count = new CaseCount("StreamRequestFuzzTest");
    rotate();
  }

  @AfterContainer
  static void stop() {
    if (count != null) count.print();
    if (node != null) node.close();
  }

  /** A new pool of streams: JSON, bytes, text, one with a TTL, a closed one and a fork. */
  static void rotate() {
    generation = unique.incrementAndGet();
    String g = "fz/" + generation + "/";
    create(g + "json", "[1,2]", "Content-Type", JSON);
    create(g + "bytes", "abc", "Content-Type", "application/octet-stream");
    create(g + "text", "hello\n", "Content-Type", "text/plain; charset=utf-8");
    create(g + "ttl", "{}", "Content-Type", JSON, "Stream-TTL", "3600");
    create(g + "closed", "[3]", "Content-Type", JSON, "Stream-Closed", "true");
    create(g + "fork", null, "Stream-Forked-From", "/v1/stream/" + g + "json", "Stream-Fork-Offset", ONE);
    sinceRotation = 0;
  }

  static void create(String name, String body, String... headers) {
    List<Header> h = new ArrayList<>();
    for (int i = 0; i < headers.length; i += 2) h.add(Header.of(headers[i], headers[i + 1]));
    RawHttp.Response r = node.http.send("PUT", "/v1/stream/" + name, h, body == null ? null : body.getBytes(StandardCharsets.UTF_8));
    assertEquals(201, r.status(), name + ": " + r.text());
  }

  @Provide
  Arbitrary<Request> requests() {
    return Arbitraries.of(REQUESTS);
  }

  @Provide
  Arbitrary<BodyDamage> damage() {
    return BodyDamage.arbitrary(MAX_APPEND);
  }

  @Provide
  Arbitrary<List<Change>> changes() {
    Arbitrary<Integer> where = Arbitraries.integers().between(0, 100);
    Arbitrary<String> value = Arbitraries.frequencyOf(
        Tuple.of(4, EdgeValues.strings(1500)),
        Tuple.of(3, Arbitraries.of(EdgeValues.NUMBERS).map(JsonText.Raw::text)),
        Tuple.of(4, Arbitraries.of("-1", "now", "0000000000000000_0000000000000000", "0000000000000001_0000000000000000", "0_0", "00_1",
            "0000000000000000_" + "9".repeat(18), "0000000000000000_" + "9".repeat(19), "9999999999999999_9999999999999999",
            "0000000000000000_-000000000000001", "long-poll", "sse", "true", "TRUE", "false", "yes", "0", "00", "01", "000000000000",
            "999999999999", "9999999999999", "9007199254740991", "9007199254740992", "2026-11-22T20:00:00Z", "2026-11-22T20:00:00+00:00",
            "+999999999-12-31T23:59:59Z", "-999999999-01-01T00:00:00Z", "+10000-01-01T00:00:00Z", "1970-01-01T00:00:00Z",
            "2026-13-45T99:99:99Z", "2026-11-22", "application/json", "APPLICATION/JSON", "application/json; charset=utf-16",
            "text/plain", "text/event-stream", "application/octet-stream", "image/png", "a/b", "/v1/stream/", "/v1/stream/fz/new/1",
            "http://127.0.0.1/v1/stream/fz/1/json", "https://[::1", "%zz", "*", "W/\"x\"", "\"\"")));
    Arbitrary<String> headerNames = Arbitraries.of("Content-Type", "Stream-TTL", "Stream-Expires-At", "Stream-Closed", "Stream-Seq",
        "Stream-Forked-From", "Stream-Fork-Offset", "Stream-Fork-Sub-Offset", "Producer-Id", "Producer-Epoch", "Producer-Seq",
        "If-None-Match", "Authorization", "Origin", "Accept", "Cache-Control");
    Arbitrary<String> queries = Arbitraries.of("", "?offset=", "?offset=-1&offset=-1", "?live=sse", "?offset=now&live=sse&live=sse",
        "?offset=-1&live=poll", "?offset=%zz", "?offset=%2D1", "?offset=now&live=long-poll&cursor=99999999999999999999",
        "?offset=now&live=long-poll&cursor=%D9%A3", "?offset=now&live=long-poll&cursor=-5", "?x=1&&&", "?offset=0_0&live=long-poll",
        "?offset=0000000000000000_9999999999999999", "?access_token=x", "?%00=%00", "?offset=-1&live=LONG-POLL");
    Arbitrary<String> names = Arbitraries.frequencyOf(
        Tuple.of(3, Arbitraries.of("fz/{g}/json", "fz/{g}/bytes", "fz/{g}/text", "fz/{g}/ttl", "fz/{g}/closed", "fz/{g}/fork",
            "fz/new/{n}", "fz/missing/{n}")),
        Tuple.of(2, EdgeValues.strings(300).map(s -> "fz/" + encode(s))),
        Tuple.of(1, Arbitraries.of("", "/", "fz//x", "x".repeat(200), "x".repeat(201), "fz/%00", "fz/%7F", "fz/%0A", "fz/%ED%A0%80",
            "fz/%FF", "fz/..", "fz/%2e%2e/x", "fz/a?b", "fz/%2F%2F")));
    return Arbitraries.frequencyOf(
        Tuple.of(8, Combinators.combine(where, value).as((w, v) -> new Change("header value", w, v, null))),
        Tuple.of(2, where.map(w -> new Change("drop header", w, null, null))),
        Tuple.of(2, where.map(w -> new Change("repeat header", w, null, null))),
        Tuple.of(4, Combinators.combine(headerNames, value).as((h, v) -> new Change("add header:" + h, 0, v, null))),
        Tuple.of(3, queries.map(q -> new Change("query", 0, q, null))),
        Tuple.of(4, Mutation.plans(20_000, List.of("m", "text", "role", "x", "a")).map(p -> new Change("body", 0, null, p))),
        Tuple.of(1, Arbitraries.of("", "[]", "[[]]", "{}", "null", "\"\"", "[1,", "\u0000", EdgeValues.nested(999), EdgeValues.nested(1500))
            .map(b -> new Change("whole body", 0, b, null))),
        Tuple.of(3, names.map(n -> new Change("name", 0, n, null))),
        Tuple.of(1, Arbitraries.of("GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "TRACE").map(m -> new Change("method", 0, m, null))))
        .list().ofMaxSize(4);
  }

  @Property(tries = 2700, shrinking = ShrinkingMode.BOUNDED)
  void everyMutatedStreamRequestGetsADocumentedStatusAndRefusedOnesChangeNothing(
      @ForAll("requests") Request request, @ForAll("changes") List<Change> changes, @ForAll("damage") BodyDamage damage) {
    long n = unique.incrementAndGet();
    String method = request.method();
    String name = request.name();
    String query = request.query();
    List<String[]> headers = new ArrayList<>();
    for (String[] h : request.headers()) headers.add(h.clone());
    Object body = request.body();
    String bodyText = body == null ? null : body instanceof String s ? s : JsonText.write(body);
    for (Change c : changes) {
      int i = headers.isEmpty() ? 0 : c.where() % headers.size();
      switch (c.kind()) {
        case "header value" -> { if (!headers.isEmpty()) headers.get(i)[1] = c.value(); }
        case "drop header" -> { if (!headers.isEmpty()) headers.remove(i); }
        case "repeat header" -> { if (!headers.isEmpty()) headers.add(headers.get(i).clone()); }
        case "query" -> query = c.value();
        case "body" -> bodyText = body == null || body instanceof String ? Mutation.apply(JsonText.object("m", "x"), c.plan())
            : Mutation.apply(body, c.plan());
        case "whole body" -> bodyText = c.value();
        case "name" -> name = c.value();
        case "method" -> method = c.value();
        default -> headers.add(new String[] {c.kind().substring("add header:".length()), c.value()});
      }
    }
    String g = Long.toString(generation);
    name = name.replace("{g}", g).replace("{n}", Long.toString(n));
    List<Header> sent = new ArrayList<>();
    for (String[] h : headers) sent.add(Header.of(h[0], headerValue(h[1].replace("{g}", g).replace("{n}", String.format("%012d", n)))));
    byte[] bytes = bodyText == null ? null : damage.apply(bodyText);
    String target = "/v1/stream/" + name + query;
    String context = request + " " + changes + " " + damage + " -> " + method + " " + RawHttp.abbreviate(target)
        + " " + sent.stream().map(h -> h.name() + ": " + RawHttp.abbreviate(new String(h.value(), StandardCharsets.UTF_8))).toList()
        + " body " + (bodyText == null ? "none" : RawHttp.abbreviate(bodyText));

    boolean pooled = name.startsWith("fz/" + g + "/");
    RawHttp.Response before = pooled ? node.http.send("HEAD", "/v1/stream/" + name, List.of(), null) : null;
    RawHttp.Response r = node.http.send(method, target, sent, bytes);

    assertTrue(r.status() != 500 && r.status() != 503, "the server failed (" + r.status() + " " + r.text() + ") on: " + context);
    if (FuzzServer.refusedByTheParser(method, target, sent, bytes != null, r)) {
      count.refused();
      return;
    }
    Set<Integer> allowed = STATUSES.getOrDefault(method, Set.of(405, 400));
    // a path whose name is empty once dot segments are resolved ("fz/..") names no stream
    boolean nameless = r.status() == 404 && r.text().equals("no stream name in the path");
    assertTrue(allowed.contains(r.status()) || nameless, "undocumented status " + r.status() + " " + r.text() + " for: " + context);
    assertEquals("*", r.header("Access-Control-Allow-Origin"), "CORS headers on every answer: " + context);
    if (r.status() >= 400) count.refused();
    else count.accepted();

    if (before != null && before.status() == 200 && (r.status() >= 400 || method.equals("GET") || method.equals("HEAD"))) {
      RawHttp.Response after = node.http.send("HEAD", "/v1/stream/" + name, List.of(), null);
      assertEquals(before.header("Stream-Next-Offset"), after.header("Stream-Next-Offset"),
          "a refusal or a read moved the tail: " + context + " -> " + r.status() + " " + r.text());
      assertEquals(before.header("Stream-Closed"), after.header("Stream-Closed"), "a refusal or a read closed the stream: " + context);
    }
    if (++sinceRotation >= 300) rotate();
    if (count.cases() % 500 == 0) node.assertStillServing("streams-" + count.cases()); // after each batch of 500
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
    rotate();
    String g = "fz/" + generation + "/";
    RawHttp.Response appended = node.http.send("POST", "/v1/stream/" + g + "json", List.of(Header.of("Content-Type", JSON)),
        "{\"still\":\"here\"}".getBytes(StandardCharsets.UTF_8));
    assertEquals(204, appended.status(), appended.text());
    RawHttp.Response read = node.http.send("GET", "/v1/stream/" + g + "json?offset=-1", List.of(), null);
    assertEquals("[1,2,{\"still\":\"here\"}]", read.text());
    node.assertStillServing("streams");
  }
}
