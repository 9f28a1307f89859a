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
}
