package dev.durablesessions.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.durablesessions.http.testing.TestServer;
import dev.durablesessions.http.testing.WsClient;
import dev.durablesessions.persistence.Database;
import dev.durablesessions.session.Role;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Agent workers through the documented worker socket ({@code GET /v1/workers}) against a real
 * node: placement by room within capacity, waiting sessions, release, failover when a worker
 * goes silent, a worker that comes back in time, a restarted worker, fencing, bad frames.
 * Each test uses its own pool (a worker of one pool never sees another's sessions).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class WorkerContract {
  abstract Database database();

  static final long LEASE_TIMEOUT_MS = 1500;

  TestServer server;
  String ada;
  String support;

  @BeforeAll
  void start() {
    StringBuilder pools = new StringBuilder();
    for (String p : List.of("room", "failover", "back", "restarted", "bad", "closed", "released")) pools.append(p).append(" {}\n");
    server = new TestServer(database(), """
        durable-sessions.dispatch.pool-defaults.lease-timeout = %dms
        durable-sessions.dispatch.pool-defaults.heartbeat-interval = 300ms
        durable-sessions.dispatch.pools { %s }
        """.formatted(LEASE_TIMEOUT_MS, pools));
    ada = server.token("ada", Role.USER);
    support = server.token("sam", Role.SUPPORT);
  }

  @AfterAll
  void stop() {
    beats.shutdownNow();
    server.close();
  }

  /** Workers heartbeat as the protocol asks (every heartbeat interval) until their socket is closed. */
  final java.util.concurrent.ScheduledExecutorService beats = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "worker-heartbeats");
    t.setDaemon(true);
    return t;
  });

  String workers() {
    return "ws://127.0.0.1:" + server.port + "/v1/workers";
  }

  /** A worker connected and welcomed: {@code hello} with the pool, capacity and holding given. */
  WsClient worker(String subject, String pool, int capacity, String holding) {
    WsClient w = WsClient.connect(workers(), server.token(subject, Role.AGENT));
    w.send("{\"type\":\"hello\",\"pool\":\"" + pool + "\",\"capacity\":" + capacity + (holding == null ? "" : ",\"holding\":" + holding) + "}");
    JsonNode welcome = w.nextOfType("welcome");
    assertEquals(subject, welcome.path("worker").asText());
    assertEquals(LEASE_TIMEOUT_MS, welcome.path("leaseTimeoutMs").asLong());
    beats.scheduleAtFixedRate(() -> {
      if (!w.closed.isDone() && w.socket != null && !w.socket.isOutputClosed()) w.trySend("{\"type\":\"heartbeat\"}");
    }, 300, 300, TimeUnit.MILLISECONDS);
    return w;
  }

  String create(String pool) {
    String id = pool + "-" + UUID.randomUUID();
    var r = server.call("POST", "/v1/sessions", ada, "{\"id\":\"" + id + "\",\"pool\":\"" + pool + "\"}");
    assertEquals(201, r.statusCode(), r.body());
    return id;
  }

  List<JsonNode> events(String id) {
    List<JsonNode> out = new ArrayList<>();
    SocketContract.json(server.call("GET", "/v1/sessions/" + id + "/events?limit=1000", ada, null).body()).path("events").forEach(out::add);
    return out;
  }

  List<String> leaseEvents(String id) {
    List<String> out = new ArrayList<>();
    for (JsonNode e : events(id)) {
      String type = e.path("type").asText();
      if (type.startsWith("agent.assigned") || type.equals("agent.released") || type.equals("agent.failover")) {
        out.add(type + " " + e.path("agent").asText() + " " + e.path("epoch").asLong() + " " + e.path("reason").asText());
      }
    }
    return out;
  }

  JsonNode pool(String name) {
    JsonNode listing = SocketContract.json(server.call("GET", "/v1/pools", support, null).body());
    for (JsonNode p : listing.path("pools")) if (p.path("name").asText().equals(name)) return p;
    throw new AssertionError("no pool " + name + " in " + listing);
  }

  static void await(String what, java.util.function.BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!condition.getAsBoolean()) {
      assertTrue(System.nanoTime() < deadline, "waited 20 s for " + what);
      TimeUnit.MILLISECONDS.sleep(50); // polling the node over HTTP
    }
  }

  @Test
  void sessionsGoToTheWorkerWithMostRoomNeverPastItsCapacityAndTheRestWaitInOrder() throws Exception {
    try (WsClient a = worker("room-a", "room", 2, null); WsClient b = worker("room-b", "room", 3, null)) {
      List<String> sessions = new ArrayList<>();
      for (int i = 0; i < 7; i++) sessions.add(create("room"));
      await("five assignments", () -> sessions.stream().filter(x -> !leaseEvents(x).isEmpty()).count() == 5);
      for (int i = 0; i < 2; i++) a.nextOfType("assign");
      for (int i = 0; i < 3; i++) b.nextOfType("assign");
      int onA = 0;
      int onB = 0;
      for (String s : sessions) {
        List<String> leases = leaseEvents(s);
        if (leases.isEmpty()) continue;
        assertEquals(1, leases.size(), s + ": " + leases);
        if (leases.get(0).startsWith("agent.assigned room-a 1 needs_agent")) onA++;
        else if (leases.get(0).startsWith("agent.assigned room-b 1 needs_agent")) onB++;
        else throw new AssertionError(leases.get(0));
      }
      assertEquals(2, onA, "room-a takes at most its capacity");
      assertEquals(3, onB, "room-b takes at most its capacity");
      JsonNode pool = pool("room");
      List<String> waiting = new ArrayList<>();
      pool.path("waiting").forEach(w -> waiting.add(w.path("sessionId").asText()));
      List<String> unassigned = sessions.stream().filter(s -> leaseEvents(s).isEmpty()).toList();
      assertEquals(unassigned, waiting, "the sessions without room wait, oldest first");
      assertEquals(2, waiting.size());
      String metrics = server.call("GET", "/metrics", null, null).body();
      assertTrue(metrics.contains("ds_dispatch_waiting{pool=\"room\"} 2.0"), "the waiting metric counts them");

      // room appears: the oldest waiting session is assigned to the worker that has it
      String held = sessions.stream().filter(s -> !leaseEvents(s).isEmpty() && leaseEvents(s).get(0).contains("room-a")).findFirst().orElseThrow();
      a.send("{\"type\":\"release\",\"sessionId\":\"" + held + "\",\"lease\":1,\"reason\":\"done\"}");
      JsonNode released = a.nextOfType("released");
      assertEquals(held, released.path("sessionId").asText());
      JsonNode next = a.nextOfType("assign");
      assertEquals(waiting.get(0), next.path("sessionId").asText(), "the oldest waiting session goes first");
      assertEquals(List.of("agent.assigned room-a 1 needs_agent", "agent.released room-a 1 done"), leaseEvents(held));
      assertEquals(1, pool("room").path("waiting").size());
    }
  }

  @Test
  void anAssignmentCarriesTheResumePackageAndTheOffsetOfItsEvent() throws Exception {
    String id = create("released");
    try (WsClient a = worker("rel-a", "released", 5, null)) {
      JsonNode assign = a.nextOfType("assign");
      assertEquals(id, assign.path("sessionId").asText());
      assertEquals(1, assign.path("lease").asLong());
      assertEquals("needs_agent", assign.path("reason").asText());
      JsonNode assigned = events(id).stream().filter(e -> e.path("type").asText().equals("agent.assigned")).findFirst().orElseThrow();
      assertEquals(assigned.path("offset").asLong(), assign.path("offset").asLong());
      assertEquals(id, assign.path("resume").path("sessionId").asText());
      assertTrue(assign.path("resume").has("turn"), assign.toString());

      // released: nobody is given the session again until a user writes to it
      a.send("{\"type\":\"release\",\"sessionId\":\"" + id + "\",\"lease\":1}");
      a.nextOfType("released");
      TimeUnit.MILLISECONDS.sleep(LEASE_TIMEOUT_MS); // the worker has room all along: nothing may arrive
      assertTrue(a.frames.stream().noneMatch(f -> f.path("type").asText().equals("assign")), "a released session waits for a user");
      assertEquals(201, server.call("POST", "/v1/sessions/" + id + "/messages", ada, "{\"text\":\"one more thing\"}").statusCode());
      JsonNode again = a.nextOfType("assign");
      assertEquals(2, again.path("lease").asLong());
      assertTrue(again.path("resume").path("turn").path("open").asBoolean(), "the new agent sees the open turn: " + again);
    }
  }

  @Test
  void aSilentWorkersSessionsFailOverAndItsLateWritesAreFenced() throws Exception {
    String id = create("failover");
    WsClient a = worker("fail-a", "failover", 5, null);
    assertEquals(id, a.nextOfType("assign").path("sessionId").asText());
    assertEquals(201, server.call("POST", "/v1/sessions/" + id + "/messages", ada, "{\"text\":\"question\"}").statusCode());
    WsClient aSession = WsClient.connect(server.ws(id, 0) + "&lease=1", server.token("fail-a", Role.AGENT));
    aSession.nextOfType("attached");
    aSession.send("{\"type\":\"stream.start\",\"ref\":\"s\",\"messageId\":\"answer-a\"}");
    aSession.nextOfType("ack");
    aSession.send("{\"type\":\"stream.delta\",\"ref\":\"d\",\"messageId\":\"answer-a\",\"text\":\"half an ans\"}");
    aSession.nextOfType("ack");
    long cut = System.nanoTime();
    a.close(); // the worker process is gone (its session socket lingers, as a stale process's would)
    try (WsClient b = worker("fail-b", "failover", 5, null)) {
      JsonNode assign = b.nextOfType("assign");
      long tookMs = (System.nanoTime() - cut) / 1_000_000;
      assertEquals(id, assign.path("sessionId").asText());
      assertEquals("failover", assign.path("reason").asText());
      assertEquals(2, assign.path("lease").asLong());
      assertTrue(assign.path("resume").path("turn").path("open").asBoolean(), "the cut answer left the question open: " + assign);
      assertTrue(tookMs >= LEASE_TIMEOUT_MS - 300, "not before the lease timeout: " + tookMs + " ms");
      assertEquals(List.of("agent.assigned fail-a 1 needs_agent", "agent.failover fail-a 1 lease_expired",
          "agent.assigned fail-b 2 failover"), leaseEvents(id));
      JsonNode ended = events(id).stream().filter(e -> e.path("type").asText().equals("stream.ended")).findFirst().orElseThrow();
      assertEquals("agent_lost", ended.path("reason").asText());
      aSession.send("{\"type\":\"stream.delta\",\"ref\":\"late\",\"messageId\":\"answer-a\",\"text\":\"swer\"}");
      aSession.expectError("stale_lease");
      aSession.send("{\"type\":\"message\",\"ref\":\"late2\",\"text\":\"a stale worker's message\"}");
      aSession.expectError("stale_lease");
      assertTrue(events(id).stream().noneMatch(e -> e.path("by").path("id").asText().equals("fail-a")
          && e.path("offset").asLong() > assign.path("offset").asLong()
          && !e.path("type").asText().startsWith("participant.")), "the stale worker wrote nothing after the failover");
    } finally {
      aSession.close();
    }
  }

  @Test
  void aWorkerThatComesBackInTimeKeepsItsSessionsAndOneThatRestartedLosesThemAtOnce() throws Exception {
    String kept = create("back");
    WsClient a = worker("back-a", "back", 5, null);
    assertEquals(kept, a.nextOfType("assign").path("sessionId").asText());
    a.close();
    try (WsClient again = worker("back-a", "back", 5, "[{\"sessionId\":\"" + kept + "\",\"lease\":1}]")) {
      TimeUnit.MILLISECONDS.sleep(2 * LEASE_TIMEOUT_MS); // past the timeout, renewed by the reconnected worker's heartbeats
      assertEquals(List.of("agent.assigned back-a 1 needs_agent"), leaseEvents(kept), "no failover: the worker came back in time");
    }

    String lost = create("restarted");
    WsClient r = worker("restart-a", "restarted", 5, null);
    assertEquals(lost, r.nextOfType("assign").path("sessionId").asText());
    r.close();
    long restartedAt = System.nanoTime();
    try (WsClient fresh = worker("restart-a", "restarted", 5, "[]")) {
      JsonNode assign = fresh.nextOfType("assign"); // failed over at once, and given back to the only worker of the pool
      long tookMs = (System.nanoTime() - restartedAt) / 1_000_000;
      assertEquals(lost, assign.path("sessionId").asText());
      assertEquals(2, assign.path("lease").asLong());
      assertTrue(tookMs < LEASE_TIMEOUT_MS, "a restarted worker does not wait for its own lease timeout: " + tookMs + " ms");
      assertEquals(List.of("agent.assigned restart-a 1 needs_agent", "agent.failover restart-a 1 lost", "agent.assigned restart-a 2 failover"),
          leaseEvents(lost));
    }
  }

  @Test
  void aClosedSessionIsRevoked() throws Exception {
    String id = create("closed");
    try (WsClient a = worker("closed-a", "closed", 5, null)) {
      assertEquals(id, a.nextOfType("assign").path("sessionId").asText());
      assertEquals(200, server.call("POST", "/v1/sessions/" + id + "/close", support, "{\"reason\":\"resolved\"}").statusCode());
      JsonNode revoke = a.nextOfType("revoke");
      assertEquals(id, revoke.path("sessionId").asText());
      assertEquals("session_closed", revoke.path("reason").asText());
      assertEquals(0, pool("closed").path("workers").get(0).path("holding").asInt());
    }
  }

  @Test
  void badWorkerFramesGetDocumentedErrorsAndChangeNothing() throws Exception {
    var refused = server.call("GET", "/v1/workers", ada, null);
    assertEquals(403, refused.statusCode(), "only agents are workers");
    assertEquals(401, server.call("GET", "/v1/workers", null, null).statusCode());
    assertEquals(405, server.call("POST", "/v1/workers", server.token("x", Role.AGENT), "{}").statusCode());
    assertEquals(403, server.call("GET", "/v1/pools", ada, null).statusCode(), "the listing is for operators");

    try (WsClient w = WsClient.connect(workers(), server.token("bad-a", Role.AGENT))) {
      w.send("{\"type\":\"heartbeat\"}");
      w.expectError("invalid_frame");
      w.send("not json");
      w.expectError("invalid_frame");
      w.send("{\"type\":\"hello\",\"pool\":\"bad\",\"capacity\":-1}");
      w.expectError("invalid_frame");
      JsonNode closing = w.nextOfType("closing");
      assertFalse(closing.path("resumable").asBoolean());
    }
    try (WsClient w = WsClient.connect(workers(), server.token("bad-b", Role.AGENT))) {
      w.send("{\"type\":\"hello\",\"pool\":\"no-such-pool\",\"capacity\":1}");
      w.expectError("unknown_pool");
      w.nextOfType("closing");
    }
    String id = create("bad");
    try (WsClient w = worker("bad-c", "bad", 0, null)) {
      w.send("{\"type\":\"hello\",\"pool\":\"bad\",\"capacity\":1}");
      w.expectError("invalid_frame");
      w.send("{\"type\":\"release\",\"sessionId\":\"" + id + "\",\"lease\":1}");
      w.expectError("stale_lease");
      w.send("{\"type\":\"capacity\",\"capacity\":\"many\"}");
      w.expectError("invalid_frame");
      w.send("{\"type\":\"dance\"}");
      w.expectError("invalid_frame");
      assertEquals(List.of(), leaseEvents(id), "a worker with no room (capacity 0) gets nothing");
      w.send("{\"type\":\"capacity\",\"capacity\":1}");
      assertEquals(id, w.nextOfType("assign").path("sessionId").asText(), "room appears: the waiting session is assigned");
    }
  }
}
