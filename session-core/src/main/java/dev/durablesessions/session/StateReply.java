package dev.durablesessions.session;

import dev.durablesessions.CborSerializable;

/** The answer to {@link SessionCommand.GetState}. */
public sealed interface StateReply extends CborSerializable permits StateReply.StateNow, Outcome.Refused {
  record StateNow(SessionState state) implements StateReply {}
}
