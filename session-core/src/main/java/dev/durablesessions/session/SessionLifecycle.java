package dev.durablesessions.session;

import dev.durablesessions.CborSerializable;

/** Told to a node-local listener (the demo agent) when a session starts or stops living on this node. */
public sealed interface SessionLifecycle extends CborSerializable {
  record Active(String sessionId, boolean justCreated) implements SessionLifecycle {}

  /** This node's incarnation of the session stopped (passivated, moved away, crashed). */
  record Inactive(String sessionId) implements SessionLifecycle {}
}
