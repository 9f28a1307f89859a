package dev.durablesessions.session.dispatch;

import dev.durablesessions.session.EndReason;
import dev.durablesessions.session.ErrorCode;
import dev.durablesessions.session.EventAt;
import dev.durablesessions.session.Outcome.Refused;
import dev.durablesessions.session.Participant;
import dev.durablesessions.session.SessionEvent;
import dev.durablesessions.session.SessionState;
import dev.durablesessions.session.answer.OpenStreams;
import java.util.ArrayList;
import java.util.List;

/**
 * Leases of a session's agent, decided from the session's state alone (pure, property-tested):
 * who may be assigned, whose lease may end, and whose writes are fenced.
 *
 * <p>Exactly one agent at a time: an assignment names the epoch it expects the session to be at
 * (compare and set), so of two dispatchers racing for one session (a singleton handing over,
 * a split) only the first wins; and a session that has an agent refuses a second one until that
 * lease ended. A lease that ends without a release (its worker died) is a failover: what that
 * worker was streaming ends as {@code agent_lost}, so the next agent starts from a closed answer.
 */
public final class LeaseRules {
  private LeaseRules() {}

  /** Events to write, or the refusal; never both. */
  public record Decision(List<EventAt> events, Refused refused) {
    static Decision refuse(ErrorCode code, String message) {
      return new Decision(List.of(), new Refused(code, message));
    }
  }

  /** Why a lease ends: the worker let go, or its lease ran out (it died or was cut off). */
  public enum Ending {
    RELEASED, EXPIRED
  }

  /** Assign the session to {@code agent} as lease {@code expectedEpoch + 1}. */
  public static Decision assign(SessionState state, String agent, long expectedEpoch, String reason) {
    Assignment now = state.assignment();
    if (agent == null || agent.isBlank()) return Decision.refuse(ErrorCode.INVALID_REQUEST, "an assignment names an agent");
    if (state.closed()) return Decision.refuse(ErrorCode.SESSION_CLOSED, "the session is closed");
    if (now.assigned()) {
      return Decision.refuse(ErrorCode.LEASE_CONFLICT,
          "the session is assigned to " + now.agent() + " (lease " + now.epoch() + ") until that lease ends");
    }
    if (expectedEpoch != now.epoch()) {
      return Decision.refuse(ErrorCode.LEASE_CONFLICT, "the session is at lease " + now.epoch() + ", not " + expectedEpoch);
    }
    long epoch = now.epoch() + 1;
    return new Decision(List.of((o, at) -> new SessionEvent.AgentAssigned(o, Participant.SESSION, at, null, agent, epoch, reason)), null);
  }

  /** End lease {@code epoch} of {@code agent}: refused as stale if that is not the current lease. */
  public static Decision end(SessionState state, String agent, long epoch, Ending ending, String reason) {
    Assignment now = state.assignment();
    if (!now.assigned() || now.epoch() != epoch || !now.agent().equals(agent)) {
      return Decision.refuse(ErrorCode.STALE_LEASE, "lease " + epoch + " of " + agent + " is not the session's current lease");
    }
    List<EventAt> events = new ArrayList<>();
    if (ending == Ending.EXPIRED) {
      events.addAll(OpenStreams.endAll(state, agent::equals, Participant.SESSION, EndReason.AGENT_LOST, agent + " lost its lease"));
      events.add((o, at) -> new SessionEvent.AgentFailover(o, Participant.SESSION, at, null, agent, epoch, reason));
    } else {
      events.addAll(OpenStreams.endAll(state, agent::equals, Participant.SESSION, EndReason.CANCELLED, agent + " released the session"));
      events.add((o, at) -> new SessionEvent.AgentReleased(o, Participant.SESSION, at, null, agent, epoch, reason));
    }
    return new Decision(events, null);
  }

  /**
   * Null if a write by {@code by} carrying {@code lease} (null: none) may go ahead. Fenced: a
   * write with a lease that is not the current one, and any write by a former holder that does
   * not hold the current lease; so a worker that lost its lease writes nothing, whether or not
   * it knows. Agents that never held a lease (joined by hand) are not affected.
   */
  public static Refused checkWrite(SessionState state, Participant by, Long lease) {
    Assignment now = state.assignment();
    boolean holder = now.assigned() && now.agent().equals(by.id());
    if (lease != null) {
      if (holder && lease == now.epoch()) return null;
      return new Refused(ErrorCode.STALE_LEASE, "lease " + lease + " is not the session's current lease"
          + (now.assigned() ? " (" + now.epoch() + ")" : " (it has none)"));
    }
    if (!holder && now.formerHolders().containsKey(by.id())) {
      return new Refused(ErrorCode.STALE_LEASE, by.id() + " no longer holds this session's lease");
    }
    return null;
  }
}
