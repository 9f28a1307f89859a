package dev.durablesessions.http.authz;

import static dev.durablesessions.http.authz.Answer.FORBIDDEN;
import static dev.durablesessions.http.authz.Answer.FORBIDDEN_FRAME;
import static dev.durablesessions.http.authz.Answer.ack;
import static dev.durablesessions.http.authz.Answer.denied;
import static dev.durablesessions.http.authz.Answer.deniedFrame;
import static dev.durablesessions.http.authz.Answer.ok;
import static dev.durablesessions.http.authz.Answer.silent;
import static dev.durablesessions.http.authz.Answer.state;
import static dev.durablesessions.http.authz.Answer.stateFrame;
import static dev.durablesessions.http.authz.Caller.IN_PREFIX;

import com.fasterxml.jackson.databind.JsonNode;
import dev.durablesessions.http.authz.Row.Scene;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The authorization matrix: every route of docs/PROTOCOL.md's Methods table, every Durable
 * Streams method and every client frame type, by every caller (see {@link Caller}), with the
 * answer each gets. {@code ok} and {@code state} answers passed authorization (a state answer
 * is the session refusing for its phase); {@code denied} answers are 401s and 403s. Unless a
 * row says otherwise, tokens whose patterns miss what the row touches get 403 (for a frame: at
 * the socket upgrade), and a missing or invalid token gets 401.
 *
 * <p>Durable Streams rows are for streams that need a token, the default (the test's node
 * says so: {@code durable-sessions.streams.open = off}): of any role, whose patterns cover the
 * stream's name.
 */
final class Matrix {
  private Matrix() {}

  private static final Answer OK200 = ok(200);
  private static final Answer OK201 = ok(201);
  private static final Answer OK204 = ok(204);
  private static final Answer ACK = ack();
  private static final Answer NOT_INVITED = denied(403, "not_invited");
  private static final Answer NOT_ADDRESSEE = deniedFrame("not_addressee");
  private static final Answer NOT_ADDRESSEE_REST = denied(403, "not_addressee");

  static List<Row> rows() {
    List<Row> rows = new ArrayList<>();
    rows.addAll(rest());
    rows.addAll(streams());
    rows.addAll(frames());
    return rows;
  }

  // The answers of the in-pattern tokens, in(...), and of the out-of-pattern ones, out(...), go
  // by role:  agent, user, human, support, observer, admin.

  private static List<Row> rest() {
    return List.of(
        Row.rest("GET /health").everyone(OK200),
        Row.rest("GET /metrics").everyone(OK200),
        Row.rest("GET /console").everyone(OK200),
        Row.rest("GET /chat").everyone(OK200),
        Row.rest("GET /web/{file}").everyone(OK200),
        // Any valid token reaches MCP; each tool call is then checked like its REST twin (McpContract).
        Row.rest("POST /mcp").body("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}")
            .in(OK200).out(OK200, OK200, OK200, OK200, OK200, OK200),

        Row.rest("POST /v1/sessions").writes()
            .perCell((n, fx, c) -> Scene.session(Node.newId(IN_PREFIX + "new-")))
            .body(s -> "{\"id\":\"" + s.session() + "\"}")
            .in(OK201, OK201, OK201, OK201, FORBIDDEN, OK201),
        Row.rest("GET /v1/sessions").query("limit=1000").check(Matrix::listsOnlyCoveredSessions)
            .in(FORBIDDEN, FORBIDDEN, FORBIDDEN, OK200, FORBIDDEN, OK200)
            .out(FORBIDDEN, FORBIDDEN, FORBIDDEN, OK200, FORBIDDEN, OK200),
        Row.rest("GET /v1/sessions/{id}").shared(Matrix::fixtureSession).in(OK200),
        Row.rest("DELETE /v1/sessions/{id}").writes().perCell(Matrix::newSession)
            .in(FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK200),
        Row.rest("GET /v1/sessions/{id}/events").shared(Matrix::fixtureSession).in(OK200),
        Row.rest("POST /v1/sessions/{id}/messages").writes().shared(Matrix::newSession).body("{\"text\":\"hi\"}")
            .in(OK201, OK201, state(409, "floor_not_held"), OK201, FORBIDDEN, OK201),
        Row.rest("GET /v1/sessions/{id}/ws").upgrade().shared(Matrix::fixtureSession).in(ok(101)),
        Row.rest("POST /v1/sessions/{id}/approvals/{approvalId}").writes().when("a tool approval for the caller's role")
            .perCell((n, fx, c) -> n.pendingApproval("{\"role\":\"" + (c.role == null ? "user" : c.role.wire()) + "\"}"))
            .body("{\"approved\":true,\"reason\":\"fine\"}")
            .in(OK201, OK201, OK201, OK201, FORBIDDEN, OK201),
        Row.rest("POST /v1/sessions/{id}/approvals/{approvalId}").writes().when("a tool approval for someone else")
            .shared((n, fx, c) -> n.pendingApproval("{\"participant\":\"someone-else\"}"))
            .body("{\"approved\":false}")
            .in(NOT_ADDRESSEE_REST, NOT_ADDRESSEE_REST, NOT_ADDRESSEE_REST, NOT_ADDRESSEE_REST, FORBIDDEN, NOT_ADDRESSEE_REST),

        Row.rest("POST /v1/sessions/{id}/transfers").writes().when("agents have the floor").perCell(Matrix::newSession)
            .body("{\"mode\":\"warm\",\"to\":{\"participant\":\"nobody\"}}")
            .in(OK200, FORBIDDEN, FORBIDDEN, OK200, FORBIDDEN, OK200),
        Row.rest("POST /v1/sessions/{id}/transfers/accept").writes().when("a warm transfer offered to a queue")
            .perCell((n, fx, c) -> Scene.session(n.pendingTransfer("{\"queue\":\"" + Node.newId(IN_PREFIX + "q-") + "\"}")))
            .in(FORBIDDEN, FORBIDDEN, OK200, OK200, FORBIDDEN, OK200),
        Row.rest("POST /v1/sessions/{id}/transfers/accept").writes().when("a warm transfer offered to another participant")
            .shared((n, fx, c) -> Scene.session(n.pendingTransfer("{\"participant\":\"someone-else\"}")))
            .in(FORBIDDEN, FORBIDDEN, NOT_INVITED, NOT_INVITED, FORBIDDEN, NOT_INVITED),
        Row.rest("POST /v1/sessions/{id}/transfers/cancel").writes().when("a warm transfer pending")
            .perCell((n, fx, c) -> Scene.session(n.pendingTransfer("{\"participant\":\"nobody\"}")))
            .body("{\"reason\":\"matrix\"}")
            .in(FORBIDDEN, FORBIDDEN, FORBIDDEN, OK200, FORBIDDEN, OK200),
        // Authorization passes for support and admins; the session then refuses for its phase.
        Row.rest("POST /v1/sessions/{id}/transfers/cancel").writes().when("no transfer pending").shared(Matrix::newSession)
            .in(FORBIDDEN, FORBIDDEN, FORBIDDEN, state(409, "no_transfer_pending"), FORBIDDEN, state(409, "no_transfer_pending")),
        Row.rest("POST /v1/sessions/{id}/claim").writes().when("queued by a cold transfer")
            .perCell((n, fx, c) -> Scene.session(n.queued(IN_PREFIX, Node.newId(IN_PREFIX + "q-"))))
            .in(FORBIDDEN, FORBIDDEN, OK200, OK200, FORBIDDEN, OK200),
        Row.rest("POST /v1/sessions/{id}/handback").writes().when("the human caller has the floor (setup-human for the others)")
            .perCell(Matrix::callerOrSetupHumanInControl)
            .in(FORBIDDEN, FORBIDDEN, OK200, OK200, FORBIDDEN, OK200),
        Row.rest("POST /v1/sessions/{id}/handback").writes().when("another human has the floor")
            .perCell((n, fx, c) -> Scene.session(n.humanInControl("setup-human", n.setupHuman)))
            .in(FORBIDDEN, FORBIDDEN, state(409, "not_in_control"), OK200, FORBIDDEN, OK200),
        Row.rest("POST /v1/sessions/{id}/close").writes().when("agents have the floor").perCell(Matrix::newSession)
            .in(FORBIDDEN, FORBIDDEN, FORBIDDEN, OK200, FORBIDDEN, OK200),
        Row.rest("POST /v1/sessions/{id}/close").writes().when("the human caller has the floor (setup-human for the others)")
            .perCell(Matrix::callerOrSetupHumanInControl)
            .in(FORBIDDEN, FORBIDDEN, OK200, OK200, FORBIDDEN, OK200),

        Row.rest("GET /v1/sessions/{id}/state").shared(Matrix::fixtureSession).in(OK200),
        Row.rest("GET /v1/sessions/{id}/diff").query("from=0&to=0").shared(Matrix::fixtureSession).in(OK200),
        Row.rest("GET /v1/sessions/{id}/commits").shared(Matrix::fixtureSession).in(OK200),
        Row.rest("GET /v1/sessions/{id}/resume").shared(Matrix::fixtureSession).in(OK200),
        Row.rest("GET /v1/sessions/{id}/receipts").when("everyone's").shared(Matrix::fixtureSession)
            .in(FORBIDDEN, FORBIDDEN, OK200, OK200, FORBIDDEN, OK200),
        Row.rest("GET /v1/sessions/{id}/receipts").when("the caller's own").query("participant={sub}").shared(Matrix::fixtureSession)
            .in(OK200),
        Row.rest("GET /v1/sessions/{id}/audit").shared(Matrix::fixtureSession)
            .in(FORBIDDEN, FORBIDDEN, FORBIDDEN, OK200, FORBIDDEN, OK200),
        Row.rest("GET /v1/sessions/{id}/stream").query("offset=-1").shared(Matrix::fixtureSession).in(OK200),
        Row.rest("HEAD /v1/sessions/{id}/stream").shared(Matrix::fixtureSession).in(OK200),

        Row.rest("GET /v1/queues").check(Matrix::listsOnlyCoveredQueuedSessions)
            .in(FORBIDDEN, FORBIDDEN, OK200, OK200, FORBIDDEN, OK200)
            .out(FORBIDDEN, FORBIDDEN, OK200, OK200, FORBIDDEN, OK200),
        Row.rest("GET /v1/queues/{queue}").shared((n, fx, c) -> new Scene(null, fx.queue(), null, null, null))
            .check(Matrix::listsOnlyCoveredQueuedSessions)
            .in(FORBIDDEN, FORBIDDEN, OK200, OK200, FORBIDDEN, OK200)
            .out(FORBIDDEN, FORBIDDEN, OK200, OK200, FORBIDDEN, OK200),
        // A token that does not cover the waiting session finds nothing waiting, and claims nothing.
        Row.rest("POST /v1/queues/{queue}/claim").writes().when("an authz-… session waits")
            .perCell(Matrix::listedInAQueueOfItsOwn)
            .in(FORBIDDEN, FORBIDDEN, OK200, OK200, FORBIDDEN, OK200)
            .out(FORBIDDEN, FORBIDDEN, state(409, "not_queued"), state(409, "not_queued"), FORBIDDEN, state(409, "not_queued")),

        // Agent workers are agents (their token's patterns only limit which sessions they are given).
        Row.rest("GET /v1/workers").upgrade()
            .in(ok(101), FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN)
            .out(ok(101), FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
        Row.rest("GET /v1/pools")
            .in(FORBIDDEN, FORBIDDEN, FORBIDDEN, OK200, FORBIDDEN, OK200)
            .out(FORBIDDEN, FORBIDDEN, FORBIDDEN, OK200, FORBIDDEN, OK200),

        Row.rest("GET /v1/erasures").query("limit=1000").check(Matrix::listsOnlyCoveredErasures)
            .in(FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK200)
            .out(FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK200),
        Row.rest("GET /v1/erasures/{id}").shared((n, fx, c) -> Scene.session(fx.erasedIn()))
            .in(FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK200));
  }

  /** A token of any role whose patterns cover the stream's name may use it, observers included (PROTOCOL §12). */
  private static List<Row> streams() {
    return List.of(
        Row.stream("PUT /v1/stream/{name}").writes()
            .perCell((n, fx, c) -> Scene.stream(Node.newId(IN_PREFIX + "s-")))
            .headers(s -> Node.TEXT).body("first")
            .in(OK201),
        Row.stream("PUT /v1/stream/{name}").writes().when("a fork of a stream no caller's patterns cover")
            .perCell((n, fx, c) -> new Scene(null, null, Node.newId(IN_PREFIX + "fork-"), fx.secretStream(), null))
            .headers(s -> Map.of("Stream-Forked-From", "/v1/stream/" + s.source()))
            .in(denied(403)),
        Row.stream("POST /v1/stream/{name}").writes().shared((n, fx, c) -> Scene.stream(fx.stream()))
            .headers(s -> Node.TEXT).body("more")
            .in(OK204),
        Row.stream("GET /v1/stream/{name}").query("offset=-1").shared((n, fx, c) -> Scene.stream(fx.stream())).in(OK200),
        Row.stream("HEAD /v1/stream/{name}").shared((n, fx, c) -> Scene.stream(fx.stream())).in(OK200),
        Row.stream("DELETE /v1/stream/{name}").writes()
            .perCell((n, fx, c) -> Scene.stream(n.newStream(IN_PREFIX + "s-")))
            .in(OK204),
        // CORS preflight: answered without a token, and it does nothing.
        Row.stream("OPTIONS /v1/stream/{name}").shared((n, fx, c) -> Scene.stream(fx.stream())).everyone(OK204));
  }

  private static List<Row> frames() {
    return List.of(
        Row.frame("message", c -> "{\"type\":\"message\",\"text\":\"hi\"}")
            .in(ACK, ACK, stateFrame("floor_not_held"), ACK, FORBIDDEN_FRAME, ACK),
        Row.frame("stream.start", c -> start(c.tag))
            .in(ACK, ACK, stateFrame("floor_not_held"), ACK, FORBIDDEN_FRAME, ACK),
        Row.frame("stream.delta", c -> "{\"type\":\"stream.delta\",\"messageId\":\"" + c.given + "\",\"text\":\"x\"}")
            .when("its own stream, started if its role may").before(Matrix::startOwnStream)
            .in(ACK, ACK, stateFrame("stream_not_open"), ACK, FORBIDDEN_FRAME, ACK),
        Row.frame("stream.end", c -> "{\"type\":\"stream.end\",\"messageId\":\"" + c.given + "\",\"reason\":\"complete\"}")
            .when("its own stream, started if its role may").before(Matrix::startOwnStream)
            .in(ACK, ACK, stateFrame("stream_not_open"), ACK, FORBIDDEN_FRAME, ACK),
        Row.frame("signal", c -> "{\"type\":\"signal\",\"kind\":\"steer\",\"to\":{\"role\":\"agent\"},\"text\":\"shorter\"}")
            .in(ACK, ACK, ACK, ACK, FORBIDDEN_FRAME, ACK),
        Row.frame("signal.answer", Matrix::answerGivenSignal).when("a signal to the caller's role").withSetupSocket()
            .before(c -> c.setup("{\"type\":\"signal\",\"kind\":\"steer\",\"to\":{\"role\":\"" + c.caller.role.wire() + "\"}}")
                .path("offset").asText())
            .in(ACK, ACK, ACK, ACK, FORBIDDEN_FRAME, ACK),
        Row.frame("signal.answer", Matrix::answerGivenSignal).when("a signal to someone else").withSetupSocket()
            .before(c -> c.setup("{\"type\":\"signal\",\"kind\":\"steer\",\"to\":{\"participant\":\"someone-else\"}}")
                .path("offset").asText())
            .in(NOT_ADDRESSEE, NOT_ADDRESSEE, NOT_ADDRESSEE, NOT_ADDRESSEE, FORBIDDEN_FRAME, NOT_ADDRESSEE),
        Row.frame("status", c -> "{\"type\":\"status\",\"status\":\"thinking\"}")
            .in(ACK, FORBIDDEN_FRAME, FORBIDDEN_FRAME, FORBIDDEN_FRAME, FORBIDDEN_FRAME, FORBIDDEN_FRAME),
        Row.frame("suggestion", c -> "{\"type\":\"suggestion\",\"text\":\"offer a coupon\"}")
            .in(ACK, FORBIDDEN_FRAME, FORBIDDEN_FRAME, FORBIDDEN_FRAME, FORBIDDEN_FRAME, FORBIDDEN_FRAME),
        Row.frame("commit", c -> "{\"type\":\"commit\",\"tool\":\"matrix\",\"patch\":[]}")
            .in(ACK, FORBIDDEN_FRAME, ACK, ACK, FORBIDDEN_FRAME, ACK),
        Row.frame("note", c -> "{\"type\":\"note\",\"note\":{\"next\":[\"call back\"]}}")
            .in(ACK, FORBIDDEN_FRAME, ACK, ACK, FORBIDDEN_FRAME, ACK),
        Row.frame("tool.call", c -> toolCall(c.tag))
            .in(ACK, FORBIDDEN_FRAME, ACK, ACK, FORBIDDEN_FRAME, ACK),
        Row.frame("tool.result", c -> "{\"type\":\"tool.result\",\"toolCallId\":\"" + c.tag + "\",\"outcome\":\"ok\"}")
            .when("of its own call, made if its role may").before(c -> c.own(toolCall(c.tag)))
            .in(ACK, FORBIDDEN_FRAME, ACK, ACK, FORBIDDEN_FRAME, ACK),
        Row.frame("tool.result", c -> "{\"type\":\"tool.result\",\"toolCallId\":\"" + c.tag + "\",\"outcome\":\"ok\"}")
            .when("of a call setup-admin made").withSetupSocket().before(c -> c.setup(toolCall(c.tag)).toString())
            .in(FORBIDDEN_FRAME, FORBIDDEN_FRAME, ACK, ACK, FORBIDDEN_FRAME, ACK),
        Row.frame("tool.approval.request", c -> askApproval(c.tag, c.tag + "-ap", "{\"role\":\"user\"}"))
            .when("of its own call, made if its role may").before(c -> c.own(toolCall(c.tag)))
            .in(ACK, FORBIDDEN_FRAME, ACK, ACK, FORBIDDEN_FRAME, ACK),
        Row.frame("tool.approval.request", c -> askApproval(c.tag, c.tag + "-ap", "{\"role\":\"user\"}"))
            .when("of a call setup-admin made").withSetupSocket().before(c -> c.setup(toolCall(c.tag)).toString())
            .in(FORBIDDEN_FRAME, FORBIDDEN_FRAME, ACK, ACK, FORBIDDEN_FRAME, ACK),
        Row.frame("tool.approval.answer", Matrix::answerGivenApproval).when("an approval setup-admin asked of the caller's role")
            .withSetupSocket().before(c -> setupApproval(c, "{\"role\":\"" + c.caller.role.wire() + "\"}"))
            .in(ACK, ACK, ACK, ACK, FORBIDDEN_FRAME, ACK),
        Row.frame("tool.approval.answer", Matrix::answerGivenApproval).when("an approval setup-admin asked of someone else")
            .withSetupSocket().before(c -> setupApproval(c, "{\"participant\":\"someone-else\"}"))
            .in(NOT_ADDRESSEE, NOT_ADDRESSEE, NOT_ADDRESSEE, NOT_ADDRESSEE, FORBIDDEN_FRAME, NOT_ADDRESSEE),
        Row.frame("turn.retry", c -> "{\"type\":\"turn.retry\",\"reason\":\"again\"}").when("after a user message").afterAUserMessage()
            .in(ACK, FORBIDDEN_FRAME, FORBIDDEN_FRAME, FORBIDDEN_FRAME, FORBIDDEN_FRAME, FORBIDDEN_FRAME),
        Row.frame("turn.retry", c -> "{\"type\":\"turn.retry\",\"reason\":\"again\"}").when("before any user message")
            .in(stateFrame("no_turn"), FORBIDDEN_FRAME, FORBIDDEN_FRAME, FORBIDDEN_FRAME, FORBIDDEN_FRAME, FORBIDDEN_FRAME),
        Row.frame("heartbeat", c -> "{\"type\":\"heartbeat\"}").in(silent()),
        Row.frame("ack", c -> "{\"type\":\"ack\",\"offset\":1}").in(silent()),
        Row.frame("auth", c -> "{\"type\":\"auth\",\"token\":\"" + c.node.token(c.caller) + "\"}")
            .when("a fresh token of its own").in(ACK),
        Row.frame("auth", c -> "{\"type\":\"auth\",\"token\":\"" + c.node.token(anotherParticipant(c.caller)) + "\"}")
            .when("another participant's token").in(FORBIDDEN_FRAME),
        Row.frame("leave", c -> "{\"type\":\"leave\"}").in(ACK));
  }

  /** A caller with another subject and role than {@code caller}, covering the same sessions. */
  private static Caller anotherParticipant(Caller caller) {
    return Caller.in(caller == Caller.in(dev.durablesessions.session.Role.AGENT) ? dev.durablesessions.session.Role.USER : dev.durablesessions.session.Role.AGENT);
  }

  // ---------------------------------------------------------------- setups

  private static Scene fixtureSession(Node node, Fixture fixture, Caller caller) {
    return Scene.session(fixture.session());
  }

  private static Scene newSession(Node node, Fixture fixture, Caller caller) {
    return Scene.session(node.newSession());
  }

  private static Scene callerOrSetupHumanInControl(Node node, Fixture fixture, Caller caller) {
    return Scene.session(caller == Caller.HUMAN
        ? node.humanInControl(caller.subject(), node.token(caller))
        : node.humanInControl("setup-human", node.setupHuman));
  }

  private static Scene listedInAQueueOfItsOwn(Node node, Fixture fixture, Caller caller) {
    String queue = Node.newId(IN_PREFIX + "q-");
    String id = node.queued(IN_PREFIX, queue);
    node.awaitListed(queue, id);
    return new Scene(id, queue, null, null, null);
  }

  private static String start(String messageId) {
    return "{\"type\":\"stream.start\",\"messageId\":\"" + messageId + "\"}";
  }

  private static String startOwnStream(FrameCell c) {
    c.own(start(c.tag));
    return c.tag;
  }

  private static String toolCall(String id) {
    return "{\"type\":\"tool.call\",\"toolCallId\":\"" + id + "\",\"name\":\"lookup\"}";
  }

  private static String askApproval(String toolCallId, String approvalId, String to) {
    return "{\"type\":\"tool.approval.request\",\"toolCallId\":\"" + toolCallId + "\",\"approvalId\":\"" + approvalId
        + "\",\"to\":" + to + "}";
  }

  /** setup-admin calls a tool and asks {@code to} to approve it; the approval id. */
  private static String setupApproval(FrameCell c, String to) {
    c.setup(toolCall(c.tag));
    c.setup(askApproval(c.tag, c.tag + "-ap", to));
    return c.tag + "-ap";
  }

  private static String answerGivenApproval(FrameCell c) {
    return "{\"type\":\"tool.approval.answer\",\"approvalId\":\"" + c.given + "\",\"approved\":true}";
  }

  private static String answerGivenSignal(FrameCell c) {
    return "{\"type\":\"signal.answer\",\"signal\":" + c.given + ",\"outcome\":\"consumed\"}";
  }

  // ---------------------------------------------------------------- checks

  /** The session list holds only sessions the token covers, and the fixture's session it covers. */
  private static String listsOnlyCoveredSessions(Fixture fixture, Caller caller, HttpResponse<String> response) {
    List<String> ids = new ArrayList<>();
    Node.json(response.body()).path("sessions").forEach(id -> ids.add(id.asText()));
    return coveredOnly(caller, ids, caller.reach == Caller.Reach.IN ? fixture.session() : fixture.outSession());
  }

  /** A queue listing holds only sessions the token covers, and the one of the fixture's queue it covers. */
  private static String listsOnlyCoveredQueuedSessions(Fixture fixture, Caller caller, HttpResponse<String> response) {
    JsonNode body = Node.json(response.body());
    List<String> ids = new ArrayList<>();
    List<JsonNode> entries = new ArrayList<>();
    if (body.has("waiting")) body.path("waiting").forEach(entries::add);
    else body.path("queues").forEach(queue -> queue.forEach(entries::add));
    entries.forEach(e -> ids.add(e.path("sessionId").asText()));
    return coveredOnly(caller, ids, caller.reach == Caller.Reach.IN ? fixture.queuedIn() : fixture.queuedOut());
  }

  /** The erasure records are only of sessions the token covers, and include the fixture's one it covers. */
  private static String listsOnlyCoveredErasures(Fixture fixture, Caller caller, HttpResponse<String> response) {
    List<String> ids = new ArrayList<>();
    Node.json(response.body()).path("erasures").forEach(r -> ids.add(r.path("sessionId").asText()));
    return coveredOnly(caller, ids, caller.reach == Caller.Reach.IN ? fixture.erasedIn() : fixture.erasedOut());
  }

  private static String coveredOnly(Caller caller, List<String> ids, String expected) {
    List<String> foreign = ids.stream().filter(id -> !caller.covers(id)).toList();
    if (!foreign.isEmpty()) return "lists sessions its token does not cover: " + foreign;
    if (!ids.contains(expected)) return "does not list " + expected + ", which its token covers: " + ids;
    return null;
  }
}
