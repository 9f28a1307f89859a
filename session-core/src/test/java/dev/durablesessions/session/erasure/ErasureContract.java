package dev.durablesessions.session.erasure;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.durablesessions.persistence.Database;
import dev.durablesessions.session.AppendBody.PostMessage;
import dev.durablesessions.session.ErasureReply;
import dev.durablesessions.session.ErrorCode;
import dev.durablesessions.session.Feed;
import dev.durablesessions.session.Outcome;
import dev.durablesessions.session.Outcome.Accepted;
import dev.durablesessions.session.Outcome.Refused;
import dev.durablesessions.session.Participant;
import dev.durablesessions.session.Role;
import dev.durablesessions.session.SessionCommand;
import dev.durablesessions.session.SessionEntity;
import dev.durablesessions.session.SessionSettings;
import dev.durablesessions.session.StateReply;
import dev.durablesessions.session.SummaryReply;
import dev.durablesessions.session.transfer.ControlRequest;
import dev.durablesessions.testing.TestSystems;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.UUID;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Erasure and retention against each real journal database: what an erased session leaves in
 * the tables (checked by SQL), what it answers, that no restart brings it back, who may erase,
 * and which closed sessions the retention erases.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class ErasureContract {
  static final Participant USER = Participant.of("ada", Role.USER);
  static final Participant SUPPORT = Participant.of("sam", Role.SUPPORT);
  static final Participant ADMIN = Participant.of("root", Role.ADMIN);

  abstract Database database();

  /** Gives back what {@link #database()} set up, after the actor systems stopped. */
  void release(Database db) {}

  ActorTestKit kit;
  Database db;

  @BeforeAll
  void start() {
    db = database();
    // Small snapshot interval, so that the erased sessions have snapshots to lose.
    kit = TestSystems.start("erasure", db, "durable-sessions.session.snapshot-every = 5");
    SessionEntity.initSharding(kit.system(), SessionSettings.fromConfig(kit.system().settings().config()), Clock.systemUTC(), null);
  }

  @AfterAll
  void stop() {
    kit.shutdownTestKit();
    release(db);
  }

  EntityRef<SessionCommand> session(ActorTestKit in, String id) {
    return ClusterSharding.get(in.system()).entityRefFor(SessionEntity.TYPE_KEY, id);
  }

  Outcome ask(ActorTestKit in, String id, java.util.function.Function<org.apache.pekko.actor.typed.ActorRef<Outcome>, SessionCommand> command) {
    TestProbe<Outcome> probe = in.createTestProbe();
    session(in, id).tell(command.apply(probe.getRef()));
    return probe.expectMessageClass(Outcome.class, Duration.ofSeconds(20));
  }

  ErasureReply erase(ActorTestKit in, String id, Participant by, ErasureReason reason) {
    TestProbe<ErasureReply> probe = in.createTestProbe();
    session(in, id).tell(new SessionCommand.Erase(by, reason, probe.getRef()));
    return probe.expectMessageClass(ErasureReply.class, Duration.ofSeconds(20));
  }

  SummaryReply summary(ActorTestKit in, String id) {
    TestProbe<SummaryReply> probe = in.createTestProbe();
    session(in, id).tell(new SessionCommand.GetSummary(probe.getRef()));
    return probe.expectMessageClass(SummaryReply.class, Duration.ofSeconds(20));
  }

  /** A question sent while an incarnation stops itself may die with it: asked again until answered. */
  SummaryReply summaryOfNextIncarnation(String id) {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (true) {
      TestProbe<SummaryReply> probe = kit.createTestProbe();
      session(kit, id).tell(new SessionCommand.GetSummary(probe.getRef()));
      try {
        return probe.expectMessageClass(SummaryReply.class, Duration.ofSeconds(1));
      } catch (AssertionError unanswered) {
        if (System.nanoTime() > deadline) throw unanswered;
      }
    }
  }

  /** A session with {@code messages} messages after its two opening events. */
  String sessionWith(int messages) {
    String id = "er-" + UUID.randomUUID();
    assertEquals(new Accepted(2, null, false), ask(kit, id, r -> new SessionCommand.Create(USER, null, r)));
    for (int i = 0; i < messages; i++) {
      PostMessage message = new PostMessage("m" + i, "secret " + i);
      assertInstanceOf(Accepted.class, ask(kit, id, r -> new SessionCommand.Append(USER, message, null, r)));
    }
    return id;
  }

  void close(String id) {
    assertInstanceOf(Accepted.class, ask(kit, id, r -> new SessionCommand.ChangeControl(SUPPORT, new ControlRequest.Close("done"), r)));
  }

  static void assertErased(Object reply) {
    Refused refused = assertInstanceOf(Refused.class, reply);
    assertEquals(ErrorCode.SESSION_ERASED, refused.code(), refused.message());
  }

  long count(String sql, Object... args) {
    try (Connection c = db.connect(); PreparedStatement s = c.prepareStatement(sql)) {
      for (int i = 0; i < args.length; i++) s.setObject(i + 1, args[i]);
      try (ResultSet rs = s.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  static String pid(String id) {
    return SessionEntity.persistenceId(id).id();
  }

  long journalRows(String id) {
    return count("SELECT COUNT(*) FROM \"event_journal\" WHERE \"persistence_id\" = ?", pid(id));
  }

  long journalRowsUpTo(String id, long head) {
    return count("SELECT COUNT(*) FROM \"event_journal\" WHERE \"persistence_id\" = ? AND \"sequence_number\" <= ?", pid(id), head);
  }

  long snapshotRows(String id) {
    return count("SELECT COUNT(*) FROM \"snapshot\" WHERE \"persistence_id\" = ?", pid(id));
  }

  long closedTagRows(String id) {
    return count("SELECT COUNT(*) FROM \"event_tag\" t JOIN \"event_journal\" j ON j.\"ordering\" = t.\"event_id\""
        + " WHERE j.\"persistence_id\" = ? AND t.\"tag\" = ?", pid(id), SessionEntity.CLOSED_TAG);
  }

  long auditRows(String id, String erasedBy, String reason) {
    return count("SELECT COUNT(*) FROM \"session_erasure\" WHERE \"session_id\" = ? AND \"erased_by\" = ? AND \"reason\" = ?",
        id, erasedBy, reason);
  }

  @Test
  void anErasedSessionLeavesNoEventsNorSnapshotsAndTheErasureIsRecorded() {
    String id = sessionWith(6);
    close(id);
    long head = ((SummaryReply.Summary) summary(kit, id)).head();
    TestProbe<Feed> subscriber = kit.createTestProbe();
    session(kit, id).tell(new SessionCommand.Subscribe(subscriber.getRef(), new SessionCommand.Attach(USER, "phone", true), head, 100));
    subscriber.expectMessageClass(Feed.Attached.class, TestSystems.TIMEOUT);
    long headNow = ((SummaryReply.Summary) summary(kit, id)).head(); // the phone's connection was written too
    assertEquals(headNow, journalRows(id));
    assertTrue(snapshotRows(id) > 0, "a snapshot was written every 5 events");
    assertEquals(1, closedTagRows(id), "session.closed is tagged for retention");

    ErasureReply.Erased erased = assertInstanceOf(ErasureReply.Erased.class, erase(kit, id, ADMIN, ErasureReason.ADMIN));
    assertFalse(erased.already());
    ErasureRecord record = erased.record();
    assertEquals(id, record.sessionId());
    assertEquals("root", record.erasedBy());
    assertEquals("admin", record.role());
    assertEquals(ErasureReason.ADMIN, record.reason());
    assertEquals(headNow, record.head());
    assertEquals(headNow, record.events());
    assertTrue(record.snapshots() > 0);

    // By SQL: the session's events and snapshots are gone, its tag with them; only the tombstone is left.
    assertEquals(0, journalRowsUpTo(id, headNow));
    assertEquals(1, journalRows(id));
    assertEquals(0, snapshotRows(id));
    assertEquals(0, closedTagRows(id));
    assertEquals(1, auditRows(id, "root", "admin"));

    // Its subscriber is cut off, and everything answers session_erased.
    Feed last = subscriber.receiveMessage(TestSystems.TIMEOUT);
    while (last instanceof Feed.Events) last = subscriber.receiveMessage(TestSystems.TIMEOUT); // its own connection first
    assertErased(last);
    assertErased(summary(kit, id));
    assertErased(ask(kit, id, r -> new SessionCommand.Join(USER, r)));
    assertErased(ask(kit, id, r -> new SessionCommand.Append(USER, new PostMessage(null, "again?"), null, r)));
    TestProbe<StateReply> state = kit.createTestProbe();
    session(kit, id).tell(new SessionCommand.GetState(state.getRef()));
    assertErased(state.receiveMessage(TestSystems.TIMEOUT));
    TestProbe<Feed> late = kit.createTestProbe();
    session(kit, id).tell(new SessionCommand.Subscribe(late.getRef(), new SessionCommand.Attach(USER, "tablet", true), 0, 100));
    assertErased(late.receiveMessage(TestSystems.TIMEOUT));

    // Asked again: the first record, nothing more deleted; and after a passivation, the same.
    ErasureReply.Erased again = assertInstanceOf(ErasureReply.Erased.class, erase(kit, id, ADMIN, ErasureReason.ADMIN));
    assertTrue(again.already());
    assertEquals(record, again.record());
    session(kit, id).tell(SessionCommand.Passivate.INSTANCE);
    assertErased(summaryOfNextIncarnation(id));
    assertEquals(1, journalRows(id));
  }

  @Test
  void anErasedSessionStaysErasedAfterARestartAndItsIdIsNeverReused() {
    String id = sessionWith(7);
    ErasureReply.Erased erased = assertInstanceOf(ErasureReply.Erased.class, erase(kit, id, ADMIN, ErasureReason.ADMIN));
    long head = erased.record().head();

    ActorTestKit restarted = TestSystems.start("erasure-restarted", db, "durable-sessions.session.snapshot-every = 5");
    try {
      SessionEntity.initSharding(restarted.system(), SessionSettings.fromConfig(restarted.system().settings().config()),
          Clock.systemUTC(), null);
      assertErased(summary(restarted, id));
      assertErased(ask(restarted, id, r -> new SessionCommand.Create(USER, null, r)));
      assertErased(ask(restarted, id, r -> new SessionCommand.Append(USER, new PostMessage(null, "hello?"), null, r)));
      assertEquals(0, journalRowsUpTo(id, head), "nothing of the old history came back");
      assertEquals(1, journalRows(id), "and nothing new was written");
    } finally {
      restarted.shutdownTestKit();
    }
  }

  @Test
  void anErasureWhoseDeletionFailedIsFinishedByTheSessionsNextStart() {
    // One incarnation whose database connection for erasure fails (nothing listens on port 1), then a healthy one.
    String id = "er-outage-" + UUID.randomUUID();
    SessionSettings settings = SessionSettings.fromConfig(kit.system().settings().config());
    java.util.concurrent.Executor blocking = kit.system().dispatchers()
        .lookup(org.apache.pekko.actor.typed.DispatcherSelector.fromConfig("durable-sessions.erasure.dispatcher"));
    ErasureStore unreachable = new ErasureStore(new Database("jdbc:h2:tcp://127.0.0.1:1/nothing", "sa", "", 1), blocking);
    var first = kit.spawn(SessionEntity.create(id, settings, Clock.systemUTC(), null, null, unreachable));
    TestProbe<Outcome> outcomes = kit.createTestProbe();
    first.tell(new SessionCommand.Create(USER, null, outcomes.getRef()));
    outcomes.expectMessageClass(Accepted.class, TestSystems.TIMEOUT);
    for (int i = 0; i < 6; i++) {
      first.tell(new SessionCommand.Append(USER, new PostMessage("m" + i, "secret " + i), null, outcomes.getRef()));
      outcomes.expectMessageClass(Accepted.class, TestSystems.TIMEOUT);
    }
    TestProbe<ErasureReply> replies = kit.createTestProbe();
    first.tell(new SessionCommand.Erase(ADMIN, ErasureReason.ADMIN, replies.getRef()));
    assertEquals(ErrorCode.UNAVAILABLE, assertInstanceOf(Refused.class, replies.receiveMessage(TestSystems.TIMEOUT)).code());
    // Erased all the same: it refuses everything, while its rows are still there and nothing is recorded.
    TestProbe<SummaryReply> summaries = kit.createTestProbe();
    first.tell(new SessionCommand.GetSummary(summaries.getRef()));
    assertErased(summaries.receiveMessage(TestSystems.TIMEOUT));
    assertEquals(9, journalRows(id), "eight events and the tombstone");
    assertTrue(snapshotRows(id) > 0);
    assertEquals(0, count("SELECT COUNT(*) FROM \"session_erasure\" WHERE \"session_id\" = ?", id));
    first.tell(SessionCommand.Passivate.INSTANCE);
    outcomes.expectTerminated(first, TestSystems.TIMEOUT);

    var second = kit.spawn(SessionEntity.create(id, settings, Clock.systemUTC(), null, null, ErasureStore.forJournal(kit.system())));
    second.tell(new SessionCommand.GetSummary(summaries.getRef()));
    assertErased(summaries.receiveMessage(TestSystems.TIMEOUT));
    awaitCondition(() -> journalRows(id) == 1, "the restart finished the deletion");
    assertEquals(0, journalRowsUpTo(id, 8));
    assertEquals(0, snapshotRows(id));
    second.tell(new SessionCommand.Erase(ADMIN, ErasureReason.ADMIN, replies.getRef()));
    ErasureReply.Erased erased = assertInstanceOf(ErasureReply.Erased.class, replies.receiveMessage(TestSystems.TIMEOUT));
    assertTrue(erased.already(), "the restart recorded it");
    assertEquals("root", erased.record().erasedBy());
    assertEquals(8, erased.record().head());
    assertEquals(8, erased.record().events());
    assertTrue(erased.record().snapshots() > 0);
  }

  @Test
  void onlyAdminsEraseAndARefusedErasureChangesNothing() {
    String id = sessionWith(3);
    long head = ((SummaryReply.Summary) summary(kit, id)).head();
    for (Participant who : List.of(USER, SUPPORT, Participant.of("bot", Role.AGENT), Participant.of("eve", Role.OBSERVER))) {
      Refused refused = assertInstanceOf(Refused.class, erase(kit, id, who, ErasureReason.ADMIN));
      assertEquals(ErrorCode.FORBIDDEN, refused.code());
    }
    // The retention erases closed sessions only, and nobody but the server speaks for it.
    assertEquals(ErrorCode.ILLEGAL_TRANSITION,
        assertInstanceOf(Refused.class, erase(kit, id, RetentionSweeper.RETENTION, ErasureReason.RETENTION)).code());
    assertEquals(ErrorCode.FORBIDDEN, assertInstanceOf(Refused.class, erase(kit, id, ADMIN, ErasureReason.RETENTION)).code());
    assertEquals(head, ((SummaryReply.Summary) summary(kit, id)).head());
    assertEquals(head, journalRows(id));
    assertEquals(0, count("SELECT COUNT(*) FROM \"session_erasure\" WHERE \"session_id\" = ?", id));

    // A session that never existed is not found, and erasing it leaves nothing that would block creating it.
    String unknown = "er-unknown-" + UUID.randomUUID();
    assertEquals(ErrorCode.SESSION_NOT_FOUND, assertInstanceOf(Refused.class, erase(kit, unknown, ADMIN, ErasureReason.ADMIN)).code());
    assertEquals(0, journalRows(unknown));
    assertEquals(new Accepted(2, null, false), ask(kit, unknown, r -> new SessionCommand.Create(USER, null, r)));
  }

  @Test
  void retentionErasesSessionsClosedLongerAgoAndKeepsOpenAndRecentlyClosedOnes() {
    String old = sessionWith(6);
    close(old);
    // Every write of the old closure is done by now: its journal timestamp is at most closedBy.
    Instant closedBy = Instant.now();
    String open = sessionWith(2);
    awaitClockPast(closedBy);
    String recent = sessionWith(2);
    close(recent);

    Duration retention = Duration.ofDays(30);
    // The retention's clock stands 30 days after a moment between the two closures.
    Clock clock = Clock.fixed(closedBy.plusMillis(1).plus(retention), ZoneOffset.UTC);
    RetentionSettings settings = new RetentionSettings(retention, Duration.ofHours(1), 2, Duration.ofSeconds(20));
    var sweeper = kit.spawn(RetentionSweeper.create(settings, clock, ClusterSharding.get(kit.system()),
        ErasureStore.forJournal(kit.system())));
    TestProbe<RetentionSweeper.Report> reports = kit.createTestProbe();
    sweeper.tell(new RetentionSweeper.SweepNow(reports.getRef()));
    RetentionSweeper.Report report = reports.expectMessageClass(RetentionSweeper.Report.class, Duration.ofSeconds(60));

    assertTrue(report.erased().contains(old), report.toString());
    assertFalse(report.erased().contains(recent), report.toString());
    assertFalse(report.erased().contains(open), report.toString());
    assertTrue(report.failed().isEmpty(), report.toString());
    assertErased(summary(kit, old));
    assertEquals(1, journalRows(old));
    assertEquals(0, snapshotRows(old));
    assertEquals(1, auditRows(old, "retention", "retention"));
    assertInstanceOf(SummaryReply.Summary.class, summary(kit, recent));
    assertInstanceOf(SummaryReply.Summary.class, summary(kit, open));
    assertEquals(4, journalRows(open));

    // Nothing left to do at the same time; 30 days after the recent closure, it goes too.
    sweeper.tell(new RetentionSweeper.SweepNow(reports.getRef()));
    assertFalse(reports.expectMessageClass(RetentionSweeper.Report.class, Duration.ofSeconds(60)).erased().contains(old));
    var later = kit.spawn(RetentionSweeper.create(settings, Clock.fixed(Instant.now().plus(retention), ZoneOffset.UTC),
        ClusterSharding.get(kit.system()), ErasureStore.forJournal(kit.system())));
    later.tell(new RetentionSweeper.SweepNow(reports.getRef()));
    RetentionSweeper.Report second = reports.expectMessageClass(RetentionSweeper.Report.class, Duration.ofSeconds(60));
    assertTrue(second.erased().contains(recent), second.toString());
    assertFalse(second.erased().contains(open), second.toString());
    assertInstanceOf(SummaryReply.Summary.class, summary(kit, open));
  }

  /** Polls {@code condition} (a query) every 20 ms for up to 20 s. */
  static void awaitCondition(java.util.function.BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) throw new AssertionError("not within 20 s: " + what);
      try {
        java.util.concurrent.TimeUnit.MILLISECONDS.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
  }

  /** Waits until the wall clock (which stamps journal writes) has passed {@code instant} by a millisecond. */
  static void awaitClockPast(Instant instant) {
    long deadline = System.nanoTime() + Duration.ofSeconds(1).toNanos();
    while (Instant.now().toEpochMilli() <= instant.toEpochMilli()) {
      if (System.nanoTime() > deadline) throw new AssertionError("the clock did not move");
      Thread.onSpinWait();
    }
  }
}
