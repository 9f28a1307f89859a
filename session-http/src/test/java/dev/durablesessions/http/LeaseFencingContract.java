package dev.durablesessions.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import com.fasterxml.jackson.databind.JsonNode;
import dev.durablesessions.http.testing.TestServer;
import dev.durablesessions.http.testing.WsClient;
import dev.durablesessions.persistence.Database;
import dev.durablesessions.session.Outcome;
import dev.durablesessions.session.Role;
import dev.durablesessions.session.SessionCommand;
import dev.durablesessions.session.SessionEntity;
import dev.durablesessions.session.dispatch.LeaseRules;
import java.time.Duration;
import java.util.UUID;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** A worker writes on the session socket under its lease ({@code ?lease=}); once the lease moved on, its socket writes nothing. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class LeaseFencingContract {
  abstract Database database();

  TestServer server;
  String ada;

  @BeforeAll
  void start() {
    server = new TestServer(database(), "");
    ada = server.token("ada", Role.USER);
  }

  @AfterAll
  void stop() {
    server.close();
  }

  Outcome dispatch(String id, Function<ActorRef<Outcome>, SessionCommand> command) {
    return ClusterSharding.get(server.kit.system()).entityRefFor(SessionEntity.TYPE_KEY, id)
        .<Outcome>ask(command::apply, Duration.ofSeconds(15)).toCompletableFuture().join();
  }

  long head(String id) {
    return SocketContract.json(server.call("GET", "/v1/sessions/" + id, ada, null).body()).path("head").asLong();
  }

  @Test
  void aStaleWorkersSocketIsFencedAndTheNewWorkerWritesUnderItsLease() {
    String id = "lease-" + UUID.randomUUID();
    assertEquals(201, server.call("POST", "/v1/sessions", ada, "{\"id\":\"" + id + "\"}").statusCode());
    assertInstanceOf(Outcome.Accepted.class, dispatch(id, r -> new SessionCommand.Assign("w1", 0, "needs_agent", r)));
    try (WsClient w1 = WsClient.connect(server.ws(id, 0) + "&lease=1", server.token("w1", Role.AGENT))) {
      w1.nextOfType("attached");
      w1.send("{\"type\":\"stream.start\",\"ref\":\"s1\",\"messageId\":\"answer-1\"}");
      assertEquals("s1", w1.nextOfType("ack").path("ref").asText());
      assertInstanceOf(Outcome.Accepted.class,
          dispatch(id, r -> new SessionCommand.EndLease("w1", 1, LeaseRules.Ending.EXPIRED, "lease_expired", r)));
      assertInstanceOf(Outcome.Accepted.class, dispatch(id, r -> new SessionCommand.Assign("w2", 1, "failover", r)));
      long head = head(id);
      w1.send("{\"type\":\"message\",\"ref\":\"late\",\"text\":\"written by a worker that lost its lease\"}");
      JsonNode refused = w1.expectError("stale_lease");
      assertEquals("late", refused.path("ref").asText());
      assertEquals(head, head(id), "the stale worker wrote nothing");
      try (WsClient w2 = WsClient.connect(server.ws(id, 0) + "&lease=2", server.token("w2", Role.AGENT))) {
        w2.nextOfType("attached");
        w2.send("{\"type\":\"message\",\"ref\":\"m2\",\"text\":\"the new agent answers\"}");
        assertEquals("m2", w2.nextOfType("ack").path("ref").asText());
      }
      try (WsClient w2Stale = WsClient.connect(server.ws(id, 0) + "&lease=1", server.token("w2", Role.AGENT))) {
        w2Stale.nextOfType("attached");
        w2Stale.send("{\"type\":\"message\",\"ref\":\"m3\",\"text\":\"an old lease, even from the holder\"}");
        w2Stale.expectError("stale_lease");
      }
      // presence events of w2's sockets came after; of the writes, only w2's under its lease
      JsonNode after = SocketContract.json(server.call("GET", "/v1/sessions/" + id + "/events?after=" + head, ada, null).body());
      java.util.List<String> written = new java.util.ArrayList<>();
      for (JsonNode e : after.path("events")) {
        if (e.path("type").asText().equals("message") || e.path("type").asText().startsWith("stream.")) {
          written.add(e.path("by").path("id").asText() + ":" + e.path("text").asText());
        }
      }
      assertEquals(java.util.List.of("w2:the new agent answers"), written);
    }
  }

  @Test
  void aLeaseThatIsNoPositiveIntegerIsRefusedBeforeTheUpgrade() {
    String id = "lease-" + UUID.randomUUID();
    assertEquals(201, server.call("POST", "/v1/sessions", ada, "{\"id\":\"" + id + "\"}").statusCode());
    for (String lease : new String[] {"x", "0", "-3", "1.5"}) {
      try {
        WsClient.connect(server.ws(id, 0) + "&lease=" + lease, ada).close();
        throw new AssertionError("lease=" + lease + " should have been refused");
      } catch (java.util.concurrent.CompletionException e) {
        var handshake = (java.net.http.WebSocketHandshakeException) e.getCause();
        assertEquals(400, handshake.getResponse().statusCode(), "lease=" + lease);
      }
    }
    assertEquals(2, head(id), "nothing was written");
  }
}
