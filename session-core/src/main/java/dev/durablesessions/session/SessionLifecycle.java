package dev.durablesessions.session;

import dev.durablesessions.CborSerializable;

/** Told to a node-local listener (the demo agent) when a session is created or comes back to life. */
public sealed interface SessionLifecycle extends CborSerializable {
  record Active(String sessionId, boolean justCreated) implements SessionLifecycle {}
}
