package dev.durablesessions.http.fuzz;

import static dev.durablesessions.http.fuzz.JsonText.array;
import static dev.durablesessions.http.fuzz.JsonText.number;
import static dev.durablesessions.http.fuzz.JsonText.object;
import static dev.durablesessions.http.fuzz.JsonText.raw;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.durablesessions.http.testing.WsClient;
import dev.durablesessions.session.Role;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.AfterProperty;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Every client frame type, valid and mutated (wrong types, sizes up to and over
 * {@code max-frame-size}, unicode, nesting, numbers at the edges, missing and extra fields,
 * broken JSON, binary messages), sent over real WebSockets of every role that may connect:
 * each frame gets exactly the answer docs/PROTOCOL.md promises (an {@code ack}, an {@code error}
 * with a documented code, or nothing for a valid heartbeat or receipt), the socket stays open
 * without a {@code closing} frame (only an acknowledged {@code leave} closes it), a refused
 * frame leaves the session's head where it was, and the node serves normally afterwards.
 *
 * <p>Each fuzzed frame is followed by a probe ({@code ack} without an offset, answered at once
 * with {@code invalid_offset}): once the probe is answered, every answer the frame will ever
 * get, except an append's (which travels through the session), has arrived.
 */
class SocketFrameFuzzTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final List<Role> ROLES = List.of(Role.AGENT, Role.USER, Role.SUPPORT, Role.OBSERVER);
  static FuzzServer node;
  static CaseCount count;
  static final AtomicLong unique = new AtomicLong();
  static String session;
  static final Map<Role, WsClient> sockets = new EnumMap<>(Role.class);
  static long head;
  static long openSignal;
  static int sinceRotation;
  static int rotations;

  static Map<String, Object> stamp() {
    return object("id", "p{n}", "epoch", number(0), "seq", number(0));
  }

  /** A valid frame of each type ({@code {n}} is unique per case, {@code {me}} the socket's subject). */
  static final List<Map<String, Object>> FRAMES = List.of(
      object("type", "message", "ref", "r{n}", "messageId", "m{n}", "text", "hello", "producer", stamp()),
      object("type", "stream.start", "ref", "r{n}", "messageId", "s{n}"),
      object("type", "stream.delta", "ref", "r{n}", "messageId", "open-{me}", "text", "tok", "producer", stamp()),
      object("type", "stream.end", "ref", "r{n}", "messageId", "open-{me}", "reason", "complete", "error", "none"),
      object("type", "signal", "ref", "r{n}", "kind", "interrupt", "to", object("role", "agent"), "text", "stop", "toolCallId", "call-open"),
      object("type", "signal", "ref", "r{n}", "kind", "steer", "to", object("participant", "bot"), "text", "left"),
      object("type", "signal.answer", "ref", "r{n}", "signal", raw("{signal}"), "outcome", "consumed", "text", "ok"),
      object("type", "status", "ref", "r{n}", "status", "thinking", "detail", "reading"),
      object("type", "suggestion", "ref", "r{n}", "text", "offer a refund"),
      object("type", "commit", "ref", "r{n}", "tool", "edit_file", "toolCallId", "call-open", "inputHash", "sha256:9b74",
          "outputSummary", "1 file changed", "provenance", "verified", "error", object("code", "timeout", "message", "slow"),
          "patch", array(object("op", "add", "path", "/files_modified/-", "value", "src/{n}.ts"),
              object("op", "add", "path", "/pending_actions/-", "value", object("id", "a{n}", "what", "deploy", "done", false))),
          "evictedKeys", array("file_3"), "producer", stamp()),
      object("type", "commit", "ref", "r{n}", "patch", array(object("op", "replace", "path", "/decisions_made",
          "value", array(object("what", "refund", "why", "double charge"))), object("op", "test", "path", "/tools_used", "value", array()))),
      object("type", "tool.call", "ref", "r{n}", "toolCallId", "c{n}", "name", "grep", "inputHash", "h"),
      object("type", "tool.result", "ref", "r{n}", "toolCallId", "call-open", "outcome", "ok", "summary", "3 hits",
          "error", object("code", "none", "message", "none")),
      object("type", "tool.approval.request", "ref", "r{n}", "toolCallId", "call-open", "approvalId", "ap{n}",
          "to", object("role", "user"), "input", object("path", "src/{n}.ts", "lines", array(number(1), number(2)), "force", false),
          "text", "may I delete it?", "producer", stamp()),
      object("type", "tool.approval.answer", "ref", "r{n}", "approvalId", "ap-open", "approved", true, "reason", "go ahead"),
      object("type", "turn.retry", "ref", "r{n}", "reason", "wrong answer"),
      object("type", "heartbeat", "ref", "r{n}", "offset", number(1)),
      object("type", "ack", "ref", "r{n}", "offset", number(2)),
      object("type", "leave", "ref", "r{n}"));

  /** The type of each field of each frame type (docs/PROTOCOL.md section 4); a frame with one of another type is refused. */
  static final Map<String, Map<String, Object>> FIELD_TYPES = fieldTypes();

  private static Map<String, Map<String, Object>> fieldTypes() {
    Schema.Kind s = Schema.Kind.STRING;
    Schema.Kind i = Schema.Kind.INTEGER;
    Map<String, Object> producer = Map.of("id", s, "epoch", i, "seq", i);
    Map<String, Object> error = Map.of("code", s, "message", s);
    Map<String, Map<String, Object>> types = new java.util.HashMap<>();
    types.put("message", Map.of("ref", s, "producer", producer, "messageId", s, "text", s));
    types.put("stream.start", Map.of("ref", s, "producer", producer, "messageId", s));
    types.put("stream.delta", Map.of("ref", s, "producer", producer, "messageId", s, "text", s));
    types.put("stream.end", Map.of("ref", s, "producer", producer, "messageId", s, "reason", s, "error", s));
    types.put("signal", Map.of("ref", s, "producer", producer, "kind", s, "to", Map.of("role", s, "participant", s), "text", s,
        "toolCallId", s));
    types.put("signal.answer", Map.of("ref", s, "producer", producer, "signal", i, "outcome", s, "text", s));
    types.put("status", Map.of("ref", s, "producer", producer, "status", s, "detail", s));
    types.put("suggestion", Map.of("ref", s, "producer", producer, "text", s));
    types.put("commit", Map.of("ref", s, "producer", producer, "tool", s, "toolCallId", s, "inputHash", s, "outputSummary", s,
        "provenance", s, "error", error, "patch", Schema.Kind.ARRAY, "evictedKeys", Schema.Kind.STRINGS));
    types.put("tool.call", Map.of("ref", s, "producer", producer, "toolCallId", s, "name", s, "inputHash", s));
    types.put("tool.result", Map.of("ref", s, "producer", producer, "toolCallId", s, "outcome", s, "summary", s, "error", error));
    types.put("tool.approval.request", Map.of("ref", s, "producer", producer, "toolCallId", s, "approvalId", s,
        "to", Map.of("role", s, "participant", s), "text", s)); // input: any JSON value
    types.put("tool.approval.answer", Map.of("ref", s, "producer", producer, "approvalId", s, "approved", Schema.Kind.BOOLEAN,
        "reason", s));
    types.put("turn.retry", Map.of("ref", s, "producer", producer, "reason", s));
    types.put("heartbeat", Map.of("ref", s, "offset", i));
    types.put("ack", Map.of("ref", s, "offset", i));
    types.put("leave", Map.of("ref", s));
    return types;
  }

  @BeforeContainer
  static void start() {
    node = new FuzzServer("durable-sessions.http.socket.max-frame-size = 64KiB");
    count = new CaseCount("SocketFrameFuzzTest");
    rotate();
  }

  @AfterContainer
  static void stop() {
    sockets.values().forEach(WsClient::close);
    if (count != null) count.print();
    System.out.println("[fuzz] SocketFrameFuzzTest: " + rotations + " sessions");
    if (node != null) node.close();
  }

  /**
   * A fresh session with a socket per role, a user turn, an agent stream and tool call left open,
   * an approval of that call for users to decide and a signal to answer; returns once every write the connections cause is done.
   */
  static void rotate() {
    rotations++;
    sockets.values().forEach(WsClient::close);
    sockets.clear();
    session = "fz-ws-" + unique.incrementAndGet();
    node.create(session);
    for (Role role : ROLES) connect(role);
    answered(Role.USER, "{\"type\":\"message\",\"ref\":\"turn\",\"text\":\"help\"}");
    answered(Role.AGENT, "{\"type\":\"stream.start\",\"ref\":\"open\",\"messageId\":\"open-bot\"}");
    answered(Role.AGENT, "{\"type\":\"tool.call\",\"ref\":\"call\",\"toolCallId\":\"call-open\",\"name\":\"grep\"}");
    answered(Role.AGENT, "{\"type\":\"tool.approval.request\",\"ref\":\"ask\",\"toolCallId\":\"call-open\",\"approvalId\":\"ap-open\","
        + "\"to\":{\"role\":\"user\"}}");
    openSignal = answered(Role.USER, "{\"type\":\"signal\",\"ref\":\"sig\",\"kind\":\"interrupt\",\"to\":{\"role\":\"agent\"}}");
    head = node.head(session);
    sinceRotation = 0;
  }

  static void connect(Role role) {
    WsClient ws = WsClient.connect(node.server.ws(session, 0), node.token(role));
    sockets.put(role, ws);
    // through the session after this connection's join: once answered, the join and attach are written
    ws.trySend("{\"type\":\"signal.answer\",\"ref\":\"settle\",\"signal\":-1,\"outcome\":\"consumed\"}");
    JsonNode settled = answer(ws, "settle", role + " connecting");
    assertEquals(role == Role.OBSERVER ? "forbidden" : "signal_not_found", settled.path("code").asText(), settled.toString());
  }

  /** Sends a valid append and returns the offset its ack gives. */
  static long answered(Role role, String frame) {
    WsClient ws = sockets.get(role);
    ws.trySend(frame);
    JsonNode answer = answer(ws, read(frame).path("ref").asText(), "setup frame " + frame);
    assertEquals("ack", answer.path("type").asText(), "setup frame " + frame + " -> " + answer);
    return answer.path("offset").asLong();
  }

  /** The answer with this ref; if the socket ends first, a failure that says how, with every control frame it got. */
  static JsonNode answer(WsClient ws, String ref, String what) {
    List<JsonNode> control = new ArrayList<>();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      JsonNode f;
      try {
        f = ws.frames.poll(50, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
      if (f == null) {
        if (ws.closed.isDone()) fail(what + ": the socket closed (" + ws.closed.getNow(null) + ") after " + control);
        continue;
      }
      if (!WsClient.isEvent(f)) control.add(f);
      if (ref.equals(f.path("ref").asText()) && f.path("type").asText().matches("ack|error")) return f;
    }
    return fail(what + ": no answer within 10 s, after " + control);
  }

  static JsonNode read(String text) {
    try {
      return JSON.readTree(text);
    } catch (Exception e) {
      return null;
    }
  }

  /** Every frame type alike, but leave, which ends the socket (and so costs a new session), less often. */
  @Provide
  Arbitrary<Map<String, Object>> frames() {
    return Arbitraries.frequencyOf(
        Tuple.of(60, Arbitraries.of(FRAMES.subList(0, FRAMES.size() - 1))), Tuple.of(1, Arbitraries.just(FRAMES.get(FRAMES.size() - 1))));
  }

  @Provide
  Arbitrary<List<Mutation>> plans() {
    return Mutation.plans(70_000, List.of("type", "ref", "messageId", "text", "producer", "id", "epoch", "seq", "reason", "error",
        "kind", "to", "role", "participant", "toolCallId", "signal", "outcome", "status", "detail", "tool", "inputHash",
        "outputSummary", "provenance", "patch", "op", "path", "from", "value", "evictedKeys", "name", "summary", "offset",
        "approvalId", "approved", "input"));
  }

  @Provide
  Arbitrary<Role> roles() {
    return Arbitraries.frequencyOf(Tuple.of(6, Arbitraries.just(Role.AGENT)), Tuple.of(3, Arbitraries.just(Role.USER)),
        Tuple.of(2, Arbitraries.just(Role.SUPPORT)), Tuple.of(1, Arbitraries.just(Role.OBSERVER)));
  }

  @Provide
  Arbitrary<Boolean> binary() {
    return Arbitraries.frequencyOf(Tuple.of(40, Arbitraries.just(false)), Tuple.of(1, Arbitraries.just(true)));
  }

  @Property(tries = 3200, shrinking = ShrinkingMode.BOUNDED)
  void everyFrameGetsItsDocumentedAnswerTheSocketStaysOpenAndRefusedFramesChangeNothing(
      @ForAll("frames") Map<String, Object> frame, @ForAll("plans") List<Mutation> plan, @ForAll("roles") Role role,
      @ForAll("binary") boolean binary) throws Exception {
    long n = unique.incrementAndGet();
    String text = Mutation.apply(frame, plan).replace("{n}", Long.toString(n))
        .replace("{me}", FuzzServer.SUBJECTS.get(role)).replace("{signal}", Long.toString(openSignal));
    String context = role + " " + plan + (binary ? " as binary" : "") + ": " + RawHttp.abbreviate(text);
    WsClient ws = sockets.get(role);
    String probe = "probe-" + n;
    if (binary) ws.socket.sendBinary(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)), true).join();
    else ws.send(text);
    // an acknowledged leave may have closed the socket already: then the probe goes nowhere
    ws.trySend("{\"type\":\"ack\",\"ref\":\"" + probe + "\"}");

    JsonNode parsed = binary ? null : read(text);
    String type = parsed != null && parsed.isObject() ? parsed.path("type").asText("") : "";
    boolean mayGoUnanswered = !binary && parsed != null && parsed.isObject() && parsed.path("type").isTextual()
        && (type.equals("heartbeat") || type.equals("ack"));
    List<JsonNode> answers = new ArrayList<>();
    boolean probed = false;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!probed || (answers.isEmpty() && !mayGoUnanswered)) {
      JsonNode f = ws.frames.poll(50, TimeUnit.MILLISECONDS);
      if (f == null) {
        // an acknowledged leave is the last answer: the socket closes and the probe is never read
        boolean left = type.equals("leave") && answers.stream().anyMatch(a -> a.path("type").asText().equals("ack"));
        if (ws.closed.isDone() && left) break;
        if (ws.closed.isDone()) fail("the socket was dropped without a closing frame: " + context);
        if (System.nanoTime() > deadline) fail("no answer within 10 s (a hang)" + (probed ? "" : ", not even to the probe") + ": " + context);
        continue;
      }
      String t = f.path("type").asText();
      if (t.equals("closing")) fail("the server closed the socket (" + f + ") on: " + context);
      if (!t.equals("ack") && !t.equals("error")) continue; // an event, for this socket or from another one's append
      if (probe.equals(f.path("ref").asText()) && t.equals("error")) {
        assertEquals("invalid_offset", f.path("code").asText(), f.toString());
        probed = true;
      } else {
        answers.add(f);
      }
    }
    assertTrue(answers.size() <= 1, "one answer per frame, got " + answers + " for: " + context);

    JsonNode answer = answers.isEmpty() ? null : answers.get(0);
    Map<String, Object> fieldTypes = parsed != null && parsed.isObject() && parsed.path("type").isTextual() ? FIELD_TYPES.get(type) : null;
    String wrong = fieldTypes == null ? null : Schema.wrongType(parsed, fieldTypes);
    if (wrong != null) {
      assertTrue(answer != null && answer.path("type").asText().equals("error"),
          "a frame whose " + wrong + " has the wrong type was not refused: " + context + " -> " + answer);
    }
    if (answer != null && answer.path("type").asText().equals("error")) {
      count.refused();
      Documented.assertRefusal(answer.path("code").asText(), context + " -> " + answer);
      assertEquals(head, node.head(session), "a refused frame changed the session: " + context + " -> " + answer);
      assertTrue(!ws.closed.isDone(), "the socket closed after an error: " + context);
    } else {
      count.accepted();
      head = node.head(session);
      if (answer != null && type.equals("leave")) {
        assertEquals(1000, (int) ws.closed.get(10, TimeUnit.SECONDS), "after leave the socket closes normally");
        rotate(); // a new session: nothing the old socket's ending writes can reach it
      }
    }
    assertTrue(!ws.closed.isDone() || type.equals("leave"), "the socket closed without a closing frame: " + context);
    if (++sinceRotation >= 500) rotate();
    if (count.cases() % 500 == 0) node.assertStillServing("socket-frames-" + count.cases()); // after each batch of 500
  }

  @AfterProperty
  void nodeStillServes() throws Exception {
    rotate();
    long offset = answered(Role.USER, "{\"type\":\"message\",\"ref\":\"alive\",\"text\":\"still here\"}");
    assertEquals(offset, node.head(session));
    node.assertStillServing("socket-frames");
  }
}
