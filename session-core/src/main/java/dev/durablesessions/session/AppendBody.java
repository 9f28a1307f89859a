package dev.durablesessions.session;

import dev.durablesessions.CborSerializable;

/** What a participant appends to a session; each case becomes one event (deltas may coalesce). */
public sealed interface AppendBody extends CborSerializable {
  record PostMessage(String messageId, String text) implements AppendBody {}

  record StartStream(String messageId) implements AppendBody {}

  record AppendDelta(String messageId, String text) implements AppendBody {}

  record EndStream(String messageId, EndReason reason, String error) implements AppendBody {}

  record SendSignal(SignalKind kind, Target to, String text) implements AppendBody {}
}
