package dev.durablesessions.session.transfer;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import dev.durablesessions.CborSerializable;
import dev.durablesessions.session.Participant;
import dev.durablesessions.session.Role;
import java.time.Instant;

/**
 * Who has the floor: who may speak as the assistant side (post messages and stream as an
 * agent or human). One of five phases; {@link ControlRules} decides every transition.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "phase")
@JsonSubTypes({
  @JsonSubTypes.Type(value = Control.AgentInControl.class, name = "agent_in_control"),
  @JsonSubTypes.Type(value = Control.TransferPending.class, name = "transfer_pending"),
  @JsonSubTypes.Type(value = Control.HumanInControl.class, name = "human_in_control"),
  @JsonSubTypes.Type(value = Control.Queued.class, name = "queued"),
  @JsonSubTypes.Type(value = Control.Closed.class, name = "closed"),
})
@JsonInclude(JsonInclude.Include.NON_NULL)
public sealed interface Control extends CborSerializable {

  /** May {@code p} speak as the assistant side now? Users, support and admins are never held to the floor. */
  boolean floorAllows(Participant p);

  /** Agents have the floor: {@code agent} if named (after a handback to one agent), any agent otherwise. */
  record AgentInControl(String agent) implements Control {
    public boolean floorAllows(Participant p) {
      if (!p.role().speaksAsAssistant()) return true;
      return p.role() == Role.AGENT && (agent == null || agent.equals(p.id()));
    }
  }

  /** Warm transfer offered to a participant or a queue; the agent keeps the floor until someone accepts. */
  record TransferPending(String agent, Invitee invited, HandoffNote note, Instant since) implements Control {
    public boolean floorAllows(Participant p) {
      return new AgentInControl(agent).floorAllows(p);
    }
  }

  /** A human (or support operator) has the floor; agents stay as observers that may suggest. */
  record HumanInControl(String human, String previousAgent) implements Control {
    public boolean floorAllows(Participant p) {
      return !p.role().speaksAsAssistant() || p.id().equals(human);
    }
  }

  /** Cold transfer: the agent was removed from control; the session waits in {@code queue} for a human. */
  record Queued(String queue, HandoffNote note, Instant since, String previousAgent) implements Control {
    public boolean floorAllows(Participant p) {
      return !p.role().speaksAsAssistant();
    }
  }

  record Closed(String reason) implements Control {
    public boolean floorAllows(Participant p) {
      return false;
    }
  }

  /** Whom a transfer invites: one participant, or whoever in a queue accepts first. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  record Invitee(String participant, String queue) implements CborSerializable {
    @com.fasterxml.jackson.annotation.JsonIgnore
    public boolean isValid() {
      return (participant == null || participant.isBlank()) != (queue == null || queue.isBlank());
    }
  }
}
