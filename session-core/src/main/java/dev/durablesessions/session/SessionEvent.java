package dev.durablesessions.session;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import dev.durablesessions.CborSerializable;
import dev.durablesessions.session.producer.SeqRange;
import dev.durablesessions.session.transfer.Control;
import dev.durablesessions.session.transfer.HandoffNote;
import com.fasterxml.jackson.databind.JsonNode;
import dev.durablesessions.session.state.CommitError;
import dev.durablesessions.session.state.Provenance;
import dev.durablesessions.session.state.ToolOutcome;
import java.time.Instant;
import java.util.List;

/**
 * Everything that happens in a session. Every event carries its offset (the journal sequence
 * number), the participant that caused it and when; {@code producer} names the idempotent
 * producer sequences it stands for, if any. The {@code type} names are stable: they are what
 * the journal stores and what clients see, so a class may be renamed but a name never changes.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
  @JsonSubTypes.Type(value = SessionEvent.SessionCreated.class, name = "session.created"),
  @JsonSubTypes.Type(value = SessionEvent.ParticipantJoined.class, name = "participant.joined"),
  @JsonSubTypes.Type(value = SessionEvent.ParticipantLeft.class, name = "participant.left"),
  @JsonSubTypes.Type(value = SessionEvent.MessagePosted.class, name = "message"),
  @JsonSubTypes.Type(value = SessionEvent.StreamStarted.class, name = "stream.started"),
  @JsonSubTypes.Type(value = SessionEvent.StreamDelta.class, name = "stream.delta"),
  @JsonSubTypes.Type(value = SessionEvent.StreamEnded.class, name = "stream.ended"),
  @JsonSubTypes.Type(value = SessionEvent.SignalSent.class, name = "signal"),
  @JsonSubTypes.Type(value = SessionEvent.SignalAnswered.class, name = "signal.answered"),
  @JsonSubTypes.Type(value = SessionEvent.ParticipantConnected.class, name = "participant.connected"),
  @JsonSubTypes.Type(value = SessionEvent.ParticipantDisconnected.class, name = "participant.disconnected"),
  @JsonSubTypes.Type(value = SessionEvent.ParticipantLost.class, name = "participant.lost"),
  @JsonSubTypes.Type(value = SessionEvent.AgentStatusChanged.class, name = "agent.status"),
  @JsonSubTypes.Type(value = SessionEvent.AgentStalled.class, name = "agent.stalled"),
  @JsonSubTypes.Type(value = SessionEvent.SuggestionMade.class, name = "suggestion"),
  @JsonSubTypes.Type(value = SessionEvent.HandoffNoted.class, name = "handoff.noted"),
  @JsonSubTypes.Type(value = SessionEvent.TransferRequested.class, name = "transfer.requested"),
  @JsonSubTypes.Type(value = SessionEvent.TransferAccepted.class, name = "transfer.accepted"),
  @JsonSubTypes.Type(value = SessionEvent.TransferCancelled.class, name = "transfer.cancelled"),
  @JsonSubTypes.Type(value = SessionEvent.SessionQueued.class, name = "session.queued"),
  @JsonSubTypes.Type(value = SessionEvent.SessionClaimed.class, name = "session.claimed"),
  @JsonSubTypes.Type(value = SessionEvent.ControlHandedBack.class, name = "control.handed_back"),
  @JsonSubTypes.Type(value = SessionEvent.SessionClosed.class, name = "session.closed"),
  @JsonSubTypes.Type(value = SessionEvent.StateCommitted.class, name = "state.committed"),
  @JsonSubTypes.Type(value = SessionEvent.ToolCalled.class, name = "tool.called"),
  @JsonSubTypes.Type(value = SessionEvent.ToolResulted.class, name = "tool.result"),
  @JsonSubTypes.Type(value = SessionEvent.TurnRetried.class, name = "turn.retried"),
  @JsonSubTypes.Type(value = SessionEvent.ToolApprovalRequested.class, name = "tool.approval.requested"),
  @JsonSubTypes.Type(value = SessionEvent.ToolApprovalAnswered.class, name = "tool.approval.answered"),
  @JsonSubTypes.Type(value = SessionEvent.ReceiptRecorded.class, name = "receipt"),
  @JsonSubTypes.Type(value = SessionEvent.AudienceChanged.class, name = "audience.changed"),
  @JsonSubTypes.Type(value = SessionEvent.SessionErased.class, name = "session.erased"),
  @JsonSubTypes.Type(value = SessionEvent.AgentAssigned.class, name = "agent.assigned"),
  @JsonSubTypes.Type(value = SessionEvent.AgentReleased.class, name = "agent.released"),
  @JsonSubTypes.Type(value = SessionEvent.AgentFailover.class, name = "agent.failover"),
  @JsonSubTypes.Type(value = SessionEvent.AgentWebhookFailed.class, name = "agent.webhook_failed"),
})
@JsonInclude(JsonInclude.Include.NON_NULL)
public sealed interface SessionEvent extends CborSerializable {
  long offset();

  Participant by();

  Instant at();

  SeqRange producer();

  /** Whether {@code viewer} may see this event; offsets stay global, so clients skip what they may not see. */
  default boolean visibleTo(Participant viewer) {
    return true;
  }

  /**
   * The session's first event. {@code pool} names the agent pool its agent comes from; it is
   * absent in sessions created before pools existed, which belong to the default pool.
   */
  record SessionCreated(long offset, Participant by, Instant at, SeqRange producer, String sessionId, String pool)
      implements SessionEvent {}

  record ParticipantJoined(long offset, Participant by, Instant at, SeqRange producer, Participant participant)
      implements SessionEvent {}

  record ParticipantLeft(long offset, Participant by, Instant at, SeqRange producer, Participant participant)
      implements SessionEvent {}

  /** A complete message in one piece. */
  record MessagePosted(long offset, Participant by, Instant at, SeqRange producer, String messageId, String text)
      implements SessionEvent {}

  record StreamStarted(long offset, Participant by, Instant at, SeqRange producer, String messageId)
      implements SessionEvent {}

  /** Text of one streamed message; {@code parts} says how many appended deltas were coalesced into it. */
  record StreamDelta(long offset, Participant by, Instant at, SeqRange producer, String messageId, String text, int parts)
      implements SessionEvent {}

  record StreamEnded(long offset, Participant by, Instant at, SeqRange producer, String messageId, EndReason reason, String error)
      implements SessionEvent {}

  /** Interrupt, steer, cancel or a custom signal, addressed to a role or a participant. */
  record SignalSent(
      long offset, Participant by, Instant at, SeqRange producer, SignalKind kind, Target to, String text, String toolCallId)
      implements SessionEvent {}

  /** The addressee says what it did with a signal. */
  record SignalAnswered(long offset, Participant by, Instant at, SeqRange producer, long signal, SignalOutcome outcome, String text)
      implements SessionEvent {}

  /** A device of the participant attached (first attach makes it online). */
  record ParticipantConnected(long offset, Participant by, Instant at, SeqRange producer, Participant participant, String device)
      implements SessionEvent {}

  /**
   * A device dropped without a goodbye ({@code reason}: socket_closed, connection_lost,
   * heartbeat_timeout, not_reattached, consumer_too_slow, server_shutdown). If it was the
   * participant's last device it has until {@code graceUntil} to come back before it is lost.
   */
  record ParticipantDisconnected(
      long offset, Participant by, Instant at, SeqRange producer, Participant participant, String device, String reason, Instant graceUntil)
      implements SessionEvent {}

  /** Did not come back within the grace period. For an agent this is the crash event. */
  record ParticipantLost(long offset, Participant by, Instant at, SeqRange producer, Participant participant, String reason)
      implements SessionEvent {}

  record AgentStatusChanged(long offset, Participant by, Instant at, SeqRange producer, AgentStatus status, String detail)
      implements SessionEvent {}

  /** The agent streamed nothing into an open message for {@code silentMillis}. */
  record AgentStalled(long offset, Participant by, Instant at, SeqRange producer, String agent, String messageId, long silentMillis)
      implements SessionEvent {}

  /** A handoff note written on its own (not with a transfer or handback): it becomes the session's latest note. */
  record HandoffNoted(long offset, Participant by, Instant at, SeqRange producer, dev.durablesessions.session.transfer.HandoffNote note)
      implements SessionEvent {}

  /** An agent's suggestion to the human in control: visible to operators (and its author) only. */
  record SuggestionMade(long offset, Participant by, Instant at, SeqRange producer, String text) implements SessionEvent {
    @Override
    public boolean visibleTo(Participant viewer) {
      return viewer.role().isOperator() || viewer.id().equals(by.id());
    }
  }

  /** Warm transfer offered; the agent keeps the floor until someone accepts. */
  record TransferRequested(
      long offset, Participant by, Instant at, SeqRange producer, Control.Invitee invited, HandoffNote note)
      implements SessionEvent {}

  record TransferAccepted(long offset, Participant by, Instant at, SeqRange producer, String human) implements SessionEvent {}

  record TransferCancelled(long offset, Participant by, Instant at, SeqRange producer, String reason) implements SessionEvent {}

  /** Cold transfer: the agent is out of control at once; the session waits in {@code queue}. */
  record SessionQueued(long offset, Participant by, Instant at, SeqRange producer, String queue, HandoffNote note)
      implements SessionEvent {}

  record SessionClaimed(long offset, Participant by, Instant at, SeqRange producer, String queue) implements SessionEvent {}

  /** Control returns to {@code agent} (any agent if null). */
  record ControlHandedBack(long offset, Participant by, Instant at, SeqRange producer, String agent, HandoffNote note)
      implements SessionEvent {}

  record SessionClosed(long offset, Participant by, Instant at, SeqRange producer, String reason) implements SessionEvent {}

  /**
   * A typed change of the state document: the RFC 6902 {@code patch}, in the turn (and attempt)
   * it happened, with what caused it: tool and tool call, input hash, output summary,
   * provenance, an error if the step failed, and the keys the agent evicted from its context.
   */
  record StateCommitted(
      long offset,
      Participant by,
      Instant at,
      SeqRange producer,
      int turn,
      int attempt,
      String tool,
      String toolCallId,
      String inputHash,
      String outputSummary,
      Provenance provenance,
      CommitError error,
      JsonNode patch,
      List<String> evictedKeys)
      implements SessionEvent {}

  record ToolCalled(long offset, Participant by, Instant at, SeqRange producer, String toolCallId, String name, String inputHash, int turn)
      implements SessionEvent {}

  record ToolResulted(
      long offset, Participant by, Instant at, SeqRange producer, String toolCallId, ToolOutcome outcome, String summary, CommitError error)
      implements SessionEvent {}

  /**
   * The caller of tool call {@code toolCallId} (or an operator) asks {@code to} to approve it:
   * {@code name} is the tool's, from its {@code tool.called}; {@code input} the arguments shown.
   */
  record ToolApprovalRequested(
      long offset, Participant by, Instant at, SeqRange producer, String approvalId, String toolCallId, String name, Target to,
      JsonNode input, String text)
      implements SessionEvent {}

  /** The addressee approved or denied approval {@code approvalId} (of tool call {@code toolCallId}); the first answer wins. */
  record ToolApprovalAnswered(
      long offset, Participant by, Instant at, SeqRange producer, String approvalId, String toolCallId, boolean approved, String reason)
      implements SessionEvent {}

  /** The agent retries turn {@code turn}; what follows is attempt {@code attempt} of it. */
  record TurnRetried(long offset, Participant by, Instant at, SeqRange producer, int turn, int attempt, String reason)
      implements SessionEvent {}

  /** Device {@code device} of {@code participant} had received everything up to {@code delivered} at {@code deliveredAt}. */
  record ReceiptRecorded(
      long offset, Participant by, Instant at, SeqRange producer, Participant participant, String device, long delivered, Instant deliveredAt)
      implements SessionEvent {
    /**
     * Bookkeeping, not conversation: sent to no device (a device confirming the receipt's own
     * offset would write receipts forever). Read through GET /receipts and the audit export.
     */
    @Override
    public boolean visibleTo(Participant viewer) {
      return false;
    }
  }

  /** Someone other than agents is attached ({@code present}) or nobody is: agents may slow down. */
  record AudienceChanged(long offset, Participant by, Instant at, SeqRange producer, boolean present, int devices)
      implements SessionEvent {}

  /**
   * The tombstone: the session was erased by {@code by} ({@code reason}: admin or retention).
   * Every event up to {@code head} is deleted from the journal after this is written, so on
   * replay it is the only event left; it replaces the state instead of following the head.
   * It stays so that the id answers session_erased and is never reused. Never sent to anyone.
   */
  record SessionErased(long offset, Participant by, Instant at, SeqRange producer,
      dev.durablesessions.session.erasure.ErasureReason reason, long head)
      implements SessionEvent {
    @Override
    public boolean visibleTo(Participant viewer) {
      return false;
    }
  }

  /**
   * The session's pool gave it an agent: worker {@code agent} holds lease {@code epoch} (one more
   * than any before). {@code reason}: needs_agent (a new or unattended session), failover (the
   * previous lease expired).
   */
  record AgentAssigned(long offset, Participant by, Instant at, SeqRange producer, String agent, long epoch, String reason)
      implements SessionEvent {}

  /** Worker {@code agent} let go of lease {@code epoch} ({@code reason} as it gave it); what it streamed ended as cancelled. */
  record AgentReleased(long offset, Participant by, Instant at, SeqRange producer, String agent, long epoch, String reason)
      implements SessionEvent {}

  /**
   * Lease {@code epoch} of {@code agent} ended without a release ({@code reason}: lease_expired,
   * the worker's connection died and it did not come back in time): what it streamed ended as
   * agent_lost, its writes are fenced from now on, and the session waits for its next agent.
   */
  record AgentFailover(long offset, Participant by, Instant at, SeqRange producer, String agent, long epoch, String reason)
      implements SessionEvent {}

  /**
   * The node called webhook pool {@code pool} for this session's need ({@code idempotencyKey},
   * one user message unanswered) and gave up after {@code attempts}: {@code lastStatus} is the
   * HTTP status of the last answer (absent if there was none), {@code error} what went wrong
   * (a status, a timeout, a refused connection). The session waits for its agent still.
   */
  record AgentWebhookFailed(long offset, Participant by, Instant at, SeqRange producer, String pool, int attempts,
      Integer lastStatus, String error, String idempotencyKey)
      implements SessionEvent {}
}
