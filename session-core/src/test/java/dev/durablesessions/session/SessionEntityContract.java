package dev.durablesessions.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.durablesessions.persistence.Database;
import dev.durablesessions.session.AppendBody.AppendDelta;
import dev.durablesessions.session.AppendBody.EndStream;
import dev.durablesessions.session.AppendBody.PostMessage;
import dev.durablesessions.session.AppendBody.SendSignal;
import dev.durablesessions.session.AppendBody.StartStream;
import dev.durablesessions.session.Outcome.Accepted;
import dev.durablesessions.session.Outcome.Refused;
import dev.durablesessions.session.SessionEvent.StreamDelta;
import dev.durablesessions.session.producer.ProducerStamp;
import dev.durablesessions.testing.TestSystems;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The session entity's guarantees, run against each real journal database. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class SessionEntityContract {
  static final Participant USER = Participant.of("ada", Role.USER);
  static final Participant AGENT = Participant.of("agent-1", Role.AGENT);
  static final Participant WATCHER = Participant.of("eve", Role.OBSERVER);

  abstract Database database();

  ActorTestKit kit;
  Database db;

  @BeforeAll
  void start() {
    db = database();
    kit = TestSystems.start("entity", db, "durable-sessions.session.coalesce-linger = 200ms");
    SessionEntity.initSharding(kit.system(), SessionSettings.fromConfig(kit.system().settings().config()), Clock.systemUTC(), null);
  }

  @AfterAll
  void stop() {
    kit.shutdownTestKit();
  }

  EntityRef<SessionCommand> session(String id) {
    return ClusterSharding.get(kit.system()).entityRefFor(SessionEntity.TYPE_KEY, id);
  }

  String newSession() {
    String id = "s-" + UUID.randomUUID();
    TestProbe<Outcome> probe = kit.createTestProbe();
    session(id).tell(new SessionCommand.Create(USER, null, probe.getRef()));
    // answered with the head: the created event and the creator joining
    assertEquals(new Accepted(2, null, false), probe.expectMessageClass(Outcome.class, TestSystems.TIMEOUT));
    return id;
  }

  Outcome append(String id, Participant by, AppendBody body, ProducerStamp stamp) {
    TestProbe<Outcome> probe = kit.createTestProbe();
    session(id).tell(new SessionCommand.Append(by, body, stamp, probe.getRef()));
    return probe.expectMessageClass(Outcome.class, TestSystems.TIMEOUT);
  }

  SummaryReply.Summary summary(String id) {
    TestProbe<SummaryReply> probe = kit.createTestProbe();
    session(id).tell(new SessionCommand.GetSummary(probe.getRef()));
    return assertInstanceOf(SummaryReply.Summary.class, probe.expectMessageClass(SummaryReply.class, TestSystems.TIMEOUT));
  }

  /** Subscribes a probe from {@code after} and returns it after the Attached message. */
  TestProbe<Feed> subscribe(String id, long after) {
    TestProbe<Feed> probe = kit.createTestProbe();
    session(id).tell(new SessionCommand.Subscribe(probe.getRef(), new SessionCommand.Attach(USER, "probe", false), after, 1000));
    probe.expectMessageClass(Feed.Attached.class, TestSystems.TIMEOUT);
    return probe;
  }

  @Test
  void createdSessionStartsWithCreatorJoinedAndRefusesSecondCreate() {
    String id = newSession();
    SummaryReply.Summary s = summary(id);
    assertEquals(2, s.head());
    assertEquals(List.of(USER), s.participants().stream().map(SummaryReply.ParticipantView::participant).toList());
    assertEquals(dev.durablesessions.session.presence.Presence.Status.OFFLINE, s.participants().get(0).presence().status());
    TestProbe<Outcome> probe = kit.createTestProbe();
    session(id).tell(new SessionCommand.Create(USER, null, probe.getRef()));
    assertEquals(ErrorCode.SESSION_EXISTS, ((Refused) probe.receiveMessage(TestSystems.TIMEOUT)).code());
  }

  @Test
  void aSessionRecordsThePoolItWasCreatedIn() {
    String id = "s-" + UUID.randomUUID();
    TestProbe<Outcome> probe = kit.createTestProbe();
    session(id).tell(new SessionCommand.Create(USER, "support-bot", probe.getRef()));
    assertEquals(new Accepted(2, null, false), probe.expectMessageClass(Outcome.class, TestSystems.TIMEOUT));
    assertEquals("support-bot", summary(id).pool());
    TestProbe<Feed> feed = subscribe(id, 0);
    SessionEvent first = feed.expectMessageClass(Feed.Events.class, TestSystems.TIMEOUT).events().get(0);
    assertEquals("support-bot", assertInstanceOf(SessionEvent.SessionCreated.class, first).pool());
    // a second create, even naming another pool, changes nothing
    session(id).tell(new SessionCommand.Create(USER, "default", probe.getRef()));
    assertEquals(ErrorCode.SESSION_EXISTS, ((Refused) probe.receiveMessage(TestSystems.TIMEOUT)).code());
    assertEquals("support-bot", summary(id).pool());
  }

  Outcome ask(String id, java.util.function.Function<org.apache.pekko.actor.typed.ActorRef<Outcome>, SessionCommand> command) {
    TestProbe<Outcome> probe = kit.createTestProbe();
    session(id).tell(command.apply(probe.getRef()));
    return probe.expectMessageClass(Outcome.class, TestSystems.TIMEOUT);
  }

  Outcome appendUnder(String id, Participant by, AppendBody body, Long lease) {
    return ask(id, r -> new SessionCommand.Append(by, body, null, lease, r));
  }

  @Test
  void aWorkerWhoseLeaseExpiredIsFencedAndItsInterruptedAnswerEndsAsAgentLost() {
    String id = newSession();
    Participant w1 = Participant.of("w1", Role.AGENT);
    Participant w2 = Participant.of("w2", Role.AGENT);
    assertInstanceOf(Accepted.class, ask(id, r -> new SessionCommand.Assign("w1", 0, "needs_agent", r)));
    assertInstanceOf(Accepted.class, appendUnder(id, w1, new AppendBody.StartStream("answer-1"), 1L));
    assertInstanceOf(Accepted.class, appendUnder(id, w1, new AppendBody.AppendDelta("answer-1", "Let me"), 1L));
    assertEquals("w1", summary(id).lease().agent());
    // w1's connection died and did not come back: the dispatcher ends its lease, then gives the session to w2
    assertInstanceOf(Accepted.class,
        ask(id, r -> new SessionCommand.EndLease("w1", 1, dev.durablesessions.session.dispatch.LeaseRules.Ending.EXPIRED, "lease_expired", r)));
    assertEquals(List.of(), summary(id).openStreams(), "the interrupted answer was ended");
    assertEquals(ErrorCode.LEASE_CONFLICT,
        assertInstanceOf(Refused.class, ask(id, r -> new SessionCommand.Assign("w2", 0, "failover", r))).code(),
        "a dispatcher that did not see the failover assigns nothing");
    assertInstanceOf(Accepted.class, ask(id, r -> new SessionCommand.Assign("w2", 1, "failover", r)));
    long head = summary(id).head();
    // w1 comes back, with or without its old lease: it writes nothing
    assertEquals(ErrorCode.STALE_LEASE, assertInstanceOf(Refused.class,
        appendUnder(id, w1, new AppendBody.AppendDelta("answer-1", " check"), 1L)).code());
    assertEquals(ErrorCode.STALE_LEASE, assertInstanceOf(Refused.class,
        appendUnder(id, w1, new AppendBody.PostMessage("m-stale", "late"), null)).code());
    assertEquals(ErrorCode.STALE_LEASE, assertInstanceOf(Refused.class,
        ask(id, r -> new SessionCommand.EndLease("w1", 1, dev.durablesessions.session.dispatch.LeaseRules.Ending.RELEASED, "done", r))).code());
    assertEquals(head, summary(id).head(), "the stale worker wrote nothing");
    assertInstanceOf(Accepted.class, appendUnder(id, w2, new AppendBody.PostMessage("m-2", "Here is your answer"), 2L));
    TestProbe<Feed> feed = subscribe(id, 0);
    List<SessionEvent> events = new ArrayList<>();
    while (events.isEmpty() || events.get(events.size() - 1).offset() < head + 1) {
      events.addAll(feed.expectMessageClass(Feed.Events.class, TestSystems.TIMEOUT).events());
    }
    List<String> types = events.stream().map(e -> e.getClass().getSimpleName()).toList();
    int failover = types.indexOf("AgentFailover");
    assertEquals("StreamEnded", types.get(failover - 1), types.toString());
    assertEquals(EndReason.AGENT_LOST, ((SessionEvent.StreamEnded) events.get(failover - 1)).reason());
    SessionEvent.AgentAssigned second = (SessionEvent.AgentAssigned) events.get(types.lastIndexOf("AgentAssigned"));
    assertEquals(List.of("w2", 2L, "failover"), List.of(second.agent(), second.epoch(), second.reason()));
  }

  @Test
  void aFailedWebhookCallIsRecordedInTheOpenSessionAndRefusedOnceItIsClosedOrUnknown() {
    String id = newSession();
    Accepted recorded = assertInstanceOf(Accepted.class,
        ask(id, r -> new SessionCommand.RecordWebhookFailure("billing-fn", 5, 503, "503 Service Unavailable", id + ":1:1", r)));
    assertEquals(3, recorded.offset());
    TestProbe<Feed> feed = subscribe(id, 2);
    SessionEvent.AgentWebhookFailed failed = assertInstanceOf(SessionEvent.AgentWebhookFailed.class,
        feed.expectMessageClass(Feed.Events.class, TestSystems.TIMEOUT).events().get(0));
    assertEquals(List.of("billing-fn", 5, 503, id + ":1:1"),
        List.of(failed.pool(), failed.attempts(), failed.lastStatus(), failed.idempotencyKey()));
    assertEquals(Participant.SESSION, failed.by());
    assertInstanceOf(Accepted.class, ask(id, r -> new SessionCommand.ChangeControl(Participant.of("sam", Role.SUPPORT),
        new dev.durablesessions.session.transfer.ControlRequest.Close("done"), r)));
    long head = summary(id).head();
    assertEquals(ErrorCode.SESSION_CLOSED, assertInstanceOf(Refused.class,
        ask(id, r -> new SessionCommand.RecordWebhookFailure("billing-fn", 5, null, "timeout", id + ":2:1", r))).code());
    assertEquals(head, summary(id).head(), "a closed session records nothing");
    assertEquals(ErrorCode.SESSION_NOT_FOUND, assertInstanceOf(Refused.class,
        ask("s-" + UUID.randomUUID(), r -> new SessionCommand.RecordWebhookFailure("p", 1, null, "timeout", "k", r))).code());
  }

  @Test
  void twoDispatchersRacingForOneSessionGiveItExactlyOneAgent() {
    String id = newSession();
    TestProbe<Outcome> first = kit.createTestProbe();
    TestProbe<Outcome> second = kit.createTestProbe();
    session(id).tell(new SessionCommand.Assign("w1", 0, "needs_agent", first.getRef()));
    session(id).tell(new SessionCommand.Assign("w2", 0, "needs_agent", second.getRef()));
    List<Outcome> answers = List.of(first.expectMessageClass(Outcome.class, TestSystems.TIMEOUT),
        second.expectMessageClass(Outcome.class, TestSystems.TIMEOUT));
    assertEquals(1, answers.stream().filter(a -> a instanceof Accepted).count(), answers.toString());
    assertEquals(ErrorCode.LEASE_CONFLICT, answers.stream().filter(a -> a instanceof Refused).map(a -> ((Refused) a).code()).findFirst().orElseThrow());
    assertEquals(answers.get(0) instanceof Accepted ? "w1" : "w2", summary(id).lease().agent());
  }

  @Test
  void unknownSessionRefusesEverythingAndWritesNothing() {
    String id = "missing-" + UUID.randomUUID();
    Refused r = assertInstanceOf(Refused.class, append(id, USER, new PostMessage(null, "hi"), null));
    assertEquals(ErrorCode.SESSION_NOT_FOUND, r.code());
    TestProbe<SummaryReply> probe = kit.createTestProbe();
    session(id).tell(new SessionCommand.GetSummary(probe.getRef()));
    assertEquals(ErrorCode.SESSION_NOT_FOUND, ((Refused) probe.receiveMessage(TestSystems.TIMEOUT)).code());
  }

  @Test
  void appendsGetConsecutiveOffsetsAndAuthorsAutoJoin() {
    String id = newSession();
    TestProbe<Feed> feed = subscribe(id, 2);
    Accepted first = assertInstanceOf(Accepted.class, append(id, USER, new PostMessage("m1", "hello"), null));
    assertEquals(3, first.offset());
    Accepted second = assertInstanceOf(Accepted.class, append(id, AGENT, new PostMessage("m2", "hi ada"), null));
    // the agent was not a participant: its join is written first, in the same batch
    assertEquals(5, second.offset());
    List<SessionEvent> seen = new ArrayList<>();
    while (seen.size() < 3) seen.addAll(feed.expectMessageClass(Feed.Events.class, TestSystems.TIMEOUT).events());
    assertEquals(List.of(3L, 4L, 5L), seen.stream().map(SessionEvent::offset).toList());
    assertInstanceOf(SessionEvent.ParticipantJoined.class, seen.get(1));
    assertEquals(AGENT, seen.get(2).by());
  }

  @Test
  void retriedAppendReturnsTheOriginalOffsetAndWritesNothing() {
    String id = newSession();
    ProducerStamp stamp = new ProducerStamp("agent-1/p", 3, 0);
    Accepted original = assertInstanceOf(Accepted.class, append(id, AGENT, new PostMessage("m1", "once"), stamp));
    long head = summary(id).head();
    Accepted retry = assertInstanceOf(Accepted.class, append(id, AGENT, new PostMessage("m1", "once"), stamp));
    assertEquals(original.offset(), retry.offset());
    assertTrue(retry.duplicate());
    assertEquals(head, summary(id).head());
  }

  @Test
  void olderEpochIsFencedAndSequenceGapsAreRefused() {
    String id = newSession();
    assertInstanceOf(Accepted.class, append(id, AGENT, new PostMessage(null, "a"), new ProducerStamp("p", 2, 0)));
    long head = summary(id).head();
    Refused stale = assertInstanceOf(Refused.class, append(id, AGENT, new PostMessage(null, "b"), new ProducerStamp("p", 1, 1)));
    assertEquals(ErrorCode.STALE_EPOCH, stale.code());
    Refused gap = assertInstanceOf(Refused.class, append(id, AGENT, new PostMessage(null, "c"), new ProducerStamp("p", 2, 5)));
    assertEquals(ErrorCode.SEQUENCE_GAP, gap.code());
    assertEquals(head, summary(id).head());
    Accepted next = assertInstanceOf(Accepted.class, append(id, AGENT, new PostMessage(null, "d"), new ProducerStamp("p", 2, 1)));
    assertEquals(head + 1, next.offset());
  }

  @Test
  void coalescedDeltasKeepEveryTextInOrderAndAcknowledgeEverySequence() {
    String id = newSession();
    assertInstanceOf(Accepted.class, append(id, AGENT, new StartStream("r1"), new ProducerStamp("p", 0, 0)));
    TestProbe<Feed> feed = subscribe(id, summary(id).head());
    TestProbe<Outcome> acks = kit.createTestProbe();
    StringBuilder expected = new StringBuilder();
    int deltas = 40;
    for (int i = 1; i <= deltas; i++) {
      String token = "tok" + i + " ";
      expected.append(token);
      session(id).tell(new SessionCommand.Append(AGENT, new AppendDelta("r1", token), new ProducerStamp("p", 0, i), acks.getRef()));
    }
    List<Accepted> answers = new ArrayList<>();
    for (int i = 0; i < deltas; i++) answers.add((Accepted) acks.expectMessageClass(Outcome.class, TestSystems.TIMEOUT));
    assertEquals(
        java.util.stream.LongStream.rangeClosed(1, deltas).boxed().toList(),
        answers.stream().map(Accepted::seq).sorted().toList());
    StringBuilder delivered = new StringBuilder();
    int events = 0;
    while (delivered.length() < expected.length()) {
      for (SessionEvent e : feed.expectMessageClass(Feed.Events.class, TestSystems.TIMEOUT).events()) {
        StreamDelta d = assertInstanceOf(StreamDelta.class, e);
        delivered.append(d.text());
        events++;
      }
    }
    assertEquals(expected.toString(), delivered.toString());
    assertTrue(events < deltas, "40 deltas sent within one linger window should coalesce, got " + events + " events");
    // every acknowledged offset is one of the written events
    long head = summary(id).head();
    assertTrue(answers.stream().allMatch(a -> a.offset() > 3 && a.offset() <= head));
  }

  @Test
  void retryOfAHeldDeltaIsAnsweredWithItsOffsetAndWrittenOnce() {
    String id = newSession();
    assertInstanceOf(Accepted.class, append(id, AGENT, new StartStream("r1"), new ProducerStamp("p", 0, 0)));
    TestProbe<Outcome> acks = kit.createTestProbe();
    session(id).tell(new SessionCommand.Append(AGENT, new AppendDelta("r1", "x"), new ProducerStamp("p", 0, 1), acks.getRef()));
    session(id).tell(new SessionCommand.Append(AGENT, new AppendDelta("r1", "x"), new ProducerStamp("p", 0, 1), acks.getRef()));
    Accepted a = (Accepted) acks.receiveMessage(TestSystems.TIMEOUT);
    Accepted b = (Accepted) acks.receiveMessage(TestSystems.TIMEOUT);
    assertEquals(a.offset(), b.offset());
    assertTrue(a.duplicate() != b.duplicate());
    assertEquals(a.offset(), summary(id).head());
  }

  @Test
  void streamRulesAndRolesRefuseWithoutChangingTheSession() {
    String id = newSession();
    long head = summary(id).head();
    assertEquals(ErrorCode.STREAM_NOT_OPEN,
        ((Refused) append(id, AGENT, new AppendDelta("nope", "x"), null)).code());
    assertEquals(ErrorCode.STREAM_NOT_OPEN,
        ((Refused) append(id, AGENT, new EndStream("nope", EndReason.COMPLETE, null), null)).code());
    assertEquals(ErrorCode.FORBIDDEN,
        ((Refused) append(id, WATCHER, new PostMessage(null, "x"), null)).code());
    assertEquals(ErrorCode.INVALID_FRAME,
        ((Refused) append(id, USER, new SendSignal(SignalKind.INTERRUPT, new Target(null, null), null, null), null)).code());
    assertInstanceOf(Accepted.class, append(id, AGENT, new StartStream("r1"), null));
    assertEquals(ErrorCode.STREAM_EXISTS, ((Refused) append(id, AGENT, new StartStream("r1"), null)).code());
    // only the stream's author may add to it
    assertEquals(ErrorCode.STREAM_NOT_OPEN, ((Refused) append(id, USER, new AppendDelta("r1", "x"), null)).code());
    assertEquals(head + 2, summary(id).head()); // the agent's join and its stream start, nothing else
  }

  @Test
  void signalReachesSubscribersAfterItIsPersisted() {
    String id = newSession();
    TestProbe<Feed> agentFeed = subscribe(id, summary(id).head());
    Accepted sent = assertInstanceOf(Accepted.class,
        append(id, USER, new SendSignal(SignalKind.INTERRUPT, Target.role(Role.AGENT), "stop", null), null));
    SessionEvent.SignalSent signal = assertInstanceOf(SessionEvent.SignalSent.class,
        agentFeed.expectMessageClass(Feed.Events.class, TestSystems.TIMEOUT).events().get(0));
    assertEquals(sent.offset(), signal.offset());
    assertEquals(SignalKind.INTERRUPT, signal.kind());
    assertTrue(signal.to().addresses(AGENT));
  }

  @Test
  void toolApprovalRefusalsWriteNothingAndTheFirstAnswerReachesSubscribers() {
    String id = newSession();
    assertInstanceOf(Accepted.class, append(id, AGENT, new AppendBody.CallTool("call-1", "delete_file", null), null));
    var input = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode().put("path", "a.ts");
    Accepted asked = assertInstanceOf(Accepted.class, append(id, AGENT,
        new AppendBody.RequestApproval("call-1", "ap-1", Target.role(Role.USER), input, "may I?"), new ProducerStamp("tools", 0, 0)));
    SummaryReply.Summary summary = summary(id);
    assertEquals(List.of(new SummaryReply.PendingApproval("ap-1", "call-1", "delete_file", Target.role(Role.USER), input, "may I?",
        asked.offset())), summary.pendingApprovals());
    long head = summary.head();
    // a retry of the stamped request is a duplicate, not approval_exists
    Accepted retry = assertInstanceOf(Accepted.class, append(id, AGENT,
        new AppendBody.RequestApproval("call-1", "ap-1", Target.role(Role.USER), input, "may I?"), new ProducerStamp("tools", 0, 0)));
    assertTrue(retry.duplicate());
    assertEquals(asked.offset(), retry.offset());

    Participant otherAgent = Participant.of("agent-2", Role.AGENT);
    Map<ErrorCode, Outcome> refusals = new java.util.LinkedHashMap<>();
    refusals.put(ErrorCode.APPROVAL_EXISTS, append(id, AGENT, new AppendBody.RequestApproval("call-1", "ap-1", Target.role(Role.USER), null, null), null));
    refusals.put(ErrorCode.TOOL_CALL_NOT_FOUND, append(id, AGENT, new AppendBody.RequestApproval("call-9", "ap-2", Target.role(Role.USER), null, null), null));
    refusals.put(ErrorCode.FORBIDDEN, append(id, otherAgent, new AppendBody.RequestApproval("call-1", "ap-2", Target.role(Role.USER), null, null), null));
    refusals.put(ErrorCode.NOT_ADDRESSEE, append(id, AGENT, new AppendBody.AnswerApproval("ap-1", true, null), null));
    refusals.put(ErrorCode.APPROVAL_NOT_FOUND, append(id, USER, new AppendBody.AnswerApproval("ap-9", true, null), null));
    refusals.put(ErrorCode.INVALID_FRAME, append(id, USER, new AppendBody.AnswerApproval("ap-1", null, null), null));
    refusals.forEach((code, outcome) -> assertEquals(code, assertInstanceOf(Refused.class, outcome).code(), code + ": " + outcome));
    assertEquals(head, summary(id).head(), "refusals write nothing (not even the other agent's join)");

    TestProbe<Feed> agentFeed = subscribe(id, head);
    Accepted denied = assertInstanceOf(Accepted.class, append(id, USER, new AppendBody.AnswerApproval("ap-1", false, "not that file"), null));
    var answered = assertInstanceOf(SessionEvent.ToolApprovalAnswered.class,
        agentFeed.expectMessageClass(Feed.Events.class, TestSystems.TIMEOUT).events().get(0));
    assertEquals(new SessionEvent.ToolApprovalAnswered(denied.offset(), USER, answered.at(), null, "ap-1", "call-1", false, "not that file"),
        answered);
    assertEquals(ErrorCode.APPROVAL_NOT_FOUND,
        assertInstanceOf(Refused.class, append(id, USER, new AppendBody.AnswerApproval("ap-1", true, null), null)).code());
    assertEquals(List.of(), summary(id).pendingApprovals());
    assertEquals(denied.offset(), summary(id).head());
  }

  @Test
  void aToolResultDropsItsPendingApprovalAcrossARestart() {
    String id = newSession();
    assertInstanceOf(Accepted.class, append(id, AGENT, new AppendBody.CallTool("call-1", "delete_file", null), null));
    assertInstanceOf(Accepted.class, append(id, AGENT, new AppendBody.CallTool("call-2", "read_file", null), null));
    assertInstanceOf(Accepted.class, append(id, AGENT, new AppendBody.RequestApproval("call-1", "ap-1", Target.participant("ada"), null, null), null));
    assertInstanceOf(Accepted.class, append(id, AGENT, new AppendBody.RequestApproval("call-2", "ap-2", Target.participant("ada"), null, null), null));
    assertInstanceOf(Accepted.class, append(id, AGENT,
        new AppendBody.ToolResult("call-1", dev.durablesessions.session.state.ToolOutcome.OK, null, null), null));
    assertEquals(List.of("ap-2"), summary(id).pendingApprovals().stream().map(SummaryReply.PendingApproval::approvalId).toList());
    long head = summary(id).head();

    ActorTestKit second = TestSystems.start("entity-approvals-restarted", db, "");
    try {
      SessionEntity.initSharding(second.system(), SessionSettings.fromConfig(second.system().settings().config()), Clock.systemUTC(), null);
      EntityRef<SessionCommand> again = ClusterSharding.get(second.system()).entityRefFor(SessionEntity.TYPE_KEY, id);
      TestProbe<Outcome> op = second.createTestProbe();
      again.tell(new SessionCommand.Append(USER, new AppendBody.AnswerApproval("ap-1", true, null), null, op.getRef()));
      assertEquals(ErrorCode.APPROVAL_NOT_FOUND, assertInstanceOf(Refused.class, op.receiveMessage(Duration.ofSeconds(20))).code());
      again.tell(new SessionCommand.Append(USER, new AppendBody.AnswerApproval("ap-2", true, null), null, op.getRef()));
      assertEquals(head + 1, assertInstanceOf(Accepted.class, op.receiveMessage(TestSystems.TIMEOUT)).offset());
    } finally {
      second.shutdownTestKit();
    }
  }

  @Test
  void subscribeRefusesNegativeAndFutureOffsets() {
    String id = newSession();
    TestProbe<Feed> probe = kit.createTestProbe();
    session(id).tell(new SessionCommand.Subscribe(probe.getRef(), new SessionCommand.Attach(USER, "probe", false), -1, 1000));
    assertEquals(ErrorCode.INVALID_OFFSET, ((Refused) probe.receiveMessage(TestSystems.TIMEOUT)).code());
    session(id).tell(new SessionCommand.Subscribe(probe.getRef(), new SessionCommand.Attach(USER, "probe", false), 99, 1000));
    assertEquals(ErrorCode.OFFSET_BEYOND_HEAD, ((Refused) probe.receiveMessage(TestSystems.TIMEOUT)).code());
    assertEquals(0, summary(id).subscribers());
  }

  @Test
  void sessionSurvivesARestartOfTheWholeSystemWithOffsetsAndProducerState() {
    String id = newSession();
    ProducerStamp stamp = new ProducerStamp("agent-1/p", 0, 0);
    Accepted original = assertInstanceOf(Accepted.class, append(id, AGENT, new PostMessage("m1", "durable"), stamp));
    long head = summary(id).head();

    ActorTestKit second = TestSystems.start("entity-restarted", db, "");
    try {
      SessionEntity.initSharding(second.system(), SessionSettings.fromConfig(second.system().settings().config()), Clock.systemUTC(), null);
      EntityRef<SessionCommand> again = ClusterSharding.get(second.system()).entityRefFor(SessionEntity.TYPE_KEY, id);
      TestProbe<SummaryReply> sp = second.createTestProbe();
      again.tell(new SessionCommand.GetSummary(sp.getRef()));
      SummaryReply.Summary s = assertInstanceOf(SummaryReply.Summary.class, sp.receiveMessage(Duration.ofSeconds(20)));
      assertEquals(head, s.head());
      TestProbe<Outcome> op = second.createTestProbe();
      again.tell(new SessionCommand.Append(AGENT, new PostMessage("m1", "durable"), stamp, op.getRef()));
      Accepted retry = assertInstanceOf(Accepted.class, op.receiveMessage(TestSystems.TIMEOUT));
      assertTrue(retry.duplicate());
      assertEquals(original.offset(), retry.offset());
    } finally {
      second.shutdownTestKit();
    }
  }
}
