package dev.durablesessions.http.authz;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.durablesessions.http.socket.ClientFrame;
import dev.durablesessions.http.testing.TestServer;
import dev.durablesessions.testing.TestDatabases;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Who may do what, on a real node: every REST route, every Durable Streams method and every
 * client frame type, by every role in and out of its token's session patterns, without a token
 * and with an invalid one ({@link Matrix}). The lists of routes and frame types come from
 * docs/PROTOCOL.md and the code, and are compared with the matrix both ways: a route or frame
 * type the matrix lacks, or a documented one that does not exist, fails.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AuthorizationMatrixTest {
  /**
   * Rate limits off (a matrix is many requests by few subjects); Durable Streams need a token
   * (the default, said out loud: the stream rows are written for it);
   * stalls never marked while a row runs (an open stream must not write behind a row's back),
   * nor a setup socket's participant lost.
   */
  static final String CONFIG = """
      durable-sessions.http.limits.appends.count = 0
      durable-sessions.http.limits.session-creations.count = 0
      durable-sessions.http.limits.open-sockets = 0
      durable-sessions.streams.open = off
      durable-sessions.presence.stall-after = 1h
      durable-sessions.presence.grace = 1h
      """;

  /** Routing directives called with a literal path segment: path("events"), pathPrefix("v1"), ... */
  private static final Pattern PATH_MATCHER =
      Pattern.compile("(?<![.\\w])(?:path|pathPrefix|pathSuffix|pathPrefixTest|segment)\\(\\s*\"([^\"]*)\"");
  /** A path written out in the code ("/v1/stream/"). */
  private static final Pattern PATH_LITERAL = Pattern.compile("\"(/v1/[^\"]*)\"");

  final List<Row> rows = Matrix.rows();
  final ProtocolDoc doc = new ProtocolDoc();
  Node node;
  Fixture fixture;

  @BeforeAll
  void start() {
    node = new Node(new TestServer(TestDatabases.h2(), CONFIG));
    fixture = Fixture.on(node);
  }

  @AfterAll
  void stop() {
    node.close();
  }

  @Test
  void theMatrixHasARowForEveryDocumentedRouteAndFrameTypeAndNoOther() {
    List<String> problems = new ArrayList<>();
    Set<String> documented = doc.routes();
    Set<String> routesInMatrix = rows.stream().filter(r -> r.kind != Row.Kind.FRAME).map(r -> r.route)
        .collect(Collectors.toCollection(TreeSet::new));
    differ(problems, "a route in docs/PROTOCOL.md's Methods table has no row in the matrix", documented, routesInMatrix);
    differ(problems, "a matrix row is for a route the Methods table does not list", routesInMatrix, documented);
    differ(problems, "an endpoint heading in docs/PROTOCOL.md is missing from its Methods table", doc.endpointHeadings(), documented);

    Set<String> inCode = new TreeSet<>(ClientFrame.TYPES);
    Set<String> headed = doc.clientFrameHeadings();
    Set<String> framesInMatrix = rows.stream().filter(r -> r.kind == Row.Kind.FRAME).map(r -> r.route)
        .collect(Collectors.toCollection(TreeSet::new));
    differ(problems, "a client frame type (AppendBody and ClientFrame @JsonSubTypes) has no row in the matrix", inCode, framesInMatrix);
    differ(problems, "a matrix row is for a frame type the server does not take", framesInMatrix, inCode);
    differ(problems, "a client frame type has no heading under docs/PROTOCOL.md's \"Client frames\"", inCode, headed);
    differ(problems, "docs/PROTOCOL.md heads a client frame the server does not take", headed, inCode);
    differ(problems, "docs/PROTOCOL.md's \"Client → server\" list differs from its frame headings", doc.clientFrameList(), headed);

    for (Row row : rows) {
      for (Caller c : Caller.values()) {
        if (!row.expected.containsKey(c)) problems.add(row.label() + ": no answer for " + c.heading());
      }
    }
    assertTrue(problems.isEmpty(), String.join("\n", problems));
  }

  @Test
  void everyPathSegmentTheRoutesMatchIsInADocumentedRoute() throws IOException {
    Set<String> segments = new TreeSet<>();
    Set<String> paths = doc.methodsTable().keySet();
    paths.forEach(p -> Arrays.stream(p.split("/")).filter(s -> !s.isEmpty() && !s.startsWith("{")).forEach(segments::add));
    List<String> problems = new ArrayList<>();
    List<Path> sources;
    try (Stream<Path> walk = Files.walk(Path.of("src", "main", "java"))) {
      sources = walk.filter(p -> p.toString().endsWith(".java")).toList();
    }
    for (Path source : sources) {
      String code = Files.readString(source);
      Matcher m = PATH_MATCHER.matcher(code);
      while (m.find()) {
        if (!segments.contains(m.group(1))) problems.add(source + " matches the path segment \"" + m.group(1) + "\", in no documented route");
      }
      Matcher literal = PATH_LITERAL.matcher(code);
      while (literal.find()) {
        String prefix = literal.group(1);
        if (paths.stream().noneMatch(p -> p.startsWith(prefix))) problems.add(source + " serves " + prefix + ", which no documented route starts with");
      }
    }
    assertTrue(problems.isEmpty(), String.join("\n", problems));
  }

  @Test
  void everyMethodTheMethodsTableDoesNotListForAPathIsAnswered405() {
    String session = node.newSession();
    List<String> problems = new ArrayList<>();
    for (Map.Entry<String, Set<String>> route : doc.methodsTable().entrySet()) {
      String path = route.getKey().replace("{id}", session).replace("{queue}", Caller.IN_PREFIX + "probe-queue")
          .replace("{name}", Caller.IN_PREFIX + "probe-stream").replace("{approvalId}", "probe-approval").replace("{file}", "pages.css");
      for (String method : ProtocolDoc.METHODS) {
        if (route.getValue().contains(method)) continue;
        int status = node.call(method, path, node.setupAdmin, null).statusCode();
        if (status != 405) problems.add(method + " " + route.getKey() + " is not in the Methods table, and answered " + status);
      }
    }
    assertTrue(problems.isEmpty(), String.join("\n", problems));
  }

  @Test
  void everyCallerGetsWhatTheMatrixSaysAndNothingRefusedChangesAnything() throws IOException {
    MatrixRun run = new MatrixRun(node, fixture);
    run.run(rows);
    String table = run.render();
    Path report = Path.of("target", "authorization-matrix.md");
    Files.createDirectories(report.getParent());
    Files.writeString(report, table);
    System.out.printf("authorization matrix: %d rows x %d callers = %d cells run (%s)%n",
        rows.size(), Caller.values().length, run.cells, report.toAbsolutePath());
    assertTrue(run.failures.isEmpty(), run.failures.size() + " cells answered otherwise than the matrix says (" + report + "):\n"
        + String.join("\n", run.failures));
  }

  private static void differ(List<String> problems, String what, Set<String> these, Set<String> inThose) {
    Set<String> missing = new TreeSet<>(these);
    missing.removeAll(inThose);
    missing.forEach(m -> problems.add(what + ": " + m));
  }
}
