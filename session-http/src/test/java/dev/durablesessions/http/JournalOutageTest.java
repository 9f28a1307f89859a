package dev.durablesessions.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.durablesessions.http.testing.TestServer;
import dev.durablesessions.http.testing.WsClient;
import dev.durablesessions.session.Role;
import dev.durablesessions.session.metrics.SessionMetrics;
import dev.durablesessions.durablestream.StreamEvent;
import dev.durablesessions.testing.TemporaryPostgres;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.apache.pekko.persistence.query.EventEnvelope;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.persistence.query.javadsl.CurrentEventsByPersistenceIdQuery;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.Test;

/**
 * The journal's PostgreSQL goes away while an agent streams into a session over its socket, a
 * client posts messages over REST and a producer appends to a Durable Stream, and comes back.
 * The server runs its own PostgreSQL ({@link TemporaryPostgres}), stopped as if killed.
 */
class JournalOutageTest {
  /** Every ask timeout of the node (sessions over REST and sockets, streams). */
  static final Duration ASK = Duration.ofSeconds(3);
  /** An answer may come this much after the ask timeout (scheduling, HTTP). */
  static final Duration SLACK = Duration.ofSeconds(2);
  static final Duration PHASE = Duration.ofSeconds(45);
  static final String OVERRIDES = """
      durable-sessions.http.ask-timeout = 3s
      durable-sessions.http.socket.ask-timeout = 3s
      durable-sessions.http.socket.heartbeat-timeout = 0
      durable-sessions.streams.ask-timeout = 3s
      # the outage is under test here, not stream tokens (StreamContract covers those)
      durable-sessions.streams.open = on
      durable-sessions.http.limits.appends.count = 0
      """;
  static final ObjectMapper JSON = new ObjectMapper();

  final HttpClient http = HttpClient.newHttpClient();
  TestServer server;

  @Test
  void writesDuringAnOutageAreRefusedRetryablyInTimeAndEveryAcknowledgedWriteIsKeptExactlyOnce() throws Exception {
    try (TemporaryPostgres pg = TemporaryPostgres.start(); TestServer node = new TestServer(pg.database(), OVERRIDES)) {
      server = node;
      String user = node.token("ada", Role.USER);
      String agent = node.token("bot", Role.AGENT);
      String streamed = createSession(user);
      String posted = createSession(user);
      String idle = createSession(user);
      String stream = "outage-" + UUID.randomUUID();
      String idleStream = "outage-idle-" + UUID.randomUUID();
      assertEquals(201, send("PUT", "/v1/stream/" + stream, null, "", Map.of("Content-Type", "application/json")).statusCode());
      assertEquals(201, send("PUT", "/v1/stream/" + idleStream, null, "[\"kept\"]", Map.of("Content-Type", "application/json")).statusCode());

      try (WsClient reader = WsClient.connect(node.ws(streamed, 0) + "&device=phone", user);
          WsClient agentSocket = WsClient.connect(node.ws(streamed, 0) + "&device=worker", agent)) {
        reader.nextOfType("attached");
        agentSocket.nextOfType("attached");
        List<Writer> writers = List.of(new SocketWriter(agentSocket), new RestWriter(posted, user), new StreamWriter(stream));
        writers.forEach(Writer::start);

        awaitTrue("every writer is acknowledged before the outage", () -> writers.stream().allMatch(w -> w.acked() >= 15));
        pg.stopServer();

        // A session first started during the outage cannot recover: its request waits in it, and times out.
        CompletableFuture<Answer> startingSession = CompletableFuture.supplyAsync(
            () -> timed("GET", "/v1/sessions/outage-new-" + UUID.randomUUID(), user, null, Map.of()));
        // A session in memory answers, but its history is read from the journal: unavailable.
        Answer history = timed("GET", "/v1/sessions/" + idle + "/events?after=0", user, null, Map.of());
        assertEquals(503, history.status(), history.body());
        assertEquals("unavailable", JSON.readTree(history.body()).path("error").path("code").asText(), history.body());
        assertTrue(history.retryAfter(), "a 503 says when to retry");
        // A stream in memory is read from memory: it keeps serving reads.
        Answer read = timed("GET", "/v1/stream/" + idleStream + "?offset=-1", null, null, Map.of());
        assertEquals(200, read.status(), read.body());
        assertEquals("[\"kept\"]", read.body());
        assertEquals(200, timed("GET", "/health", null, null, Map.of()).status());

        awaitTrue("every writer is refused as unavailable while the database is down",
            () -> writers.stream().allMatch(w -> w.refusals("unavailable") >= 3));
        Answer starting = startingSession.get(PHASE.toSeconds(), TimeUnit.SECONDS);
        assertEquals(503, starting.status(), starting.body());
        assertEquals("timeout", JSON.readTree(starting.body()).path("error").path("code").asText(), starting.body());
        assertTrue(starting.retryAfter(), "a 503 says when to retry");
        assertTrue(SessionMetrics.WAITING_FOR_JOURNAL.labelValues("session").get() > 0, "sessions wait for the journal");
        assertTrue(SessionMetrics.WAITING_FOR_JOURNAL.labelValues("stream").get() > 0, "streams wait for the journal");

        pg.startServer();
        long restarted = System.nanoTime();
        int[] before = writers.stream().mapToInt(Writer::acked).toArray();
        awaitTrue("every writer is acknowledged again after the database is back, without restarting the node", () -> {
          for (int i = 0; i < writers.size(); i++) if (writers.get(i).acked() < before[i] + 15) return false;
          return true;
        });
        System.out.printf("journal outage: writers served again %d ms after the database restarted; refusals %s%n",
            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - restarted), writers.stream().map(Writer::summary).toList());
        writers.forEach(Writer::finish);
        for (Writer w : writers) assertTrue(w.problems.isEmpty(), w.name + ": " + w.problems);

        SocketWriter socketWriter = (SocketWriter) writers.get(0);
        assertEquals(socketWriter.expectedText(), streamedText(streamed, user),
            "the streamed message holds every acknowledged delta exactly once, in order");
        assertEquals(((RestWriter) writers.get(1)).expected(), postedTexts(posted, user),
            "every acknowledged message is in the journal exactly once, in order");
        StreamWriter streamWriter = (StreamWriter) writers.get(2);
        assertEquals(streamWriter.expected(), journalValues(stream), "every acknowledged append is in the journal exactly once");
        assertEquals(streamWriter.expected(), readValues(stream), "and the stream serves exactly those");
        List<Long> offsets = history(streamed, user).stream().map(e -> e.path("offset").asLong()).toList();
        assertEquals(offsets, delivered(reader, offsets.get(offsets.size() - 1)),
            "the reader's socket got every event exactly once, in order, across the outage");
      }
      awaitTrue("no entity is left waiting for the journal", () ->
          SessionMetrics.WAITING_FOR_JOURNAL.labelValues("session").get() == 0
              && SessionMetrics.WAITING_FOR_JOURNAL.labelValues("stream").get() == 0);
    }
  }

  // ---------------------------------------------------------------- writers

  /**
   * Writes items 0, 1, 2, ... one at a time; an item refused as timeout or unavailable is
   * sent again with the same producer stamp until it is acknowledged. Every answer must come
   * within the ask timeout (and slack); any other answer is a problem.
   */
  abstract static class Writer extends Thread {
    final String name;
    final AtomicInteger acked = new AtomicInteger();
    final Map<String, AtomicInteger> refusals = new ConcurrentHashMap<>();
    final Queue<String> problems = new ConcurrentLinkedQueue<>();
    volatile boolean finishing;

    Writer(String name) {
      super("outage-writer-" + name);
      this.name = name;
      setDaemon(true);
    }

    /** Sends item {@code seq}: null when acknowledged, else the refusal's code. */
    abstract String attempt(int seq) throws Exception;

    /** After the last acknowledged item (optional). */
    void end() throws Exception {}

    @Override
    public void run() {
      try {
        int seq = 0;
        boolean inHand = false;
        // Finishing stops only right after an acknowledgement: no item is left refused and perhaps written later.
        while (!finishing || inHand) {
          long started = System.nanoTime();
          String refused = attempt(seq);
          Duration took = Duration.ofNanos(System.nanoTime() - started);
          if (took.compareTo(ASK.plus(SLACK)) > 0) problems.add("item " + seq + " answered after " + took.toMillis() + " ms");
          inHand = refused != null;
          if (refused == null) {
            acked.set(++seq);
            LockSupport.parkNanos(Duration.ofMillis(20).toNanos()); // a producer's pace, not a wait for anything
          } else if (refused.equals("timeout") || refused.equals("unavailable")) {
            refusals.computeIfAbsent(refused, r -> new AtomicInteger()).incrementAndGet();
            LockSupport.parkNanos(Duration.ofMillis(200).toNanos()); // a client's retry pause
          } else {
            problems.add("item " + seq + " refused with " + refused);
            return;
          }
        }
        end();
      } catch (Throwable e) {
        problems.add(e.toString());
      }
    }

    int acked() {
      return acked.get();
    }

    int refusals(String code) {
      AtomicInteger n = refusals.get(code);
      return n == null ? 0 : n.get();
    }

    String summary() {
      return name + " " + acked() + " acked, " + refusals;
    }

    /** Stops after the item in hand is acknowledged. */
    void finish() {
      finishing = true;
      try {
        join(PHASE.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      if (isAlive()) problems.add("did not finish");
    }
  }

  /** An agent streams deltas (coalesced by the session) over its socket. */
  final class SocketWriter extends Writer {
    final WsClient socket;
    int attempts;

    SocketWriter(WsClient socket) {
      super("socket");
      this.socket = socket;
    }

    @Override
    String attempt(int seq) {
      String ref = "r" + seq + "-" + attempts++;
      String stamp = "\"producer\":{\"id\":\"tokens\",\"epoch\":1,\"seq\":" + seq + "}";
      String frame = seq == 0
          ? "{\"type\":\"stream.start\",\"ref\":\"" + ref + "\",\"messageId\":\"answer\"," + stamp + "}"
          : "{\"type\":\"stream.delta\",\"ref\":\"" + ref + "\",\"messageId\":\"answer\",\"text\":\"t" + seq + " \"," + stamp + "}";
      socket.send(frame);
      JsonNode answer = socket.next(f -> ref.equals(f.path("ref").asText()));
      if (answer.path("type").asText().equals("ack")) return null;
      return answer.path("code").asText();
    }

    @Override
    void end() {
      socket.send("{\"type\":\"stream.end\",\"ref\":\"end\",\"messageId\":\"answer\",\"reason\":\"complete\","
          + "\"producer\":{\"id\":\"tokens\",\"epoch\":1,\"seq\":" + acked() + "}}");
      JsonNode answer = socket.next(f -> "end".equals(f.path("ref").asText()));
      if (!answer.path("type").asText().equals("ack")) problems.add("stream.end answered " + answer);
    }

    /** Deltas 1..n as the message should read (item 0 opened the stream). */
    String expectedText() {
      StringBuilder text = new StringBuilder();
      for (int seq = 1; seq < acked(); seq++) text.append('t').append(seq).append(' ');
      return text.toString();
    }
  }

  /** A client posts messages with a producer stamp. */
  final class RestWriter extends Writer {
    final String session;
    final String token;

    RestWriter(String session, String token) {
      super("rest");
      this.session = session;
      this.token = token;
    }

    @Override
    String attempt(int seq) throws Exception {
      String body = "{\"text\":\"m" + seq + "\",\"producer\":{\"id\":\"posts\",\"epoch\":1,\"seq\":" + seq + "}}";
      Answer a = timed("POST", "/v1/sessions/" + session + "/messages", token, body, Map.of());
      if (a.status() == 201 || a.status() == 200) return null;
      if (a.status() == 503 && !a.retryAfter()) problems.add("503 without Retry-After");
      return JSON.readTree(a.body()).path("error").path("code").asText(a.status() + " " + a.body());
    }

    List<String> expected() {
      List<String> texts = new ArrayList<>();
      for (int seq = 0; seq < acked(); seq++) texts.add("m" + seq);
      return texts;
    }
  }

  /** A Durable Streams producer appends JSON values with Producer-Id, -Epoch and -Seq. */
  final class StreamWriter extends Writer {
    final String stream;

    StreamWriter(String stream) {
      super("stream");
      this.stream = stream;
    }

    @Override
    String attempt(int seq) {
      Answer a = timed("POST", "/v1/stream/" + stream, null, "\"v" + seq + "\"", Map.of("Content-Type", "application/json",
          "Producer-Id", "appender", "Producer-Epoch", "0", "Producer-Seq", Integer.toString(seq)));
      if (a.status() == 200 || a.status() == 204) return null;
      if (a.status() != 503) return a.status() + " " + a.body();
      if (!a.retryAfter()) problems.add("503 without Retry-After");
      // The protocol's errors are plain text: the message tells a journal failure from a timeout.
      return a.body().startsWith("the journal is unavailable") ? "unavailable"
          : a.body().contains("did not answer in time") ? "timeout" : "503 " + a.body();
    }

    List<String> expected() {
      List<String> values = new ArrayList<>();
      for (int seq = 0; seq < acked(); seq++) values.add("\"v" + seq + "\"");
      return values;
    }
  }

  // ---------------------------------------------------------------- reading back

  /** The text of the streamed message, from the session's history (which is read from the journal). */
  String streamedText(String session, String token) throws Exception {
    StringBuilder text = new StringBuilder();
    int started = 0;
    int ended = 0;
    for (JsonNode e : history(session, token)) {
      String type = e.path("type").asText();
      if (!"answer".equals(e.path("messageId").asText())) continue;
      if (type.equals("stream.started")) started++;
      if (type.equals("stream.ended")) ended++;
      if (type.equals("stream.delta")) text.append(e.path("text").asText());
    }
    assertEquals(1, started, "stream.started once");
    assertEquals(1, ended, "stream.ended once");
    return text.toString();
  }

  List<String> postedTexts(String session, String token) throws Exception {
    List<String> texts = new ArrayList<>();
    for (JsonNode e : history(session, token)) {
      if (e.path("type").asText().equals("message")) texts.add(e.path("text").asText());
    }
    return texts;
  }

  List<JsonNode> history(String session, String token) throws Exception {
    List<JsonNode> events = new ArrayList<>();
    long after = 0;
    while (true) {
      HttpResponse<String> page = send("GET", "/v1/sessions/" + session + "/events?after=" + after + "&limit=1000", token, null, Map.of());
      assertEquals(200, page.statusCode(), page.body());
      JsonNode body = JSON.readTree(page.body());
      body.path("events").forEach(events::add);
      after = body.path("next").asLong();
      if (!body.path("hasMore").asBoolean()) return events;
    }
  }

  /** The stream's appends as the journal holds them. */
  List<String> journalValues(String stream) throws Exception {
    var query = PersistenceQuery.get(server.kit.system().classicSystem())
        .getReadJournalFor(CurrentEventsByPersistenceIdQuery.class, "jdbc-read-journal");
    return query.currentEventsByPersistenceId("DStream|" + stream, 0, Long.MAX_VALUE)
        .map(EventEnvelope::event)
        .filter(e -> e instanceof StreamEvent.Appended)
        .map(e -> new String(((StreamEvent.Appended) e).data(), StandardCharsets.UTF_8))
        .runWith(Sink.seq(), server.kit.system())
        .toCompletableFuture().get(PHASE.toSeconds(), TimeUnit.SECONDS);
  }

  /** The stream's values as a reader gets them, page by page. */
  List<String> readValues(String stream) throws Exception {
    List<String> values = new ArrayList<>();
    String offset = "-1";
    while (true) {
      HttpResponse<String> page = send("GET", "/v1/stream/" + stream + "?offset=" + offset, null, null, Map.of());
      assertEquals(200, page.statusCode(), page.body());
      JSON.readTree(page.body()).forEach(v -> values.add(v.toString()));
      offset = page.headers().firstValue("Stream-Next-Offset").orElseThrow();
      if (page.headers().firstValue("Stream-Up-To-Date").isPresent()) return values;
    }
  }

  /** The offsets of the events a socket received, up to {@code last}. */
  static List<Long> delivered(WsClient reader, long last) {
    List<Long> offsets = new ArrayList<>();
    long deadline = System.nanoTime() + PHASE.toNanos();
    while ((offsets.isEmpty() || offsets.get(offsets.size() - 1) < last) && System.nanoTime() < deadline) {
      JsonNode frame = reader.next();
      if (WsClient.isEvent(frame)) offsets.add(frame.path("offset").asLong());
    }
    return offsets;
  }

  // ---------------------------------------------------------------- helpers

  String createSession(String token) throws Exception {
    String id = "outage-" + UUID.randomUUID();
    HttpResponse<String> created = send("POST", "/v1/sessions", token, "{\"id\":\"" + id + "\"}", Map.of());
    assertEquals(201, created.statusCode(), created.body());
    return id;
  }

  record Answer(int status, String body, boolean retryAfter) {}

  /** One request that must be answered: a hang past the ask timeout fails the request. */
  Answer timed(String method, String path, String token, String body, Map<String, String> headers) {
    try {
      HttpResponse<String> r = send(method, path, token, body, headers);
      return new Answer(r.statusCode(), r.body(), r.headers().firstValue("Retry-After").isPresent());
    } catch (Exception e) {
      throw new AssertionError(method + " " + path + ": " + e, e);
    }
  }

  HttpResponse<String> send(String method, String path, String token, String body, Map<String, String> headers)
      throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server.http() + path))
        .timeout(ASK.plus(SLACK).plus(SLACK))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (token != null) b.header("Authorization", "Bearer " + token);
    headers.forEach(b::header);
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  static void awaitTrue(String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + PHASE.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) throw new AssertionError("not within " + PHASE + ": " + what);
      LockSupport.parkNanos(Duration.ofMillis(50).toNanos());
    }
  }
}
