package dev.durablesessions.http.authz;

import java.net.http.HttpResponse;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * One line of the matrix: a REST route, a Durable Streams method or a client frame type, in
 * one situation, and what each {@link Caller} gets. Unless the line says otherwise, a token
 * whose patterns miss the session (or stream) is refused with 403, and a missing or invalid
 * token with 401.
 */
final class Row {
  enum Kind { REST, STREAM, FRAME }

  /** What a cell acts on: the session, queue, stream and tool approval its path names (and a fork's source). */
  record Scene(String session, String queue, String stream, String source, String approval) {
    static Scene session(String id) {
      return new Scene(id, null, null, null, null);
    }

    static Scene stream(String name) {
      return new Scene(null, null, name, null, null);
    }

    static Scene approval(String session, String approvalId) {
      return new Scene(session, null, null, null, approvalId);
    }
  }

  /** Prepares a cell's scene: once per row (the caller is then null) or once per cell. */
  interface Setup {
    Scene prepare(Node node, Fixture fixture, Caller caller);
  }

  /** An extra condition on an answer that matched (a listing shows only what the token covers); null when it holds. */
  interface Check {
    String problem(Fixture fixture, Caller caller, HttpResponse<String> response);
  }

  /** A frame row's cell: the caller's socket on the row's session, and what {@code before} gave. */
  interface FrameStep {
    String apply(FrameCell cell);
  }

  final Kind kind;
  /** "METHOD /path" as docs/PROTOCOL.md writes it, or the frame type. */
  final String route;
  String situation = "";
  final Map<Caller, Answer> expected = new EnumMap<>(Caller.class);

  // REST and Durable Streams
  Setup setup;
  boolean perCell;
  String query = "";
  Function<Scene, String> body = s -> null;
  Function<Scene, Map<String, String>> headers = s -> Map.of();
  boolean writes;
  boolean upgrade;
  Check check;

  // frames
  FrameStep frame;
  FrameStep before = c -> null;
  boolean setupSocket;
  boolean opensTurn;

  private Row(Kind kind, String route) {
    this.kind = kind;
    this.route = route;
    // Durable Streams refuse with a text/plain reason, and an answer to HEAD has no body: a bare status.
    boolean bare = kind == Kind.STREAM || route.startsWith("HEAD ");
    Answer out = bare ? Answer.denied(403) : Answer.FORBIDDEN;
    Answer unauthenticated = bare ? Answer.denied(401) : Answer.UNAUTHORIZED;
    for (Caller c : Caller.values()) {
      if (c.reach == Caller.Reach.OUT) expected.put(c, out);
      if (c.reach == Caller.Reach.NONE || c.reach == Caller.Reach.FORGED) expected.put(c, unauthenticated);
    }
  }

  static Row rest(String route) {
    return new Row(Kind.REST, route);
  }

  static Row stream(String route) {
    return new Row(Kind.STREAM, route);
  }

  static Row frame(String type, FrameStep frame) {
    Row row = new Row(Kind.FRAME, type);
    row.frame = frame;
    return row;
  }

  String method() {
    return route.substring(0, route.indexOf(' '));
  }

  String path() {
    return route.substring(route.indexOf(' ') + 1);
  }

  String label() {
    return situation.isEmpty() ? route : route + " (" + situation + ")";
  }

  // ---------------------------------------------------------------- building

  /** The answers of the in-pattern tokens: agent, user, human, support, observer, admin. */
  Row in(Answer agent, Answer user, Answer human, Answer support, Answer observer, Answer admin) {
    List<Answer> answers = List.of(agent, user, human, support, observer, admin);
    for (int i = 0; i < answers.size(); i++) expected.put(Caller.in(Caller.ROLES.get(i)), answers.get(i));
    return this;
  }

  /** The answers of the out-of-pattern tokens, by role as in {@link #in}. */
  Row out(Answer agent, Answer user, Answer human, Answer support, Answer observer, Answer admin) {
    List<Answer> answers = List.of(agent, user, human, support, observer, admin);
    for (int i = 0; i < answers.size(); i++) expected.put(Caller.out(Caller.ROLES.get(i)), answers.get(i));
    return this;
  }

  /** Every caller, tokens or not, gets the same. */
  Row everyone(Answer answer) {
    for (Caller c : Caller.values()) expected.put(c, answer);
    return this;
  }

  Row in(Answer all) {
    return in(all, all, all, all, all, all);
  }

  Row when(String situation) {
    this.situation = situation;
    return this;
  }

  Row shared(Setup setup) {
    this.setup = setup;
    this.perCell = false;
    return this;
  }

  Row perCell(Setup setup) {
    this.setup = setup;
    this.perCell = true;
    return this;
  }

  Row query(String query) {
    this.query = query;
    return this;
  }

  Row body(String body) {
    this.body = s -> body;
    return this;
  }

  Row body(Function<Scene, String> body) {
    this.body = body;
    return this;
  }

  Row headers(Function<Scene, Map<String, String>> headers) {
    this.headers = headers;
    return this;
  }

  /** A write: when the node refuses it, the session (or stream) it names must be as it was. */
  Row writes() {
    this.writes = true;
    return this;
  }

  /** The route is a WebSocket upgrade. */
  Row upgrade() {
    this.upgrade = true;
    return this;
  }

  Row check(Check check) {
    this.check = check;
    return this;
  }

  /** Runs before each in-pattern cell; what it returns is the cell's {@link FrameCell#given}. */
  Row before(FrameStep before) {
    this.before = before;
    return this;
  }

  /** The row's session also gets a socket of {@code setup-admin}, which {@code before} may use. */
  Row withSetupSocket() {
    this.setupSocket = true;
    return this;
  }

  /** A user message opens turn 1 before the row's cells run. */
  Row afterAUserMessage() {
    this.opensTurn = true;
    return this;
  }
}
