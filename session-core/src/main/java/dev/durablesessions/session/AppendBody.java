package dev.durablesessions.session;

import dev.durablesessions.CborSerializable;

/** What a participant appends to a session; each case becomes one event (deltas may coalesce). */
public sealed interface AppendBody extends CborSerializable {
  record PostMessage(String messageId, String text) implements AppendBody {}

  record StartStream(String messageId) implements AppendBody {}

  record AppendDelta(String messageId, String text) implements AppendBody {}

  record EndStream(String messageId, EndReason reason, String error) implements AppendBody {}

  record SendSignal(SignalKind kind, Target to, String text, String toolCallId) implements AppendBody {}

  /** The addressee's answer to the signal at offset {@code signal}. */
  record AnswerSignal(long signal, SignalOutcome outcome, String text) implements AppendBody {}

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
}
