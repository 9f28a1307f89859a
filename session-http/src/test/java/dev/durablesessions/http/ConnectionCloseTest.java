package dev.durablesessions.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.durablesessions.http.auth.Identity;
import dev.durablesessions.http.socket.ConnectionActor;
import dev.durablesessions.http.socket.SocketSettings;
import dev.durablesessions.http.testing.TestServer;
import dev.durablesessions.session.Role;
import dev.durablesessions.session.resume.FollowerSettings;
import dev.durablesessions.session.resume.SessionJournal;
import dev.durablesessions.testing.TestDatabases;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.http.javadsl.model.ws.Message;
import org.apache.pekko.http.javadsl.model.ws.TextMessage;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.KillSwitches;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.QueueOfferResult;
import org.apache.pekko.stream.UniqueKillSwitch;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** How a connection ends when its ending races with the client's. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConnectionCloseTest {
  TestServer server;

  @BeforeAll
  void start() {
    server = new TestServer(TestDatabases.h2(), "durable-sessions.http.socket.slow-consumer-abort-after = 1s");
  }

  @AfterAll
  void stop() {
    server.close();
  }

  /** A queue whose stream has ended takes nothing more: no longer enqueued, nor dropped for want of room. */
  static boolean open(BoundedSourceQueue<Message> queue) {
    QueueOfferResult r = queue.offer(TextMessage.create("x"));
    return r == QueueOfferResult.enqueued() || r == QueueOfferResult.dropped();
  }

  /**
   * Found by fuzzing: the node shut down (ServerClosing) while a client had just gone away and the
   * connection had not heard yet; ending the already ended outbound queue threw, and the
   * connection actor failed instead of closing.
   */
  @Test
  void aConnectionWhoseClientIsGoneClosesWithoutFailingWhenTheNodeShutsDown() {
    String id = "gone-" + UUID.randomUUID();
    assertEquals(201, server.call("POST", "/v1/sessions", server.token("ada", Role.USER), "{\"id\":\"" + id + "\"}").statusCode());
    var system = server.kit.system();
    var config = system.settings().config();
    Materializer mat = Materializer.matFromSystem(system);
    // the outbound side of a socket whose client went away: both queues' streams have ended
    BoundedSourceQueue<Message> frames = Source.<Message>queue(8).toMat(Sink.cancelled(), Keep.left()).run(mat);
    BoundedSourceQueue<Message> control = Source.<Message>queue(4).toMat(Sink.cancelled(), Keep.left()).run(mat);
    UniqueKillSwitch killSwitch = Source.<Message>never().viaMat(KillSwitches.single(), Keep.right()).to(Sink.ignore()).run(mat);
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (open(frames) || open(control)) {
      assertTrue(System.nanoTime() < deadline, "the outbound streams never ended");
      Thread.onSpinWait();
    }

    ActorRef<ConnectionActor.Command> connection = server.kit.spawn(Behaviors.supervise(ConnectionActor.create(
            id, new Identity("ada", Role.USER, List.of("*")), server.tokens, "phone", 0, new ConnectionActor.Outbound(frames, control, killSwitch),
            SocketSettings.fromConfig(config), FollowerSettings.fromConfig(config), ClusterSharding.get(system),
            SessionJournal.fromConfig(system)))
        .onFailure(SupervisorStrategy.stop()));
    TestProbe<String> stopped = server.kit.createTestProbe();
    server.kit.spawn(Behaviors.setup(ctx -> {
      ctx.watch(connection);
      return Behaviors.receive(Object.class)
          .onSignal(Terminated.class, t -> {
            stopped.ref().tell("stopped");
            return Behaviors.stopped();
          })
          .build();
    }));
    // before the socket's end reaches the connection (StreamCompleted), the node starts shutting down
    connection.tell(ConnectionActor.ServerClosing.INSTANCE);

    // A failing actor stops at once; one that closes gives the client slow-consumer-abort-after
    // (1 s here) to take the closing frame before it drops the connection.
    stopped.expectNoMessage(Duration.ofMillis(700));
  }
}
