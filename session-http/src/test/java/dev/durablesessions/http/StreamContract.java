package dev.durablesessions.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.durablesessions.http.testing.TestServer;
import dev.durablesessions.persistence.Database;
import dev.durablesessions.session.Role;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The Durable Streams protocol on a real journal, over real HTTP: what the public conformance
 * suite cannot check because it never restarts the server or races readers against a writer.
 * Durability and exactly-once appends across a restart, readers joining a live stream at any
 * moment, forks and soft deletes after a restart, the size limit, and a session's log read
 * with the protocol's read side.
 */
abstract class StreamContract {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String OVERRIDES = """
      durable-sessions.streams.long-poll-timeout = 300ms
      durable-sessions.streams.max-append-bytes = 64KiB
      """;

  abstract Database database();

  final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  TestServer server;
  final List<TestServer> started = new ArrayList<>();

  /** The protocol's stock clients send no token: most tests here open streams, as an operator would. */
  static final String OPEN = "durable-sessions.streams.open = on\n";

  TestServer start() {
    return start(OPEN);
  }

  TestServer start(String extra) {
    TestServer s = new TestServer(database(), OVERRIDES + extra);
    started.add(s);
    return s;
  }

  @AfterEach
  void stopAll() {
    for (TestServer s : started) s.close();
  }

  HttpResponse<String> send(TestServer s, String method, String path, String contentType, String body, String... headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(s.http() + path)).timeout(Duration.ofSeconds(20))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (contentType != null) b.header("Content-Type", contentType);
    for (int i = 0; i < headers.length; i += 2) b.header(headers[i], headers[i + 1]);
    try {
      return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (Exception e) {
      throw new IllegalStateException(method + " " + path, e);
    }
  }

  static String header(HttpResponse<?> r, String name) {
    return r.headers().firstValue(name).orElse(null);
  }

  @Test
  void appendsAndProducerStateSurviveARestart() {
    server = start();
    String path = "/v1/stream/restart/" + System.nanoTime();
    assertEquals(201, send(server, "PUT", path, "application/json", null).statusCode());
    for (int seq = 0; seq < 50; seq++) {
      HttpResponse<String> r = send(server, "POST", path, "application/json", "{\"n\":" + seq + "}",
          "Producer-Id", "p", "Producer-Epoch", "0", "Producer-Seq", Integer.toString(seq));
      assertEquals(200, r.statusCode(), r.body());
    }
    String tail = header(send(server, "HEAD", path, null, null), "Stream-Next-Offset");
    server.close();
    started.remove(server);

    server = start();
    assertEquals(tail, header(send(server, "HEAD", path, null, null), "Stream-Next-Offset"), "the tail survives a restart");
    // The last write retried after the restart is recognised, not written twice.
    HttpResponse<String> retry = send(server, "POST", path, "application/json", "{\"n\":49}",
        "Producer-Id", "p", "Producer-Epoch", "0", "Producer-Seq", "49");
    assertEquals(204, retry.statusCode());
    assertEquals("49", header(retry, "Producer-Seq"));
    HttpResponse<String> gap = send(server, "POST", path, "application/json", "{\"n\":99}",
        "Producer-Id", "p", "Producer-Epoch", "0", "Producer-Seq", "51");
    assertEquals(409, gap.statusCode());
    assertEquals("50", header(gap, "Producer-Expected-Seq"));
    assertEquals(200, send(server, "POST", path, "application/json", "{\"n\":50}",
        "Producer-Id", "p", "Producer-Epoch", "0", "Producer-Seq", "50").statusCode());
    JsonNode all = json(send(server, "GET", path + "?offset=-1", null, null).body());
    assertEquals(51, all.size());
    for (int i = 0; i < 51; i++) assertEquals(i, all.get(i).get("n").asInt(), "value " + i);
  }

  /**
   * The catch-up-to-live race: readers join at random moments while a writer appends, through
   * long-poll loops and SSE, and each must see every message exactly once and in order.
   */
  @Test
  void readersJoiningWhileAWriterAppendsSeeEveryMessageOnceInOrder() throws Exception {
    server = start();
    String path = "/v1/stream/race/" + System.nanoTime();
    assertEquals(201, send(server, "PUT", path, "text/plain", null).statusCode());
    int total = 300;
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < total; i++) expected.add(String.format("m%04d;", i));
    ExecutorService pool = Executors.newFixedThreadPool(6);
    try {
      Future<?> writer = pool.submit(() -> {
        for (String m : expected) {
          assertEquals(204, send(server, "POST", path, "text/plain", m).statusCode());
          if (ThreadLocalRandom.current().nextInt(10) == 0) Thread.onSpinWait();
        }
        return null;
      });
      List<Future<String>> readers = new ArrayList<>();
      for (int r = 0; r < 3; r++) readers.add(pool.submit(() -> longPollAll(path, "-1", total * 6)));
      readers.add(pool.submit(() -> sseAll(path, "-1", total * 6)));
      readers.add(pool.submit(() -> sseAll(path, "-1", total * 6)));
      writer.get(60, TimeUnit.SECONDS);
      String all = String.join("", expected);
      for (Future<String> reader : readers) assertEquals(all, reader.get(60, TimeUnit.SECONDS));
    } finally {
      pool.shutdownNow();
    }
  }

  /** Many concurrent appends to one stream (written in batches) each land exactly once, at distinct offsets. */
  @Test
  void concurrentAppendsToOneStreamEachLandOnce() throws Exception {
    server = start();
    String path = "/v1/stream/hot-" + System.nanoTime();
    assertEquals(201, send(server, "PUT", path, "application/json", null).statusCode());
    int total = 200;
    ExecutorService pool = Executors.newFixedThreadPool(16);
    try {
      List<Future<String>> offsets = new ArrayList<>();
      for (int i = 0; i < total; i++) {
        int n = i;
        offsets.add(pool.submit(() -> {
          HttpResponse<String> r = send(server, "POST", path, "application/json", "{\"n\":" + n + "}");
          assertEquals(204, r.statusCode(), r.body());
          return header(r, "Stream-Next-Offset");
        }));
      }
      java.util.Set<String> distinct = new java.util.HashSet<>();
      for (Future<String> f : offsets) distinct.add(f.get(60, TimeUnit.SECONDS));
      assertEquals(total, distinct.size(), "every append got its own offset");
    } finally {
      pool.shutdownNow();
    }
    JsonNode all = json(send(server, "GET", path + "?offset=-1", null, null).body());
    assertEquals(total, all.size());
    java.util.Set<Integer> values = new java.util.HashSet<>();
    for (JsonNode v : all) values.add(v.get("n").asInt());
    assertEquals(total, values.size(), "each append exactly once");
  }

  /** Long-polls from {@code offset} until {@code length} characters arrived. */
  String longPollAll(String path, String offset, int length) {
    StringBuilder seen = new StringBuilder();
    String next = offset;
    while (seen.length() < length) {
      HttpResponse<String> r = send(server, "GET", path + "?live=long-poll&offset=" + next, null, null);
      assertTrue(r.statusCode() == 200 || r.statusCode() == 204, "long-poll status " + r.statusCode());
      seen.append(r.body());
      next = header(r, "Stream-Next-Offset");
    }
    return seen.toString();
  }

  /** Reads SSE data events from {@code offset} until {@code length} characters arrived. */
  String sseAll(String path, String offset, int length) throws Exception {
    HttpRequest request = HttpRequest.newBuilder(URI.create(server.http() + path + "?live=sse&offset=" + offset)).build();
    HttpResponse<InputStream> r = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
    assertEquals(200, r.statusCode());
    StringBuilder seen = new StringBuilder();
    try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
      String event = null;
      String line;
      while (seen.length() < length && (line = in.readLine()) != null) {
        if (line.startsWith("event: ")) event = line.substring(7);
        else if (line.startsWith("data:") && "data".equals(event)) seen.append(line.substring(5));
      }
    }
    return seen.toString();
  }

  @Test
  void forksAndSoftDeletedSourcesSurviveARestart() {
    server = start();
    String source = "/v1/stream/fork-src-" + System.nanoTime();
    String fork = source.replace("src", "fork");
    assertEquals(201, send(server, "PUT", source, "text/plain", "ab").statusCode());
    assertEquals(204, send(server, "POST", source, "text/plain", "c").statusCode());
    assertEquals(201, send(server, "PUT", fork, null, null, "Stream-Forked-From", source).statusCode());
    assertEquals(204, send(server, "POST", fork, "text/plain", "X").statusCode());
    assertEquals(204, send(server, "POST", source, "text/plain", "d").statusCode());
    assertEquals(204, send(server, "DELETE", source, null, null).statusCode(), "a source with forks is soft-deleted");
    server.close();
    started.remove(server);

    server = start();
    assertEquals(410, send(server, "HEAD", source, null, null).statusCode());
    assertEquals(409, send(server, "PUT", source, "text/plain", null).statusCode());
    assertEquals("abcX", send(server, "GET", fork, null, null).body(), "the fork still reads its source's data");
    assertEquals(204, send(server, "DELETE", fork, null, null).statusCode());
    assertEquals(404, send(server, "GET", fork, null, null).statusCode());
    await(() -> send(server, "HEAD", source, null, null).statusCode() == 404, "the soft-deleted source goes with its last fork");
    assertEquals(201, send(server, "PUT", source, "text/plain", "new").statusCode());
    assertEquals("new", send(server, "GET", source, null, null).body());
  }

  /** A body of unknown length arrives chunked (Transfer-Encoding: chunked) and is one message, whole. */
  @Test
  void chunkedBodiesAreAppendedWhole() throws Exception {
    server = start();
    String path = "/v1/stream/chunked-" + System.nanoTime();
    double appendsBefore = metric("ds_stream_appends_total");
    double createdBefore = metric("ds_stream_requests_total{method=\"PUT\",status=\"201\"}");
    assertEquals(201, send(server, "PUT", path, "text/plain", null).statusCode());
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < 5000; i++) text.append(i % 10);
    byte[] body = text.toString().getBytes(StandardCharsets.UTF_8);
    HttpRequest chunked = HttpRequest.newBuilder(URI.create(server.http() + path)).header("Content-Type", "text/plain")
        .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(body))).build();
    HttpResponse<String> r = http.send(chunked, HttpResponse.BodyHandlers.ofString());
    assertEquals(204, r.statusCode(), r.body());
    assertEquals("0000000000000000_0000000000000001", header(r, "Stream-Next-Offset"), "one message");
    byte[] tooBig = new byte[70 * 1024];
    java.util.Arrays.fill(tooBig, (byte) 'x');
    HttpRequest big = HttpRequest.newBuilder(URI.create(server.http() + path)).header("Content-Type", "text/plain")
        .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(tooBig))).build();
    assertEquals(413, http.send(big, HttpResponse.BodyHandlers.ofString()).statusCode());
    assertEquals(text.toString(), send(server, "GET", path, null, null).body());
    assertTrue(metric("ds_stream_appends_total") >= appendsBefore + 1, "the append is counted");
    assertTrue(metric("ds_stream_requests_total{method=\"PUT\",status=\"201\"}") >= createdBefore + 1, "requests are counted");
    assertTrue(metric("ds_streams_active") >= 1, "the stream's entity is counted");
  }

  /** A sample's value from {@code /metrics} (0 when absent). */
  double metric(String sample) {
    for (String line : server.call("GET", "/metrics", null, null).body().split("\n")) {
      if (line.startsWith(sample + " ")) return Double.parseDouble(line.substring(sample.length() + 1).trim());
    }
    return 0;
  }

  @Test
  void byDefaultEveryStreamRequestNeedsAToken() {
    server = start("");
    String path = "/v1/stream/secure-" + System.nanoTime();
    String admin = "Bearer " + server.token("root", Role.ADMIN);
    assertEquals(201, send(server, "PUT", path, "text/plain", "x", "Authorization", admin).statusCode());
    String[][] requests = {{"PUT", path + "-new"}, {"POST", path}, {"GET", path + "?offset=-1"}, {"GET", path + "?offset=-1&live=long-poll"},
        {"GET", path + "?offset=-1&live=sse"}, {"HEAD", path}, {"DELETE", path}};
    for (String[] r : requests) {
      HttpResponse<String> refused = send(server, r[0], r[1], "text/plain", r[0].equals("POST") || r[0].equals("PUT") ? "y" : null);
      assertEquals(401, refused.statusCode(), r[0] + " " + r[1]);
      assertEquals("Bearer", header(refused, "WWW-Authenticate"), r[0] + " " + r[1]);
      if (!r[0].equals("HEAD")) assertEquals("a bearer token is required", refused.body(), r[0] + " " + r[1]);
      HttpResponse<String> forged = send(server, r[0], r[1], "text/plain", null, "Authorization", "Bearer not.a.token");
      assertEquals(401, forged.statusCode(), "forged: " + r[0] + " " + r[1]);
      if (!r[0].equals("HEAD")) assertEquals("invalid or expired token", forged.body());
    }
    assertEquals(404, send(server, "HEAD", path + "-new", null, null, "Authorization", admin).statusCode(), "nothing was created");
    HttpResponse<String> read = send(server, "GET", path + "?offset=-1", null, null, "Authorization", admin);
    assertEquals("x", read.body(), "nothing was appended or deleted");
  }

  @Test
  void withStreamsOpenNoTokenIsNeeded() {
    server = start(OPEN);
    String path = "/v1/stream/open-" + System.nanoTime();
    assertEquals(201, send(server, "PUT", path, "text/plain", "x").statusCode());
    assertEquals(204, send(server, "POST", path, "text/plain", "y").statusCode());
    assertEquals("xy", send(server, "GET", path + "?offset=-1", null, null).body());
    assertEquals(204, send(server, "DELETE", path, null, null).statusCode());
  }

  @Test
  void byDefaultOnlyMatchingTokensUseAStream() throws Exception {
    server = start("");
    String team = server.tokens.issue("ada", Role.USER, List.of("team-*"), Duration.ofHours(1));
    String suffix = Long.toString(System.nanoTime());
    String mine = "/v1/stream/team-" + suffix;
    String other = "/v1/stream/other-" + suffix;
    assertEquals(401, send(server, "PUT", mine, "text/plain", "x").statusCode(), "no token");
    assertEquals(401, send(server, "PUT", mine, "text/plain", "x", "Authorization", "Bearer forged").statusCode());
    assertEquals(201, send(server, "PUT", mine, "text/plain", "x", "Authorization", "Bearer " + team).statusCode());
    assertEquals(403, send(server, "PUT", other, "text/plain", "x", "Authorization", "Bearer " + team).statusCode());
    assertEquals(404, send(server, "HEAD", other, null, null, "Authorization", "Bearer " + server.token("root", Role.ADMIN)).statusCode(),
        "nothing was created by the refused request");
    assertEquals(201, send(server, "PUT", other, "text/plain", "y", "Authorization", "Bearer " + server.token("root", Role.ADMIN)).statusCode());
    assertEquals(403, send(server, "PUT", mine + "-fork", null, null, "Authorization", "Bearer " + team,
        "Stream-Forked-From", other).statusCode(), "a fork needs access to its source too");
    assertEquals("x", send(server, "GET", mine + "?offset=-1&access_token=" + team, null, null).body(),
        "access_token works where a browser cannot set headers");
    assertEquals(204, send(server, "OPTIONS", mine, null, null).statusCode(), "preflights need no token");
  }

  /** Found by fuzzing: an expiry beyond the scheduler's longest delay (about 248 days) used to stop the stream on every request. */
  @Test
  void streamsThatExpireYearsAheadAreServedAndSurviveARestart() {
    server = start();
    String far = "/v1/stream/far-expiry-" + System.nanoTime();
    String longTtl = "/v1/stream/long-ttl-" + System.nanoTime();
    assertEquals(201, send(server, "PUT", far, "application/json", "[1]", "Stream-Expires-At", "2100-01-01T00:00:00Z").statusCode());
    assertEquals(201, send(server, "PUT", longTtl, "application/json", "[1]", "Stream-TTL", "999999999999").statusCode());
    for (String path : List.of(far, longTtl)) {
      assertEquals(204, send(server, "POST", path, "application/json", "[2]").statusCode(), path);
      assertEquals("[1,2]", send(server, "GET", path + "?offset=-1", null, null).body(), path);
    }
    server.close();
    started.remove(server);

    server = start();
    assertEquals("2100-01-01T00:00:00Z", header(send(server, "HEAD", far, null, null), "Stream-Expires-At"));
    assertEquals("999999999999", header(send(server, "HEAD", longTtl, null, null), "Stream-TTL"));
    for (String path : List.of(far, longTtl)) {
      assertEquals(204, send(server, "POST", path, "application/json", "[3]").statusCode(), path);
      assertEquals("[1,2,3]", send(server, "GET", path + "?offset=-1", null, null).body(), path);
    }
  }

  @Test
  void refusedRequestsChangeNothing() {
    server = start();
    String path = "/v1/stream/refused-" + System.nanoTime();
    assertEquals(201, send(server, "PUT", path, "application/json", "[1]").statusCode());
    String tail = header(send(server, "HEAD", path, null, null), "Stream-Next-Offset");
    String big = "[\"" + "x".repeat(70 * 1024) + "\"]";
    assertEquals(413, send(server, "POST", path, "application/json", big).statusCode());
    assertEquals(400, send(server, "POST", path, "application/json", "{not json").statusCode());
    assertEquals(400, send(server, "POST", path, "application/json", "[]").statusCode());
    assertEquals(409, send(server, "POST", path, "text/plain", "x").statusCode());
    assertEquals(400, send(server, "GET", path + "?offset=abc", null, null).statusCode());
    assertEquals(400, send(server, "GET", path + "?offset=0000000000000000_0000000000000099", null, null).statusCode());
    assertEquals(400, send(server, "PUT", "/v1/stream/" + "n".repeat(300), "text/plain", null).statusCode());
    // found by fuzzing: a valid timestamp beyond what epoch milliseconds hold was a 500
    assertEquals(400, send(server, "PUT", path + "-far", "application/json", null, "Stream-Expires-At", "+999999999-12-31T23:59:59Z").statusCode());
    assertEquals(tail, header(send(server, "HEAD", path, null, null), "Stream-Next-Offset"), "nothing was appended");
    assertEquals("[1]", send(server, "GET", path, null, null).body());
  }

  @Test
  void aSessionLogIsReadableWithTheProtocolsReadSide() throws Exception {
    server = start();
    String ada = server.token("ada", Role.USER);
    String session = "ds-log-" + System.nanoTime();
    assertEquals(201, server.call("POST", "/v1/sessions", ada, "{\"id\":\"" + session + "\"}").statusCode());
    for (int i = 0; i < 5; i++) {
      assertEquals(201, server.call("POST", "/v1/sessions/" + session + "/messages", ada, "{\"text\":\"m" + i + "\"}").statusCode());
    }
    String path = "/v1/sessions/" + session + "/stream";
    HttpResponse<String> catchUp = send(server, "GET", path + "?offset=-1", null, null, "Authorization", "Bearer " + ada);
    assertEquals(200, catchUp.statusCode());
    JsonNode events = json(catchUp.body());
    List<Long> offsets = new ArrayList<>();
    for (JsonNode e : events) offsets.add(e.get("offset").asLong());
    assertEquals(offsets.size(), offsets.stream().distinct().count());
    long head = offsets.get(offsets.size() - 1);
    assertEquals(String.format("0000000000000000_%016d", head), header(catchUp, "Stream-Next-Offset"));
    assertEquals("true", header(catchUp, "Stream-Up-To-Date"));

    // A live SSE reader from the middle gets every later event exactly once while more are written.
    long from = offsets.get(2);
    CompletableFuture<List<Long>> live = CompletableFuture.supplyAsync(() -> sseOffsets(path, from, head + 5, ada));
    for (int i = 5; i < 10; i++) {
      assertEquals(201, server.call("POST", "/v1/sessions/" + session + "/messages", ada, "{\"text\":\"m" + i + "\"}").statusCode());
    }
    List<Long> seen = live.get(30, TimeUnit.SECONDS);
    List<Long> want = new ArrayList<>();
    for (long o = from + 1; o <= seen.get(seen.size() - 1); o++) want.add(o);
    assertEquals(want, seen, "contiguous offsets after " + from + ", each once");
    assertTrue(seen.get(seen.size() - 1) >= head + 5);
    // The reader went away: its follower stops and the session no longer counts it.
    await(() -> json(server.call("GET", "/v1/sessions/" + session, ada, null).body()).get("subscribers").asInt() == 0,
        "the session log reader's follower is gone once its client disconnected");

    assertEquals(401, send(server, "GET", path + "?offset=-1", null, null).statusCode());
    assertEquals(400, send(server, "GET", path + "?offset=x", null, null, "Authorization", "Bearer " + ada).statusCode());
    assertEquals(400, send(server, "GET", path + "?offset=0000000000000000_0000000000009999", null, null,
        "Authorization", "Bearer " + ada).statusCode());
    HttpResponse<String> longPoll = send(server, "GET", path + "?offset=now&live=long-poll", null, null, "Authorization", "Bearer " + ada);
    assertEquals(204, longPoll.statusCode(), "nothing new within the long-poll timeout");
    assertFalse(header(longPoll, "Stream-Cursor").isEmpty());
  }

  List<Long> sseOffsets(String path, long from, long until, String token) {
    HttpRequest request = HttpRequest.newBuilder(URI.create(server.http() + path + "?live=sse&offset="
        + String.format("0000000000000000_%016d", from))).header("Authorization", "Bearer " + token).build();
    List<Long> seen = Collections.synchronizedList(new ArrayList<>());
    try {
      HttpResponse<InputStream> r = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
      assertEquals(200, r.statusCode());
      try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
        String event = null;
        String line;
        while ((seen.isEmpty() || seen.get(seen.size() - 1) < until) && (line = in.readLine()) != null) {
          if (line.startsWith("event: ")) event = line.substring(7);
          else if (line.startsWith("data:") && "data".equals(event)) {
            for (JsonNode e : json(line.substring(5))) seen.add(e.get("offset").asLong());
          }
        }
      }
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
    return seen;
  }

  static JsonNode json(String s) {
    try {
      return JSON.readTree(s);
    } catch (Exception e) {
      throw new IllegalStateException(s, e);
    }
  }

  static void await(BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) throw new AssertionError("not within 10 s: " + what);
      try {
        TimeUnit.MILLISECONDS.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }
}
