package dev.durablesessions.session;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.durablesessions.session.erasure.ErasureReason;
import dev.durablesessions.session.erasure.ErasureRecord;
import dev.durablesessions.session.producer.ProducerStamp;
import dev.durablesessions.session.state.CommitError;
import dev.durablesessions.session.state.Provenance;
import dev.durablesessions.session.state.ToolOutcome;
import dev.durablesessions.session.state.WorkingState;
import dev.durablesessions.session.transfer.Control;
import dev.durablesessions.session.transfer.ControlRequest;
import dev.durablesessions.session.transfer.HandoffNote;
import dev.durablesessions.testing.TestDatabases;
import dev.durablesessions.testing.TestSystems;
import java.time.Instant;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Everything that crosses nodes round-trips through the configured serializers: a command to a
 * session on another node, its answer, and what it pushes to subscribers elsewhere.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WireSerializationTest {
  ActorTestKit kit;

  @BeforeAll
  void start() {
    kit = ActorTestKit.create("wire", TestSystems.config(TestDatabases.h2(), ""));
  }

  @AfterAll
  void stop() {
    kit.shutdownTestKit();
  }

  Object roundTrip(Object message) {
    Serialization serialization = SerializationExtension.get(kit.system().classicSystem());
    byte[] bytes = serialization.serialize(message).get();
    var serializer = serialization.findSerializerFor(message);
    return serialization.deserialize(bytes, serializer.identifier(), Serializers.manifestFor(serializer, message)).get();
  }

  @Test
  void everyCommandReplyAndFeedMessageSurvivesTheWire() {
    ActorRef<Outcome> outcomes = kit.createTestProbe(Outcome.class).getRef();
    ActorRef<Feed> feed = kit.createTestProbe(Feed.class).getRef();
    ActorRef<ErasureReply> erasures = kit.createTestProbe(ErasureReply.class).getRef();
    Participant p = Participant.of("ada", Role.USER);
    HandoffNote note = new HandoffNote(List.of("a"), List.of(new HandoffNote.Decision("w", "y")), List.of("n"), List.of(), List.of("w"));
    var patch = JsonNodeFactory.instance.arrayNode().add(JsonNodeFactory.instance.objectNode().put("op", "add").put("path", "/x").put("value", 1));
    List<AppendBody> bodies = List.of(
        new AppendBody.PostMessage("m", "t"), new AppendBody.StartStream("m"), new AppendBody.AppendDelta("m", "d"),
        new AppendBody.EndStream("m", EndReason.COMPLETE, null), new AppendBody.SendSignal(SignalKind.STEER, Target.role(Role.AGENT), "x", "c"),
        new AppendBody.AnswerSignal(4, SignalOutcome.CONSUMED, null), new AppendBody.SetStatus(AgentStatus.THINKING, "d"),
        new AppendBody.Suggest("s"), new AppendBody.Commit("tool", null, "h", "s", Provenance.VERIFIED, new CommitError("timeout", "m"), patch, List.of("k")),
        new AppendBody.CallTool("c", "n", "h"), new AppendBody.ToolResult("c", ToolOutcome.OK, "s", null), new AppendBody.RetryTurn("r"),
        new AppendBody.RequestApproval("c", "ap", Target.participant("ada"), patch, "may I?"),
        new AppendBody.RequestApproval("c", "ap", Target.role(Role.USER), null, null),
        new AppendBody.AnswerApproval("ap", true, "fine"), new AppendBody.AnswerApproval("ap", null, null));
    for (AppendBody body : bodies) {
      Object command = new SessionCommand.Append(p, body, new ProducerStamp("p", 1, 2), outcomes);
      assertEquals(command, roundTrip(command));
    }
    List<ControlRequest> requests = List.of(
        new ControlRequest.RequestTransfer(ControlRequest.Mode.WARM, new Control.Invitee("alice", null), note),
        new ControlRequest.AcceptTransfer(), new ControlRequest.CancelTransfer("r"), new ControlRequest.Claim(),
        new ControlRequest.HandBack("bot", note), new ControlRequest.Close("done"));
    for (ControlRequest request : requests) {
      Object command = new SessionCommand.ChangeControl(p, request, outcomes);
      assertEquals(command, roundTrip(command));
    }
    List<Object> others = List.of(
        new SessionCommand.Subscribe(feed, new SessionCommand.Attach(p, "phone", true), 3, 100),
        new SessionCommand.KeepAlive(feed, new SessionCommand.Attach(p, "phone", true), 3, 100, Instant.parse("2026-01-01T00:00:00Z")),
        new SessionCommand.Acknowledge(feed, 3, Instant.parse("2026-01-01T00:00:00Z")),
        new SessionCommand.Unsubscribe(feed, "socket_closed"),
        new Outcome.Accepted(3, 1L, false), new Outcome.Refused(ErrorCode.FLOOR_NOT_HELD, "m"),
        new Feed.Events(List.of(new SessionEvent.MessagePosted(1, p, Instant.parse("2026-01-01T00:00:00Z"), null, "m", "t"))),
        new Feed.Detached(),
        new StateReply.StateNow(SessionState.empty()),
        new SessionCommand.Erase(Participant.of("root", Role.ADMIN), ErasureReason.ADMIN, erasures),
        new ErasureReply.Erased(new ErasureRecord("s", "root", "admin", ErasureReason.RETENTION,
            Instant.parse("2026-01-01T00:00:00Z"), 7, 7, 1), true));
    for (Object message : others) assertEquals(message, roundTrip(message));
    // Webhook pools: the dispatcher's call, the failure record, and its event with and without a last status.
    Instant failedAt = Instant.parse("2026-01-01T00:00:00Z");
    for (Object message : List.of(
        new dev.durablesessions.session.dispatch.WebhookCall("s", "fn", 3, "s:1:1", "needs_agent"),
        new SessionCommand.RecordWebhookFailure("fn", 5, 503, "HTTP 503", "s:1:1", outcomes),
        new SessionCommand.RecordWebhookFailure("fn", 0, null, "no secret", "s:1:1", outcomes),
        new SessionEvent.AgentWebhookFailed(9, Participant.SESSION, failedAt, null, "fn", 5, 503, "HTTP 503", "s:1:1"),
        new SessionEvent.AgentWebhookFailed(9, Participant.SESSION, failedAt, null, "fn", 3, null, "no answer within 5000ms", "s:1:1"))) {
      assertEquals(message, roundTrip(message));
    }
    // Tool approvals: both events in the journal, the pending ones in a snapshot and a summary.
    Instant at = Instant.parse("2026-01-01T00:00:00Z");
    SessionState state = SessionState.empty()
        .apply(new SessionEvent.SessionCreated(1, p, at, null, "s", null), 64)
        .apply(new SessionEvent.ToolCalled(2, Participant.of("bot", Role.AGENT), at, null, "c", "delete_file", null, 0), 64);
    List<SessionEvent> approvals = List.of(
        new SessionEvent.ToolApprovalRequested(3, Participant.of("bot", Role.AGENT), at, null, "ap", "c", "delete_file",
            Target.role(Role.USER), patch, "may I?"),
        new SessionEvent.ToolApprovalRequested(4, Participant.of("bot", Role.AGENT), at, null, "ap-2", "c", "delete_file",
            Target.participant("ada"), null, null),
        new SessionEvent.ToolApprovalAnswered(5, p, at, null, "ap", "c", false, "no"));
    for (SessionEvent e : approvals) {
      assertEquals(e, roundTrip(e));
      state = state.apply(e, 64);
    }
    assertEquals(state, roundTrip(state));
    assertEquals(state.approvals(), ((StateReply.StateNow) roundTrip(new StateReply.StateNow(state))).state().approvals());
    SummaryReply.Summary summary = new SummaryReply.Summary("s", 5, at, p, List.of(), List.of(), java.util.Map.of(),
        new Control.AgentInControl(null), null, SummaryReply.PendingApproval.of(state.approvals()), 0, "support-bot",
        new SummaryReply.LeaseView("w1", 3, at));
    assertEquals(summary, roundTrip(summary));
    // The tombstone in the journal, and the erased state in a snapshot.
    SessionEvent.SessionErased tombstone =
        new SessionEvent.SessionErased(8, Participant.of("root", Role.ADMIN), Instant.parse("2026-01-01T00:00:00Z"), null, ErasureReason.ADMIN, 7);
    assertEquals(tombstone, roundTrip(tombstone));
    SessionState erased = SessionState.empty().apply(tombstone, 64);
    assertEquals(erased, roundTrip(erased));
    assertEquals(WorkingState.initial(), ((StateReply.StateNow) roundTrip(new StateReply.StateNow(SessionState.empty()))).state().document());
  }

  @Test
  void aSessionsPoolSurvivesTheJournalAndEventsWrittenBeforePoolsStillRead() {
    Participant p = Participant.of("ada", Role.USER);
    Instant at = Instant.parse("2026-01-01T00:00:00Z");
    SessionEvent.SessionCreated named = new SessionEvent.SessionCreated(1, p, at, null, "s", "support-bot");
    assertEquals(named, roundTrip(named));
    SessionState state = SessionState.empty().apply(named, 64);
    assertEquals("support-bot", ((SessionState) roundTrip(state)).pool());
    // Written before pools: the field is absent (not null) in the stored bytes, and reads as no pool, the default one.
    SessionEvent.SessionCreated old = new SessionEvent.SessionCreated(1, p, at, null, "s", null);
    assertEquals(old, roundTrip(old));
    assertEquals(null, SessionState.empty().apply(old, 64).pool());
    Object create = new SessionCommand.Create(p, "support-bot", kit.createTestProbe(Outcome.class).getRef());
    assertEquals(create, roundTrip(create));
  }

  @Test
  void stateCheckpointsSurviveSnapshotsAndSnapshotsWrittenBeforeThemStillLoad() throws Exception {
    Participant p = Participant.of("ada", Role.USER);
    Instant at = Instant.parse("2026-01-01T00:00:00Z");
    var patch = JsonNodeFactory.instance.arrayNode().add(JsonNodeFactory.instance.objectNode().put("op", "add").put("path", "/a").put("value", 1));
    SessionState state = SessionState.empty()
        .apply(new SessionEvent.SessionCreated(1, p, at, null, "s", null), 64)
        .apply(new SessionEvent.StateCommitted(2, p, at, null, 0, 1, "t", null, null, null, null, null, patch, List.of()), 64);
    var checkpoints = dev.durablesessions.session.state.StateCheckpoints.start(1).afterCommit(2, 0, 1, state.document());
    SessionState withCheckpoints = new SessionState(state.sessionId(), state.createdAt(), state.createdBy(), state.head(), state.participants(),
        state.presence(), state.openStreams(), state.stalled(), state.agentStatus(), state.openSignals(), state.control(), state.latestNote(),
        state.producers(), state.document(), state.turn(), state.toolCalls(), state.approvals(), state.receipts(), state.audience(),
        state.tombstone(), checkpoints, state.pool(), state.assignment());
    assertEquals(2, withCheckpoints.checkpoints().checkpoints().size());
    assertEquals(withCheckpoints, roundTrip(withCheckpoints));

    // A snapshot from before checkpoints: the same bytes without the member. Its record starts at its head.
    Serialization serialization = SerializationExtension.get(kit.system().classicSystem());
    var serializer = serialization.findSerializerFor(state);
    var cbor = new com.fasterxml.jackson.dataformat.cbor.databind.CBORMapper();
    var tree = (com.fasterxml.jackson.databind.node.ObjectNode) cbor.readTree(serialization.serialize(state).get());
    tree.remove("checkpoints");
    SessionState old = (SessionState) serialization.deserialize(cbor.writeValueAsBytes(tree), serializer.identifier(),
        Serializers.manifestFor(serializer, state)).get();
    assertEquals(List.of(new dev.durablesessions.session.state.StateCheckpoints.Checkpoint(2, 0, 1, state.document())),
        old.checkpoints().checkpoints());
    assertEquals(state.document(), old.document());
  }
}
