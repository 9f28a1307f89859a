package dev.durablesessions.session;

import dev.durablesessions.CborSerializable;

/**
 * What a participant appends to a session; each case becomes one event (deltas may coalesce).
 * Named subtypes: an Append crosses nodes when its session lives elsewhere. These records are
 * also the socket's append frames (session-http reads a frame's fields into them, its
 * {@code type} being the name listed here), so a new case is a new frame type.
 */
@com.fasterxml.jackson.annotation.JsonTypeInfo(use = com.fasterxml.jackson.annotation.JsonTypeInfo.Id.NAME, property = "kind")
@com.fasterxml.jackson.annotation.JsonSubTypes({
  @com.fasterxml.jackson.annotation.JsonSubTypes.Type(value = AppendBody.PostMessage.class, name = "message"),
  @com.fasterxml.jackson.annotation.JsonSubTypes.Type(value = AppendBody.StartStream.class, name = "stream.start"),
  @com.fasterxml.jackson.annotation.JsonSubTypes.Type(value = AppendBody.AppendDelta.class, name = "stream.delta"),
  @com.fasterxml.jackson.annotation.JsonSubTypes.Type(value = AppendBody.EndStream.class, name = "stream.end"),
  @com.fasterxml.jackson.annotation.JsonSubTypes.Type(value = AppendBody.SendSignal.class, name = "signal"),
  @com.fasterxml.jackson.annotation.JsonSubTypes.Type(value = AppendBody.AnswerSignal.class, name = "signal.answer"),
  @com.fasterxml.jackson.annotation.JsonSubTypes.Type(value = AppendBody.SetStatus.class, name = "status"),
  @com.fasterxml.jackson.annotation.JsonSubTypes.Type(value = AppendBody.Suggest.class, name = "suggestion"),
  @com.fasterxml.jackson.annotation.JsonSubTypes.Type(value = AppendBody.Commit.class, name = "commit"),
  @com.fasterxml.jackson.annotation.JsonSubTypes.Type(value = AppendBody.CallTool.class, name = "tool.call"),
  @com.fasterxml.jackson.annotation.JsonSubTypes.Type(value = AppendBody.ToolResult.class, name = "tool.result"),
  @com.fasterxml.jackson.annotation.JsonSubTypes.Type(value = AppendBody.RetryTurn.class, name = "turn.retry"),
  @com.fasterxml.jackson.annotation.JsonSubTypes.Type(value = AppendBody.RequestApproval.class, name = "tool.approval.request"),
  @com.fasterxml.jackson.annotation.JsonSubTypes.Type(value = AppendBody.AnswerApproval.class, name = "tool.approval.answer"),
  @com.fasterxml.jackson.annotation.JsonSubTypes.Type(value = AppendBody.WriteNote.class, name = "note"),
})
public sealed interface AppendBody extends CborSerializable {
  record PostMessage(String messageId, String text) implements AppendBody {}

  record StartStream(String messageId) implements AppendBody {}

  record AppendDelta(String messageId, String text) implements AppendBody {}

  record EndStream(String messageId, EndReason reason, String error) implements AppendBody {
    /** Read from the wire: a stream.end frame without a {@code reason} ends the stream complete. */
    @com.fasterxml.jackson.annotation.JsonCreator
    static EndStream read(
        @com.fasterxml.jackson.annotation.JsonProperty("messageId") String messageId,
        @com.fasterxml.jackson.annotation.JsonProperty("reason") EndReason reason,
        @com.fasterxml.jackson.annotation.JsonProperty("error") String error) {
      return new EndStream(messageId, reason == null ? EndReason.COMPLETE : reason, error);
    }
  }

  record SendSignal(SignalKind kind, Target to, String text, String toolCallId) implements AppendBody {}

  /** The addressee's answer to the signal at offset {@code signal}. */
  record AnswerSignal(long signal, SignalOutcome outcome, String text) implements AppendBody {
    /** Read from the wire: a signal.answer frame without a {@code signal} names offset -1, which no signal has. */
    @com.fasterxml.jackson.annotation.JsonCreator
    static AnswerSignal read(
        @com.fasterxml.jackson.annotation.JsonProperty("signal") Long signal,
        @com.fasterxml.jackson.annotation.JsonProperty("outcome") SignalOutcome outcome,
        @com.fasterxml.jackson.annotation.JsonProperty("text") String text) {
      return new AnswerSignal(signal == null ? -1 : signal, outcome, text);
    }
  }

  /** An agent says what it is doing. */
  record SetStatus(AgentStatus status, String detail) implements AppendBody {}

  /** An agent's suggestion to the human in control, for operators' eyes only. */
  record Suggest(String text) implements AppendBody {}

  /** A typed change of the state document (see {@code WorkingState}). */
  record Commit(
      String tool,
      String toolCallId,
      String inputHash,
      String outputSummary,
      dev.durablesessions.session.state.Provenance provenance,
      dev.durablesessions.session.state.CommitError error,
      com.fasterxml.jackson.databind.JsonNode patch,
      java.util.List<String> evictedKeys)
      implements AppendBody {}

  record CallTool(String toolCallId, String name, String inputHash) implements AppendBody {}

  record ToolResult(String toolCallId, dev.durablesessions.session.state.ToolOutcome outcome, String summary,
      dev.durablesessions.session.state.CommitError error) implements AppendBody {}

  /** The agent starts the current turn over; what follows is the next attempt of it. */
  record RetryTurn(String reason) implements AppendBody {}

  /** The caller of an open tool call asks {@code to} to approve it; {@code input} is what the approver is shown. */
  record RequestApproval(String toolCallId, String approvalId, Target to, com.fasterxml.jackson.databind.JsonNode input, String text)
      implements AppendBody {
    /** JSON {@code null} is no input (it is also what an absent one reads back as, from another node). */
    public RequestApproval {
      if (input != null && (input.isNull() || input.isMissingNode())) input = null;
    }
  }

  /** The addressee decides approval {@code approvalId}; {@code approved} is null only in a frame that left it out. */
  record AnswerApproval(String approvalId, Boolean approved, String reason) implements AppendBody {}

  /** A handoff note written on its own, without a change of control: what the next one to take over should know. */
  record WriteNote(dev.durablesessions.session.transfer.HandoffNote note) implements AppendBody {}
}
