package dev.durablesessions.session.transfer;

import dev.durablesessions.session.EndReason;
import dev.durablesessions.session.ErrorCode;
import dev.durablesessions.session.EventAt;
import dev.durablesessions.session.Outcome.Refused;
import dev.durablesessions.session.Participant;
import dev.durablesessions.session.Role;
import dev.durablesessions.session.SessionEvent;
import dev.durablesessions.session.SessionState;
import dev.durablesessions.session.answer.OpenStreams;
import dev.durablesessions.session.transfer.ControlRequest.AcceptTransfer;
import dev.durablesessions.session.transfer.ControlRequest.CancelTransfer;
import dev.durablesessions.session.transfer.ControlRequest.Claim;
import dev.durablesessions.session.transfer.ControlRequest.Close;
import dev.durablesessions.session.transfer.ControlRequest.HandBack;
import dev.durablesessions.session.transfer.ControlRequest.RequestTransfer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The handover state machine: which control request is legal in which phase and for whom,
 * and which events it writes. Anything else is refused with a code that says why, and
 * changes nothing. The entity serializes requests, so of two humans claiming one queued
 * session exactly one wins; the other is told {@code already_claimed}.
 */
public final class ControlRules {
  private ControlRules() {}

  /** Either the refusal or the events to write (in order). */
  public record Decision(Refused refused, List<EventAt> events) {
    static Decision refuse(ErrorCode code, String message) {
      return new Decision(new Refused(code, message), List.of());
    }

    static Decision write(List<EventAt> events) {
      return new Decision(null, events);
    }
  }

  public static Decision decide(SessionState state, Participant by, ControlRequest request) {
    // A closed session never gets here: SessionEntity's closed phase refuses every control change.
    Control control = state.control();
    if (request instanceof RequestTransfer r) return transfer(state, control, by, r);
    if (request instanceof AcceptTransfer) return accept(state, control, by);
    if (request instanceof CancelTransfer c) return cancel(control, by, c);
    if (request instanceof Claim) return claim(state, control, by);
    if (request instanceof HandBack h) return handBack(control, by, h);
    if (request instanceof Close c) return close(state, control, by, c);
    throw new IllegalStateException("unhandled control request " + request);
  }

  private static boolean supportOrAdmin(Participant by) {
    return by.role() == Role.SUPPORT || by.role() == Role.ADMIN;
  }

  private static boolean humanSide(Participant by) {
    return by.role() == Role.HUMAN || by.role() == Role.SUPPORT || by.role() == Role.ADMIN;
  }

  private static Decision transfer(SessionState state, Control control, Participant by, RequestTransfer r) {
    boolean agentInControl = by.role() == Role.AGENT && control.floorAllows(by);
    if (!supportOrAdmin(by) && !agentInControl) {
      return Decision.refuse(ErrorCode.FORBIDDEN, "only support, admins or the agent in control may transfer");
    }
    if (r.mode() == null || r.to() == null || !r.to().isValid()) {
      return Decision.refuse(ErrorCode.INVALID_REQUEST, "a transfer needs a mode and exactly one of to.participant or to.queue");
    }
    HandoffNote note = r.note() == null ? HandoffNote.empty() : r.note();
    if (r.mode() == ControlRequest.Mode.WARM) {
      if (!(control instanceof Control.AgentInControl)) {
        return Decision.refuse(ErrorCode.ILLEGAL_TRANSITION, "a warm transfer starts from agent_in_control, not " + phase(control));
      }
      return Decision.write(List.of((o, at) -> new SessionEvent.TransferRequested(o, by, at, null, r.to(), note)));
    }
    if (r.to().queue() == null) {
      return Decision.refuse(ErrorCode.INVALID_REQUEST, "a cold transfer goes to a queue (to.queue)");
    }
    if (!(control instanceof Control.AgentInControl) && !(control instanceof Control.TransferPending)) {
      return Decision.refuse(ErrorCode.ILLEGAL_TRANSITION, "a cold transfer starts from agent_in_control or transfer_pending, not " + phase(control));
    }
    // The agent is removed from control at once: its open runs stop.
    List<EventAt> events = new ArrayList<>(cancelAgentStreams(state, by));
    events.add((o, at) -> new SessionEvent.SessionQueued(o, by, at, null, r.to().queue(), note));
    return Decision.write(events);
  }

  private static Decision accept(SessionState state, Control control, Participant by) {
    if (!humanSide(by)) return Decision.refuse(ErrorCode.FORBIDDEN, "only a human or support operator accepts a transfer");
    if (!(control instanceof Control.TransferPending pending)) {
      return Decision.refuse(ErrorCode.NO_TRANSFER_PENDING, "no transfer is pending (" + phase(control) + ")");
    }
    String invited = pending.invited().participant();
    if (invited != null && !invited.equals(by.id())) {
      return Decision.refuse(ErrorCode.NOT_INVITED, "the transfer invited " + invited + ", not " + by.id());
    }
    List<EventAt> events = new ArrayList<>(cancelAgentStreams(state, by));
    events.add((o, at) -> new SessionEvent.TransferAccepted(o, by, at, null, by.id()));
    return Decision.write(events);
  }

  private static Decision cancel(Control control, Participant by, CancelTransfer c) {
    if (!supportOrAdmin(by)) return Decision.refuse(ErrorCode.FORBIDDEN, "only support or admins cancel a transfer");
    if (!(control instanceof Control.TransferPending)) {
      return Decision.refuse(ErrorCode.NO_TRANSFER_PENDING, "no transfer is pending (" + phase(control) + ")");
    }
    return Decision.write(List.of((o, at) -> new SessionEvent.TransferCancelled(o, by, at, null, c.reason())));
  }

  private static Decision claim(SessionState state, Control control, Participant by) {
    if (!humanSide(by)) return Decision.refuse(ErrorCode.FORBIDDEN, "only a human or support operator claims a session");
    if (control instanceof Control.HumanInControl h) {
      return Decision.refuse(ErrorCode.ALREADY_CLAIMED, "already taken by " + h.human());
    }
    if (control instanceof Control.TransferPending pending && pending.invited().queue() != null) {
      // a warm transfer offered to a queue: claiming it from the queue is accepting it
      return accept(state, control, by);
    }
    if (!(control instanceof Control.Queued queued)) {
      return Decision.refuse(ErrorCode.NOT_QUEUED, "the session is not waiting in a queue (" + phase(control) + ")");
    }
    return Decision.write(List.of((o, at) -> new SessionEvent.SessionClaimed(o, by, at, null, queued.queue())));
  }

  private static Decision handBack(Control control, Participant by, HandBack h) {
    // Only the human side ever holds the floor or frees a queued session: any other role is
    // refused for what it is, in every phase, like every other control request it may not make.
    if (!humanSide(by)) return Decision.refuse(ErrorCode.FORBIDDEN, "only the human in control, support or admins hand back");
    if (control instanceof Control.HumanInControl human) {
      if (!human.human().equals(by.id()) && !supportOrAdmin(by)) {
        return Decision.refuse(ErrorCode.NOT_IN_CONTROL, human.human() + " has the floor, not " + by.id());
      }
      String agent = h.agent() != null ? h.agent() : human.previousAgent();
      return Decision.write(List.of((o, at) -> new SessionEvent.ControlHandedBack(o, by, at, null, agent, h.note())));
    }
    if (control instanceof Control.Queued queued && supportOrAdmin(by)) {
      String agent = h.agent() != null ? h.agent() : queued.previousAgent();
      return Decision.write(List.of((o, at) -> new SessionEvent.ControlHandedBack(o, by, at, null, agent, h.note())));
    }
    return Decision.refuse(ErrorCode.NOT_IN_CONTROL, "no human has the floor to hand back (" + phase(control) + ")");
  }

  private static Decision close(SessionState state, Control control, Participant by, Close c) {
    boolean humanInControl = control instanceof Control.HumanInControl h && h.human().equals(by.id());
    if (!supportOrAdmin(by) && !humanInControl) {
      return Decision.refuse(ErrorCode.FORBIDDEN, "only support, admins or the human in control close a session");
    }
    List<EventAt> events = new ArrayList<>(OpenStreams.endAll(state, owner -> true, by, EndReason.CANCELLED, "session closed"));
    events.add((o, at) -> new SessionEvent.SessionClosed(o, by, at, null, c.reason()));
    return Decision.write(events);
  }

  /** Open streams of agents end as cancelled when the agents lose the floor. */
  private static List<EventAt> cancelAgentStreams(SessionState state, Participant by) {
    return OpenStreams.endAll(state, owner -> {
      Participant p = state.participants().get(owner);
      return p != null && p.role() == Role.AGENT;
    }, by, EndReason.CANCELLED, "control transferred");
  }

  public static String phase(Control control) {
    if (control instanceof Control.AgentInControl) return "agent_in_control";
    if (control instanceof Control.TransferPending) return "transfer_pending";
    if (control instanceof Control.HumanInControl) return "human_in_control";
    if (control instanceof Control.Queued) return "queued";
    return "closed";
  }
}
