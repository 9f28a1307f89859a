package dev.durablesessions.http.authz;

import dev.durablesessions.http.authz.Row.Scene;
import dev.durablesessions.http.testing.WsClient;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Runs the matrix against the node, cell by cell, and collects every cell that answered
 * otherwise than the table says (all of them, not only the first). A refused write must leave
 * the session (head and phase) or stream (existence and tail) exactly as it was.
 */
final class MatrixRun {
  private final Node node;
  private final Fixture fixture;
  final List<String> failures = new ArrayList<>();
  /** What each cell answered, by row. */
  final Map<Row, Map<Caller, String>> answers = new LinkedHashMap<>();
  int cells;

  MatrixRun(Node node, Fixture fixture) {
    this.node = node;
    this.fixture = fixture;
  }

  void run(List<Row> rows) {
    for (Row row : rows) {
      answers.put(row, new EnumMap<>(Caller.class));
      if (row.kind == Row.Kind.FRAME) frames(row);
      else http(row);
    }
  }

  // ---------------------------------------------------------------- REST and Durable Streams

  private void http(Row row) {
    Scene shared = row.setup == null ? new Scene(null, null, null, null, null) : row.perCell ? null : row.setup.prepare(node, fixture, null);
    for (Caller caller : Caller.values()) {
      try {
        Scene scene = shared != null ? shared : row.setup.prepare(node, fixture, caller);
        String before = row.writes ? snapshot(scene) : null;
        String actual;
        HttpResponse<String> response = null;
        if (row.upgrade) {
          actual = node.upgradeAt(path(row, scene, caller), node.token(caller));
        } else {
          response = node.call(row.method(), path(row, scene, caller), node.token(caller), row.body.apply(scene), row.headers.apply(scene));
          actual = Node.canonical(response.statusCode(), response.body());
        }
        Answer expected = compare(row, caller, actual);
        if (row.writes && refused(actual)) unchanged(row, caller, actual, before, snapshot(scene));
        if (row.check != null && response != null && expected.kind() == Answer.Kind.OK && expected.text().equals(actual)) {
          String problem = row.check.problem(fixture, caller, response);
          if (problem != null) fail(row, caller, problem);
        }
      } catch (AssertionError | RuntimeException e) {
        fail(row, caller, "threw " + e);
      }
    }
  }

  private static String path(Row row, Scene scene, Caller caller) {
    String path = row.path();
    if (scene.session() != null) path = path.replace("{id}", scene.session());
    if (scene.queue() != null) path = path.replace("{queue}", scene.queue());
    if (scene.stream() != null) path = path.replace("{name}", scene.stream());
    if (scene.approval() != null) path = path.replace("{approvalId}", scene.approval());
    path = path.replace("{file}", "pages.css");
    return row.query.isEmpty() ? path : path + "?" + row.query.replace("{sub}", caller.subject());
  }

  private String snapshot(Scene scene) {
    List<String> parts = new ArrayList<>();
    if (scene.session() != null) parts.add("session " + node.sessionState(scene.session()));
    if (scene.stream() != null) parts.add("stream " + node.streamState(scene.stream()));
    return String.join("; ", parts);
  }

  // ---------------------------------------------------------------- frames

  /**
   * A session of the row's own, with a socket per in-pattern role (and setup's, if the row uses
   * it), all online before any cell runs. Tokens that may not connect are tried first, at the
   * upgrade; then each role sends the row's frame on its socket.
   */
  private void frames(Row row) {
    String session = node.newSession();
    if (row.opensTurn) node.must("POST", "/v1/sessions/" + session + "/messages", node.setupUser, "{\"text\":\"a question\"}", 201);
    Map<Caller, WsClient> sockets = new EnumMap<>(Caller.class);
    WsClient setup = null;
    try {
      Set<String> online = new LinkedHashSet<>();
      for (Caller c : Caller.values()) {
        if (c.reach != Caller.Reach.IN) continue;
        sockets.put(c, node.socket(session, node.token(c)));
        online.add(c.subject());
      }
      if (row.setupSocket) {
        setup = node.socket(session, node.setupAdmin);
        online.add("setup-admin");
      }
      node.awaitOnline(session, online);
      for (Caller caller : Caller.values()) {
        if (caller.reach == Caller.Reach.IN) continue;
        try {
          String before = node.sessionState(session);
          String actual = node.upgrade(session, node.token(caller));
          compare(row, caller, actual);
          if (refused(actual)) unchanged(row, caller, actual, before, node.sessionState(session));
        } catch (AssertionError | RuntimeException e) {
          fail(row, caller, "threw " + e);
        }
      }
      for (Caller caller : sockets.keySet()) {
        try {
          FrameCell cell = new FrameCell(node, session, caller, sockets.get(caller), setup);
          cell.given = row.before.apply(cell);
          String before = node.sessionState(session);
          String actual = FrameCell.exchange(cell.socket, row.frame.apply(cell));
          compare(row, caller, actual);
          if (refused(actual)) unchanged(row, caller, actual, before, node.sessionState(session));
        } catch (AssertionError | RuntimeException e) {
          fail(row, caller, "threw " + e);
        }
      }
    } finally {
      sockets.values().forEach(WsClient::close);
      if (setup != null) setup.close();
    }
  }

  // ---------------------------------------------------------------- verdicts

  private Answer compare(Row row, Caller caller, String actual) {
    cells++;
    answers.get(row).put(caller, actual);
    Answer expected = row.expected.get(caller);
    if (expected == null) fail(row, caller, "the table has no answer for this caller (got " + actual + ")");
    else if (!expected.text().equals(actual)) fail(row, caller, "expected " + expected + ", got " + actual);
    return expected == null ? Answer.denied(403) : expected;
  }

  private void unchanged(Row row, Caller caller, String actual, String before, String after) {
    if (!before.equals(after)) fail(row, caller, "refused with " + actual + " but changed " + before + " -> " + after);
  }

  private static boolean refused(String actual) {
    return !(actual.startsWith("1") || actual.startsWith("2") || actual.equals("ack") || actual.equals("silent"));
  }

  private void fail(Row row, Caller caller, String why) {
    failures.add(row.label() + " | " + caller.heading() + ": " + why);
  }

  /** The matrix as a Markdown table: expected answers, and what came instead where it differed. */
  String render() {
    StringBuilder out = new StringBuilder("| route | ");
    for (Caller c : Caller.values()) out.append(c.heading()).append(" | ");
    out.append("\n|---|");
    out.append("---|".repeat(Caller.values().length)).append('\n');
    answers.forEach((row, got) -> {
      out.append("| ").append(row.kind == Row.Kind.FRAME ? "frame `" + row.label() + "`" : "`" + row.label() + "`").append(" | ");
      for (Caller c : Caller.values()) {
        Answer expected = row.expected.get(c);
        String actual = got.get(c);
        out.append(expected == null ? "?" : expected.toString());
        if (actual != null && (expected == null || !expected.text().equals(actual))) out.append(" **got ").append(actual).append("**");
        out.append(" | ");
      }
      out.append('\n');
    });
    return out.toString();
  }
}
