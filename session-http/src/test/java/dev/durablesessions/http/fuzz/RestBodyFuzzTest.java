package dev.durablesessions.http.fuzz;

import static dev.durablesessions.http.fuzz.JsonText.array;
import static dev.durablesessions.http.fuzz.JsonText.number;
import static dev.durablesessions.http.fuzz.JsonText.object;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.durablesessions.http.fuzz.RawHttp.Header;
import dev.durablesessions.session.Role;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.AfterProperty;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Every POST route of the session API, with its valid body mutated (wrong types, sizes,
 * unicode, nesting, numbers at the edges, missing and extra fields, broken JSON, bytes that are
 * not UTF-8, bodies over the limit) and sent by every role: each gets a success or its
 * documented error with the documented status, never a server failure; a refused request
 * leaves the session's head where it was; and the node serves normally afterwards.
 */
class RestBodyFuzzTest {
  static final int MAX_BODY = 1024 * 1024;
  static FuzzServer node;
  static CaseCount count;
  static final AtomicLong unique = new AtomicLong();
  static String session;
  static long head;
  static int sinceRotation;

  /** A POST route and a valid body for it ({@code {session}} and {@code {n}} are filled in per case). */
  record Route(String name, String path, Object body) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Map<String, Object> note() {
    return object("inProgress", array("refund"), "decided", array(object("what", "refund", "why", "double charge")),
        "next", array("confirm"), "canWait", array("survey"), "waitingOn", array("bank"));
  }

  static final List<Route> ROUTES = List.of(
      new Route("create", "/v1/sessions", object("id", "fz-new-{n}")),
      new Route("message", "/v1/sessions/{session}/messages",
          object("text", "hello", "messageId", "m-{n}", "producer", object("id", "p-{n}", "epoch", number(0), "seq", number(0)))),
      new Route("warm transfer", "/v1/sessions/{session}/transfers", object("mode", "warm", "to", object("participant", "hal"), "note", note())),
      new Route("cold transfer", "/v1/sessions/{session}/transfers", object("mode", "cold", "to", object("queue", "billing"), "note", note())),
      new Route("accept", "/v1/sessions/{session}/transfers/accept", object()),
      new Route("cancel", "/v1/sessions/{session}/transfers/cancel", object("reason", "not needed")),
      new Route("claim", "/v1/sessions/{session}/claim", object()),
      new Route("handback", "/v1/sessions/{session}/handback", object("agent", "bot", "note", note())),
      new Route("close", "/v1/sessions/{session}/close", object("reason", "resolved")),
      new Route("approval answer", "/v1/sessions/{session}/approvals/ap-open",
          object("approved", true, "reason", "go ahead", "producer", object("id", "p-{n}", "epoch", number(0), "seq", number(0)))),
      new Route("queue claim", "/v1/queues/billing/claim", object()));

  /** The type of each body field of each route (docs/PROTOCOL.md section 3); a body with one of another type is refused. */
  static final Map<String, Map<String, Object>> FIELD_TYPES = fieldTypes();

  private static Map<String, Map<String, Object>> fieldTypes() {
    Schema.Kind s = Schema.Kind.STRING;
    Schema.Kind strings = Schema.Kind.STRINGS;
    Map<String, Object> note = Map.of("inProgress", strings, "decided", Schema.Kind.ARRAY, "next", strings, "canWait", strings,
        "waitingOn", strings);
    Map<String, Map<String, Object>> types = new java.util.HashMap<>();
    types.put("create", Map.of("id", s));
    types.put("message", Map.of("text", s, "messageId", s, "producer",
        Map.of("id", s, "epoch", Schema.Kind.INTEGER, "seq", Schema.Kind.INTEGER)));
    types.put("warm transfer", Map.of("mode", s, "to", Map.of("participant", s, "queue", s), "note", note));
    types.put("cold transfer", types.get("warm transfer"));
    types.put("cancel", Map.of("reason", s));
    types.put("handback", Map.of("agent", s, "note", note));
    types.put("close", Map.of("reason", s));
    types.put("approval answer", Map.of("approved", Schema.Kind.BOOLEAN, "reason", s, "producer",
        Map.of("id", s, "epoch", Schema.Kind.INTEGER, "seq", Schema.Kind.INTEGER)));
    return types;
  }

  @BeforeContainer
  static void start() {
    node = new FuzzServer("");
    count = new CaseCount("RestBodyFuzzTest");
    rotate();
  }

  @AfterContainer
  static void stop() {
    if (count != null) count.print();
    if (node != null) node.close();
  }

  /**
   * A fresh session: a user message started turn 1, so the agent has something to answer, and
   * the agent asked users to approve a tool call (over a socket, gone before any case runs).
   */
  static void rotate() {
    session = "fz-rest-" + unique.incrementAndGet();
    node.create(session);
    assertEquals(201, node.call("POST", "/v1/sessions/" + session + "/messages", node.token(Role.USER), "{\"text\":\"help\"}").status());
    node.askForApproval(session, "call-open", "ap-open", "{\"role\":\"user\"}");
    head = node.head(session);
    sinceRotation = 0;
  }

  @Provide
  Arbitrary<Route> routes() {
    return Arbitraries.of(ROUTES);
  }

  @Provide
  Arbitrary<List<Mutation>> plans() {
    return Mutation.plans(20_000, List.of("id", "text", "messageId", "producer", "mode", "to", "participant", "queue", "note",
        "reason", "agent", "inProgress", "decided", "what", "why", "next", "canWait", "waitingOn", "epoch", "seq", "approved"));
  }

  @Provide
  Arbitrary<Role> roles() {
    return Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(4, Arbitraries.of(Role.AGENT, Role.USER, Role.HUMAN, Role.SUPPORT, Role.ADMIN)),
        net.jqwik.api.Tuple.of(1, Arbitraries.of(Role.OBSERVER, Role.SYSTEM)));
  }

  @Provide
  Arbitrary<String> contentTypes() {
    return Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(12, Arbitraries.just("application/json")),
        net.jqwik.api.Tuple.of(1, Arbitraries.of("", "text/plain", "application/json; charset=utf-16", "application/json; charset=nope",
            "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "*/*", "garbage", "application/json; charset=\u00e9",
            "application/octet-stream", "none")));
  }

  @Provide
  Arbitrary<BodyDamage> damage() {
    return BodyDamage.arbitrary(MAX_BODY);
  }

  @Property(tries = 2600, shrinking = ShrinkingMode.BOUNDED)
  void everyMutatedBodyGetsASuccessOrItsDocumentedErrorAndRefusedOnesChangeNothing(
      @ForAll("routes") Route route, @ForAll("plans") List<Mutation> plan, @ForAll("roles") Role role,
      @ForAll("contentTypes") String contentType, @ForAll("damage") BodyDamage damage) {
    long n = unique.incrementAndGet();
    String json = Mutation.apply(route.body(), plan).replace("{n}", Long.toString(n));
    byte[] body = damage.apply(json);
    List<Header> headers = FuzzServer.bearer(node.token(role));
    if (!contentType.equals("none")) headers.add(Header.of("Content-Type", contentType));
    String path = route.path().replace("{session}", session);
    String context = route + " as " + role + " " + plan + " " + damage + " " + contentType + ": " + RawHttp.abbreviate(json);

    RawHttp.Response r = node.http.send("POST", path, headers, body);
    String code = FuzzServer.assertDocumented(r, context);
    com.fasterxml.jackson.databind.JsonNode sent = readable(damage) ? read(json) : null;
    String wrong = sent == null || !sent.isObject() || !FIELD_TYPES.containsKey(route.name()) ? null
        : Schema.wrongType(sent, FIELD_TYPES.get(route.name()));
    if (wrong != null) assertTrue(code != null, "a body whose " + wrong + " has the wrong type was accepted: " + context + " -> " + r.text());
    boolean sessionBound = path.contains(session);
    if (code == null) {
      count.accepted();
      assertTrue(r.status() == 200 || r.status() == 201, r.status() + " " + context);
      FuzzServer.json(r); // a success answers with JSON
      head = node.head(session);
      if (route.name().equals("close")) rotate();
    } else {
      count.refused();
      if (sessionBound) assertEquals(head, node.head(session), "a refused request changed the session: " + context + " -> " + r.text());
    }
    if (++sinceRotation >= 250) rotate();
    if (count.cases() % 500 == 0) node.assertStillServing("rest-bodies-" + count.cases()); // after each batch of 500
  }

  /** Damage that leaves the JSON as it was (padding is whitespace). */
  static boolean readable(BodyDamage damage) {
    return switch (damage.kind()) {
      case NONE, JUST_UNDER_LIMIT, OVER_LIMIT -> true;
      default -> false;
    };
  }

  static com.fasterxml.jackson.databind.JsonNode read(String json) {
    try {
      return new com.fasterxml.jackson.databind.ObjectMapper().readTree(json);
    } catch (Exception e) {
      return null;
    }
  }

  @AfterProperty
  void nodeStillServes() {
    node.assertStillServing("rest-bodies");
  }
}
