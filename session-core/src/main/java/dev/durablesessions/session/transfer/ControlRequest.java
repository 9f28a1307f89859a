package dev.durablesessions.session.transfer;

import dev.durablesessions.CborSerializable;

/** A request to change who has the floor. {@link ControlRules} decides whether it is legal now and for whom. */
@com.fasterxml.jackson.annotation.JsonTypeInfo(use = com.fasterxml.jackson.annotation.JsonTypeInfo.Id.NAME, property = "kind")
@com.fasterxml.jackson.annotation.JsonSubTypes({
  @com.fasterxml.jackson.annotation.JsonSubTypes.Type(value = ControlRequest.RequestTransfer.class, name = "transfer"),
  @com.fasterxml.jackson.annotation.JsonSubTypes.Type(value = ControlRequest.AcceptTransfer.class, name = "accept"),
  @com.fasterxml.jackson.annotation.JsonSubTypes.Type(value = ControlRequest.CancelTransfer.class, name = "cancel"),
  @com.fasterxml.jackson.annotation.JsonSubTypes.Type(value = ControlRequest.Claim.class, name = "claim"),
  @com.fasterxml.jackson.annotation.JsonSubTypes.Type(value = ControlRequest.HandBack.class, name = "handback"),
  @com.fasterxml.jackson.annotation.JsonSubTypes.Type(value = ControlRequest.Close.class, name = "close"),
})
public sealed interface ControlRequest extends CborSerializable {

  enum Mode { WARM, COLD }

  /** Warm: invite a human or queue, the agent keeps the floor until accepted. Cold: queue now, the agent loses the floor. */
  record RequestTransfer(Mode mode, Control.Invitee to, HandoffNote note) implements ControlRequest {}

  record AcceptTransfer() implements ControlRequest {}

  record CancelTransfer(String reason) implements ControlRequest {}

  /** A human takes a queued session. */
  record Claim() implements ControlRequest {}

  /** The human returns the floor to {@code agent} (any agent if null). */
  record HandBack(String agent, HandoffNote note) implements ControlRequest {}

  record Close(String reason) implements ControlRequest {}
}
