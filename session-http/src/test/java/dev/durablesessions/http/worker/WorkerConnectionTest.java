package dev.durablesessions.http.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.ConfigFactory;
import dev.durablesessions.http.Json;
import dev.durablesessions.http.auth.Identity;
import dev.durablesessions.http.rest.SessionQueries;
import dev.durablesessions.http.socket.Inbound;
import dev.durablesessions.session.Role;
import dev.durablesessions.session.dispatch.Dispatcher;
import dev.durablesessions.session.dispatch.Pools;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.http.javadsl.model.ws.Message;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The worker socket's actor between a real outbound frame queue and a probe standing in for the
 * dispatcher. An assignment's {@code assign} frame goes out only once its resume package is read
 * (the test completes that read), so a lease can end while the worker has not heard of it: the
 * worker must then hear nothing of it, neither a late {@code assign} nor a {@code revoke}.
 */
class WorkerConnectionTest {
  private static ActorTestKit kit;

  @BeforeAll
  static void start() {
    kit = ActorTestKit.create("worker-connection", ConfigFactory.parseString("pekko.actor.provider = local")
        .withFallback(ConfigFactory.load()));
  }

  @AfterAll
  static void stop() {
    kit.shutdownTestKit();
  }

  /** One worker socket: its frames as JSON, the dispatcher's probe, and the resume reads it asked for. */
  private static final class Worker {
    final LinkedBlockingQueue<JsonNode> frames = new LinkedBlockingQueue<>();
    final TestProbe<Dispatcher.Command> dispatcher = kit.createTestProbe();
    final LinkedBlockingQueue<CompletableFuture<SessionQueries.Answer>> resumeReads = new LinkedBlockingQueue<>();
    final ActorRef<WorkerConnection.Command> socket;
    final TestProbe<WorkerConnection.Ack> acks = kit.createTestProbe();
    ActorRef<Dispatcher.ToWorker> toWorker;

    Worker() {
      Materializer mat = Materializer.matFromSystem(kit.system());
      Pair<BoundedSourceQueue<Message>, Source<Message, org.apache.pekko.NotUsed>> out = Source.<Message>queue(64).preMaterialize(mat);
      out.second().runWith(Sink.foreach(m -> frames.add(Json.MAPPER.readTree(m.asTextMessage().getStrictText()))), mat);
      Identity identity = new Identity("worker-1", Role.AGENT, List.of("*"));
      socket = kit.spawn(WorkerConnection.create(identity, out.first(), dispatcher.ref(), Pools.fromConfig(kit.system().settings().config()),
          (sessionId, who) -> {
            CompletableFuture<SessionQueries.Answer> read = new CompletableFuture<>();
            resumeReads.add(read);
            return read;
          }));
    }

    void send(String json) {
      socket.tell(new WorkerConnection.Incoming(acks.ref(), new Inbound.Text(json)));
      acks.expectMessage(WorkerConnection.Ack.INSTANCE);
    }

    /** Says hello and takes the welcome; {@code kept} as the dispatcher found it. */
    void hello(Map<String, Long> kept) {
      send("{\"type\":\"hello\",\"pool\":\"default\",\"capacity\":5}");
      Dispatcher.WorkerUp up = dispatcher.expectMessageClass(Dispatcher.WorkerUp.class);
      assertTrue(up.hello());
      toWorker = up.ref();
      toWorker.tell(new Dispatcher.Welcome("worker-1", "default", 5, 5_000, 1_000, kept, Map.of()));
      assertEquals("welcome", next().path("type").asText());
    }

    JsonNode next() {
      try {
        JsonNode f = frames.poll(10, TimeUnit.SECONDS);
        if (f == null) throw new AssertionError("no frame within 10 s");
        return f;
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    }

    /**
     * The frames up to the answer to an unknown frame type: a frame the socket would have sent
     * before that answer has been sent by then (one actor, one queue, in order).
     */
    List<JsonNode> framesUntilMarker() {
      send("{\"type\":\"marker\",\"ref\":\"marker\"}");
      java.util.ArrayList<JsonNode> seen = new java.util.ArrayList<>();
      for (JsonNode f = next(); !"marker".equals(f.path("ref").asText()); f = next()) seen.add(f);
      return seen;
    }

    CompletableFuture<SessionQueries.Answer> resumeRead() {
      try {
        CompletableFuture<SessionQueries.Answer> read = resumeReads.poll(10, TimeUnit.SECONDS);
        if (read == null) throw new AssertionError("no resume read within 10 s");
        return read;
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    }
  }

  @Test
  void aLeaseThatEndsBeforeItsAssignWentOutIsNeverMentioned() {
    Worker w = new Worker();
    w.hello(Map.of());
    w.toWorker.tell(new Dispatcher.Assigned("s-1", 7, "new", 3));
    CompletableFuture<SessionQueries.Answer> read = w.resumeRead();
    w.toWorker.tell(new Dispatcher.Revoked("s-1", 7, "lease_expired"));
    // The read completes after the lease ended: the assign would come too late to mean anything.
    read.complete(new SessionQueries.Answer.Ok(Map.of("sessionId", "s-1")));
    assertEquals(List.of(), w.framesUntilMarker(), "a worker hears neither a late assign nor a revoke of a lease it never saw");

    // The socket still works: the next lease of the session is announced and then revoked.
    w.toWorker.tell(new Dispatcher.Assigned("s-1", 8, "new", 9));
    w.resumeRead().complete(new SessionQueries.Answer.Ok(Map.of("sessionId", "s-1")));
    JsonNode assign = w.next();
    assertEquals("assign", assign.path("type").asText());
    assertEquals(8, assign.path("lease").asLong());
    w.toWorker.tell(new Dispatcher.Revoked("s-1", 8, "session_closed"));
    JsonNode revoke = w.next();
    assertEquals("revoke", revoke.path("type").asText());
    assertEquals(8, revoke.path("lease").asLong());
    assertEquals("session_closed", revoke.path("reason").asText());
  }

  @Test
  void aLeaseTheWorkerWasToldOfIsRevoked() {
    Worker w = new Worker();
    w.hello(Map.of());
    w.toWorker.tell(new Dispatcher.Assigned("s-2", 1, "new", 0));
    w.resumeRead().complete(new SessionQueries.Answer.Ok(Map.of("sessionId", "s-2")));
    JsonNode assign = w.next();
    assertEquals("assign", assign.path("type").asText());
    assertEquals("s-2", assign.path("resume").path("sessionId").asText());
    w.toWorker.tell(new Dispatcher.Revoked("s-2", 1, "lease_expired"));
    JsonNode revoke = w.next();
    assertEquals("revoke", revoke.path("type").asText());
    assertEquals("s-2", revoke.path("sessionId").asText());
    // A second revoke of the same lease says nothing more.
    w.toWorker.tell(new Dispatcher.Revoked("s-2", 1, "lease_expired"));
    assertEquals(List.of(), w.framesUntilMarker());
  }

  @Test
  void aLeaseKeptAcrossAReconnectIsRevokedWithoutAnAssign() {
    Worker w = new Worker();
    w.hello(Map.of("s-3", 4L));
    w.toWorker.tell(new Dispatcher.Revoked("s-3", 4, "session_closed"));
    JsonNode revoke = w.next();
    assertEquals("revoke", revoke.path("type").asText());
    assertEquals(4, revoke.path("lease").asLong());
  }

  @Test
  void anAssignWithoutItsResumePackageStillGoesOut() {
    Worker w = new Worker();
    w.hello(Map.of());
    w.toWorker.tell(new Dispatcher.Assigned("s-4", 2, "new", 5));
    w.resumeRead().completeExceptionally(new RuntimeException("journal unavailable"));
    JsonNode assign = w.next();
    assertEquals("assign", assign.path("type").asText());
    assertTrue(assign.path("resume").isNull());
    w.toWorker.tell(new Dispatcher.Revoked("s-4", 2, "lease_expired"));
    assertEquals("revoke", w.next().path("type").asText());
  }
}
