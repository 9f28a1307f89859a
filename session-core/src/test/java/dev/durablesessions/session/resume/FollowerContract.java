package dev.durablesessions.session.resume;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.durablesessions.persistence.Database;
import dev.durablesessions.session.AppendBody;
import dev.durablesessions.session.Outcome;
import dev.durablesessions.session.Participant;
import dev.durablesessions.session.Role;
import dev.durablesessions.session.SessionCommand;
import dev.durablesessions.session.SessionEntity;
import dev.durablesessions.session.SessionEvent;
import dev.durablesessions.session.SessionSettings;
import dev.durablesessions.session.SummaryReply;
import dev.durablesessions.session.producer.ProducerStamp;
import dev.durablesessions.testing.TestSystems;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.LongStream;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The catch-up-to-live race against a real entity and journal: followers attach at random
 * offsets while a writer keeps appending, and must see every later event exactly once, in
 * order, whether the backlog comes from the in-memory tail or from the journal.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class FollowerContract {
  static final Participant WRITER = Participant.of("writer", Role.AGENT);
  static final Participant READER = Participant.of("reader", Role.USER);

  abstract Database database();

  ActorTestKit kit;
  SessionJournal journal;
  FollowerSettings followerSettings;

  @BeforeAll
  void start() {
    // A small tail, so that random offsets land both inside it and in the journal.
    kit = TestSystems.start("follower", database(), """
        durable-sessions.session.recent-events = 16
        durable-sessions.session.coalesce-linger = 0
        durable-sessions.follower.page-size = 7
        durable-sessions.follower.max-held = 5
        durable-sessions.follower.keep-alive-interval = 300ms
        """);
    SessionEntity.initSharding(kit.system(), SessionSettings.fromConfig(kit.system().settings().config()), Clock.systemUTC(), null);
    // Catch-up pages of more than 3 events are read as up to 3 queries at once, as long pages are in production.
    journal = SessionJournal.fromConfig(kit.system()).withChunks(3, 3);
    followerSettings = FollowerSettings.fromConfig(kit.system().settings().config());
  }

  final List<ActorRef<SessionFollower.Delivery>> consumers = new CopyOnWriteArrayList<>();

  @AfterAll
  void stop() {
    // Consumers (like sockets) go before the sessions hand off, as in a node's shutdown.
    consumers.forEach(kit::stop);
    kit.shutdownTestKit();
  }

  EntityRef<SessionCommand> session(String id) {
    return ClusterSharding.get(kit.system()).entityRefFor(SessionEntity.TYPE_KEY, id);
  }

  String newSession() {
    String id = "f-" + UUID.randomUUID();
    TestProbe<Outcome> probe = kit.createTestProbe();
    session(id).tell(new SessionCommand.Create(WRITER, null, probe.getRef()));
    probe.expectMessageClass(Outcome.Accepted.class, TestSystems.TIMEOUT);
    return id;
  }

  long head(String id) {
    TestProbe<SummaryReply> probe = kit.createTestProbe();
    session(id).tell(new SessionCommand.GetSummary(probe.getRef()));
    return ((SummaryReply.Summary) probe.receiveMessage(TestSystems.TIMEOUT)).head();
  }

  /**
   * Appends {@code count} messages one after another, with random pauses, off the test thread.
   * Like a real producer it retries an unanswered append with the same stamp (an incarnation
   * that stops drops what was in flight), which exactly-once appends make safe.
   */
  CompletableFuture<Void> writeInBackground(String id, int count, long seed) {
    return CompletableFuture.runAsync(() -> {
      Random random = new Random(seed);
      for (int n = 0; n < count; n++) {
        AppendBody body = new AppendBody.PostMessage(null, "e" + n);
        ProducerStamp stamp = new ProducerStamp("writer", 0, n);
        Outcome outcome = null;
        for (int attempt = 0; attempt < 20 && outcome == null; attempt++) {
          try {
            outcome = AskPattern.<SessionCommand, Outcome>ask(session(id),
                    reply -> new SessionCommand.Append(WRITER, body, stamp, reply),
                    Duration.ofSeconds(1), kit.system().scheduler())
                .toCompletableFuture().join();
          } catch (java.util.concurrent.CompletionException timedOut) {
            // retry with the same stamp
          }
        }
        assertInstanceOf(Outcome.Accepted.class, outcome);
        // Jitter, not synchronization: varies where in the stream each follower attaches.
        if (random.nextInt(4) == 0) LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(random.nextInt(1500)));
      }
    });
  }

  List<SessionEvent> follow(String id, long after) {
    List<SessionEvent> seen = new CopyOnWriteArrayList<>();
    ClusterSharding sharding = ClusterSharding.get(kit.system());
    consumers.add(kit.spawn(dev.durablesessions.testing.Collector.into(seen, consumer ->
        SessionFollower.create(sharding, journal, followerSettings, id, new SessionCommand.Attach(READER, "reader", false), after, consumer))));
    return seen;
  }

  static void awaitOffsets(List<SessionEvent> seen, long after, long last, String context) {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (System.nanoTime() < deadline && (seen.isEmpty() ? after : seen.get(seen.size() - 1).offset()) < last) {
      Thread.onSpinWait();
      LockSupport.parkNanos(1_000_000);
    }
    assertEquals(LongStream.rangeClosed(after + 1, last).boxed().toList(),
        seen.stream().map(SessionEvent::offset).toList(), context);
  }

  @Test
  void followersAttachingAtRandomOffsetsDuringAppendsSeeEveryLaterEventExactlyOnce() {
    Random random = new Random(42);
    for (int trial = 0; trial < 12; trial++) {
      String id = newSession();
      int total = 60 + random.nextInt(60);
      CompletableFuture<Void> writer = writeInBackground(id, total, random.nextLong());
      List<List<SessionEvent>> followers = new java.util.ArrayList<>();
      List<Long> starts = new java.util.ArrayList<>();
      for (int f = 0; f < 4; f++) {
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(random.nextInt(15)));
        long h = head(id);
        long after = h == 0 ? 0 : random.nextLong(h + 1);
        starts.add(after);
        followers.add(follow(id, after));
      }
      writer.join();
      long last = head(id);
      // and one that attaches to the idle session: no later append can paper over a missing backlog
      long lateStart = random.nextLong(last + 1);
      starts.add(lateStart);
      followers.add(follow(id, lateStart));
      for (int f = 0; f < followers.size(); f++) {
        awaitOffsets(followers.get(f), starts.get(f), last, "trial " + trial + " follower from " + starts.get(f));
      }
    }
  }

  @Test
  void aReadSplitIntoConcurrentQueriesGivesWhatOneQueryGives() {
    String id = newSession();
    writeInBackground(id, 40, 1).join();
    long head = journal.read(id, 1, Long.MAX_VALUE).toCompletableFuture().join().size();
    Random random = new Random(7);
    for (int i = 0; i < 60; i++) {
      long from = 1 + random.nextInt((int) head + 5);
      long to = from + random.nextInt(30);
      List<SessionEvent> one = journal.read(id, from, to).toCompletableFuture().join();
      List<SessionEvent> split = journal.readConcurrently(id, from, to).toCompletableFuture().join();
      assertEquals(one, split, "events " + from + ".." + to + " of " + head);
    }
  }

  @Test
  void aDirectReadOfTheJournalTableGivesWhatTheQueryPluginGives() {
    assertTrue(journal.readsDirectly(), "durable-sessions.session.direct-journal-reads is on by default on the JDBC journal");
    SessionJournal plugin = journal.throughQueryPlugin();
    assertFalse(plugin.readsDirectly());
    String id = newSession();
    writeInBackground(id, 50, 3).join();
    List<SessionEvent> all = plugin.read(id, 0, Long.MAX_VALUE).toCompletableFuture().join();
    assertEquals(all, journal.read(id, 0, Long.MAX_VALUE).toCompletableFuture().join());
    assertTrue(all.size() > 50, "the session's whole log: created, joined, 50 messages");
    long head = all.get(all.size() - 1).offset();
    Random random = new Random(11);
    for (int i = 0; i < 60; i++) {
      long from = random.nextInt((int) head + 5);
      long to = from + random.nextInt(40) - 3; // some empty ranges, some past the end
      assertEquals(plugin.read(id, from, to).toCompletableFuture().join(), journal.read(id, from, to).toCompletableFuture().join(),
          "events " + from + ".." + to + " of " + head);
    }
    assertEquals(List.of(), journal.read("no-such-session-" + UUID.randomUUID(), 0, 100).toCompletableFuture().join());
  }

  @Test
  void followerAttachingToAnIdleSessionAtAnyOffsetGetsTheWholeBacklog() {
    String id = newSession();
    writeInBackground(id, 30, 1).join();
    long last = head(id);
    // every offset, so both the tail (16 events) and the journal path are taken
    List<List<SessionEvent>> followers = new java.util.ArrayList<>();
    for (long after = 0; after <= last; after++) followers.add(follow(id, after));
    for (int after = 0; after <= last; after++) awaitOffsets(followers.get(after), after, last, "from " + after);
  }

  @Test
  void withCoalescingDisabledEveryDeltaIsItsOwnEvent() {
    String id = newSession();
    TestProbe<Outcome> acks = kit.createTestProbe();
    session(id).tell(new SessionCommand.Append(WRITER, new AppendBody.StartStream("r"), null, acks.getRef()));
    acks.expectMessageClass(Outcome.Accepted.class, TestSystems.TIMEOUT);
    long start = head(id);
    for (int i = 0; i < 10; i++) {
      session(id).tell(new SessionCommand.Append(WRITER, new AppendBody.AppendDelta("r", "d" + i), null, acks.getRef()));
    }
    List<Long> offsets = new java.util.ArrayList<>();
    for (int i = 0; i < 10; i++) offsets.add(((Outcome.Accepted) acks.receiveMessage(TestSystems.TIMEOUT)).offset());
    assertEquals(LongStream.rangeClosed(start + 1, start + 10).boxed().toList(), offsets);
  }

  @Test
  void followerKeepsEveryEventWhenTheSessionIncarnationStopsMidStream() {
    String id = newSession();
    List<SessionEvent> seen = follow(id, 0);
    CompletableFuture<Void> writer = writeInBackground(id, 200, 7);
    // Stop the incarnation twice while appends continue; sharding starts a new one that
    // recovers from the journal and must learn the follower again.
    for (int i = 0; i < 2; i++) {
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(40));
      session(id).tell(SessionCommand.Passivate.INSTANCE);
    }
    writer.join();
    awaitOffsets(seen, 0, head(id), "follower across restarts");
  }
}
