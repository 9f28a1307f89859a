package dev.durablesessions.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.durablesessions.persistence.Database;
import dev.durablesessions.session.AppendBody;
import dev.durablesessions.session.Outcome;
import dev.durablesessions.session.Participant;
import dev.durablesessions.session.Role;
import dev.durablesessions.session.SessionCommand;
import dev.durablesessions.session.SessionEntity;
import dev.durablesessions.durablestream.StreamCommand;
import dev.durablesessions.durablestream.StreamConfig;
import dev.durablesessions.durablestream.StreamEntity;
import dev.durablesessions.durablestream.StreamEvent;
import dev.durablesessions.durablestream.StreamMessage;
import dev.durablesessions.durablestream.StreamOffsets;
import dev.durablesessions.durablestream.StreamReply;
import dev.durablesessions.durablestream.StreamSettings;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import dev.durablesessions.session.SessionEvent;
import dev.durablesessions.session.SessionSettings;
import dev.durablesessions.session.SummaryReply;
import dev.durablesessions.session.producer.ProducerStamp;
import dev.durablesessions.session.resume.FollowerSettings;
import dev.durablesessions.session.resume.SessionFollower;
import dev.durablesessions.session.resume.SessionJournal;
import dev.durablesessions.testing.Collector;
import dev.durablesessions.testing.TestSystems;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.typed.GetShardRegionState;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.cluster.typed.Leave;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Three nodes in one JVM, one shared journal: sessions spread over the nodes, a follower on one
 * node follows a session hosted on another, and the session survives its node leaving.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class ClusterContract {
  static final Participant WRITER = Participant.of("writer", Role.AGENT);
  static final String OVERRIDES = """
      durable-sessions.follower.keep-alive-interval = 300ms
      durable-sessions.session.coalesce-linger = 0
      pekko.cluster.sharding.number-of-shards = 30
      """;

  abstract Database database();

  final List<ActorTestKit> nodes = new ArrayList<>();

  @BeforeAll
  void start() {
    Database db = database();
    for (int i = 0; i < 3; i++) {
      ActorTestKit kit = ActorTestKit.create("cluster", TestSystems.config(db, OVERRIDES));
      nodes.add(kit);
      SessionEntity.initSharding(kit.system(), SessionSettings.fromConfig(kit.system().settings().config()), Clock.systemUTC(), null);
      StreamEntity.initSharding(kit.system(), StreamSettings.fromConfig(kit.system().settings().config()), Clock.systemUTC());
    }
    Address first = Cluster.get(nodes.get(0).system()).selfMember().address();
    for (ActorTestKit kit : nodes) Cluster.get(kit.system()).manager().tell(Join.create(first));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (upMembers(nodes.get(0).system()) < 3) {
      assertTrue(System.nanoTime() < deadline, "the three nodes did not form a cluster");
      Thread.onSpinWait();
    }
  }

  static long upMembers(ActorSystem<?> system) {
    return java.util.stream.StreamSupport.stream(Cluster.get(system).state().getMembers().spliterator(), false)
        .filter(m -> m.status() == MemberStatus.up()).count();
  }

  @AfterAll
  void stop() {
    for (ActorTestKit kit : nodes) kit.shutdownTestKit();
  }

  String create(ActorTestKit via) {
    String id = "c-" + UUID.randomUUID();
    TestProbe<Outcome> probe = via.createTestProbe();
    ClusterSharding.get(via.system()).entityRefFor(SessionEntity.TYPE_KEY, id).tell(new SessionCommand.Create(WRITER, null, probe.getRef()));
    probe.expectMessageClass(Outcome.Accepted.class, Duration.ofSeconds(15));
    return id;
  }

  /** Which session ids each node hosts right now. */
  Map<Integer, Set<String>> hosted(int node) {
    ActorTestKit kit = nodes.get(node);
    TestProbe<ShardRegion.CurrentShardRegionState> probe = kit.createTestProbe();
    ClusterSharding.get(kit.system()).shardState().tell(new GetShardRegionState(SessionEntity.TYPE_KEY, probe.getRef()));
    Set<String> ids = new java.util.HashSet<>();
    for (ShardRegion.ShardState shard : scala.jdk.javaapi.CollectionConverters.asJava(probe.receiveMessage(Duration.ofSeconds(10)).shards())) {
      ids.addAll(shard.getEntityIds());
    }
    Map<Integer, Set<String>> out = new HashMap<>();
    out.put(node, ids);
    return out;
  }

  int hostOf(String id, int upTo) {
    for (int n = 0; n < upTo; n++) if (hosted(n).get(n).contains(id)) return n;
    return -1;
  }

  boolean streamHostedOn(String name, int node) {
    ActorTestKit kit = nodes.get(node);
    TestProbe<ShardRegion.CurrentShardRegionState> probe = kit.createTestProbe();
    ClusterSharding.get(kit.system()).shardState().tell(new GetShardRegionState(StreamEntity.TYPE_KEY, probe.getRef()));
    for (ShardRegion.ShardState shard : scala.jdk.javaapi.CollectionConverters.asJava(probe.receiveMessage(Duration.ofSeconds(10)).shards())) {
      if (shard.getEntityIds().contains(name)) return true;
    }
    return false;
  }

  <R extends StreamReply> R askStream(ActorTestKit via, String name,
      java.util.function.Function<org.apache.pekko.actor.typed.ActorRef<R>, StreamCommand> command) {
    TestProbe<R> probe = via.createTestProbe();
    ClusterSharding.get(via.system()).entityRefFor(StreamEntity.TYPE_KEY, name).tell(command.apply(probe.getRef()));
    return probe.receiveMessage(Duration.ofSeconds(15));
  }

  /** A Durable Streams stream on another node: appends, producer retries and reads cross the wire intact. */
  @Test
  void aStreamOnAnotherNodeTakesAppendsAndServesReadsAcrossTheWire() {
    // The client is the second node, the stream lives on the first: both stay in the cluster
    // whatever order the tests run in (another test makes the third node leave).
    ActorTestKit client = nodes.get(1);
    String name = null;
    StreamConfig config = new StreamConfig("application/octet-stream", null, null, false, null, null, 0);
    for (int i = 0; i < 200 && name == null; i++) {
      String candidate = "s-" + UUID.randomUUID();
      assertInstanceOf(StreamReply.Created.class, this.<StreamReply.CreateReply>askStream(client, candidate,
          r -> new StreamCommand.Create(config, "application/octet-stream", null, null, null, r)));
      if (streamHostedOn(candidate, 0)) name = candidate;
    }
    assertTrue(name != null, "no stream landed on the first node");
    String stream = name;
    java.util.Random random = new java.util.Random(7);
    List<byte[]> written = new ArrayList<>();
    for (int seq = 0; seq < 100; seq++) {
      byte[] data = new byte[1 + random.nextInt(3000)];
      random.nextBytes(data);
      written.add(data);
      StreamEvent.ProducerStamp stamp = new StreamEvent.ProducerStamp("p", 0, seq);
      StreamReply.AppendReply reply = askStream(client, stream, r -> new StreamCommand.Append(new StreamMessage(data, 0), false,
          "application/octet-stream", stamp, null, r));
      assertEquals(seq + 1, assertInstanceOf(StreamReply.ProducerAppended.class, reply).meta().tail());
    }
    StreamReply.AppendReply retry = askStream(client, stream, r -> new StreamCommand.Append(new StreamMessage(written.get(99), 0), false,
        "application/octet-stream", new StreamEvent.ProducerStamp("p", 0, 99), null, r));
    assertEquals(100, assertInstanceOf(StreamReply.Duplicate.class, retry).meta().tail(), "a retry is not written twice");
    List<StreamMessage> read = new ArrayList<>();
    long next = StreamOffsets.FROM_START;
    while (read.size() < 100) {
      long from = next;
      StreamReply.ReadReply reply = askStream(client, stream, r -> new StreamCommand.Read(from, StreamOffsets.BEYOND, 0, 64 * 1024, true, false, r));
      StreamReply.Page page = assertInstanceOf(StreamReply.Page.class, reply);
      read.addAll(page.messages());
      next = page.next();
    }
    for (int i = 0; i < 100; i++) assertArrayEquals(written.get(i), read.get(i).data(), "message " + i);
  }

  @Test
  void sessionsSpreadAcrossTheNodes() {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 30; i++) ids.add(create(nodes.get(i % 3)));
    for (int n = 0; n < 3; n++) {
      Set<String> here = hosted(n).get(n);
      assertTrue(here.stream().anyMatch(ids::contains), "node " + n + " hosts none of the 30 sessions");
    }
  }

  @Test
  void followerOnOneNodeFollowsASessionOnAnotherAndKeepsEveryEventWhenThatNodeLeaves() throws Exception {
    // a session that lives on the third node
    String id = null;
    for (int i = 0; i < 60 && id == null; i++) {
      String candidate = create(nodes.get(0));
      if (hostOf(candidate, 3) == 2) id = candidate;
    }
    assertTrue(id != null, "no session landed on the third node");
    ActorTestKit follow = nodes.get(0);
    List<SessionEvent> seen = new CopyOnWriteArrayList<>();
    String session = id;
    follow.spawn(Collector.into(seen, consumer -> SessionFollower.create(ClusterSharding.get(follow.system()),
        SessionJournal.fromConfig(follow.system()), FollowerSettings.fromConfig(follow.system().settings().config()), session,
        new SessionCommand.Attach(Participant.of("reader", Role.USER), "laptop", true), 0, consumer)));

    ActorTestKit writerNode = nodes.get(1);
    CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
      for (int n = 0; n < 150; n++) {
        AppendBody body = new AppendBody.PostMessage(null, "e" + n);
        ProducerStamp stamp = new ProducerStamp("w", 0, n);
        Outcome outcome = null;
        for (int attempt = 0; attempt < 40 && outcome == null; attempt++) {
          try {
            outcome = AskPattern.<SessionCommand, Outcome>ask(
                    ClusterSharding.get(writerNode.system()).entityRefFor(SessionEntity.TYPE_KEY, session),
                    reply -> new SessionCommand.Append(WRITER, body, stamp, reply), Duration.ofSeconds(1), writerNode.system().scheduler())
                .toCompletableFuture().join();
          } catch (java.util.concurrent.CompletionException retry) {
            // the session is moving: ask again with the same stamp
          }
        }
        assertInstanceOf(Outcome.Accepted.class, outcome);
        if (n % 10 == 0) java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10)); // pacing
      }
    });
    // the third node leaves mid-stream (a rolling upgrade): its shards move to the others
    TimeUnit.MILLISECONDS.sleep(300); // let part of the stream happen first
    ActorTestKit leaving = nodes.get(2);
    Cluster.get(leaving.system()).manager().tell(Leave.create(Cluster.get(leaving.system()).selfMember().address()));
    leaving.system().getWhenTerminated().toCompletableFuture().get(60, TimeUnit.SECONDS);
    writer.get(120, TimeUnit.SECONDS);

    TestProbe<SummaryReply> probe = follow.createTestProbe();
    ClusterSharding.get(follow.system()).entityRefFor(SessionEntity.TYPE_KEY, session).tell(new SessionCommand.GetSummary(probe.getRef()));
    long head = ((SummaryReply.Summary) probe.receiveMessage(Duration.ofSeconds(15))).head();
    assertTrue(hostOf(session, 2) >= 0, "the session should now live on a remaining node");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while ((seen.isEmpty() ? 0 : seen.get(seen.size() - 1).offset()) < head && System.nanoTime() < deadline) Thread.onSpinWait();
    assertEquals(LongStream.rangeClosed(1, head).boxed().toList(), seen.stream().map(SessionEvent::offset).toList());
    long messages = seen.stream().filter(e -> e instanceof SessionEvent.MessagePosted).count();
    assertEquals(150, messages, "every acknowledged append, exactly once");
  }
}
