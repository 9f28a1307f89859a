package dev.durablesessions.session.dispatch;

import dev.durablesessions.CborSerializable;
import dev.durablesessions.session.SessionState;
import dev.durablesessions.session.transfer.Control;

/**
 * What a session needs of its pool, decided from its state alone (pure): what the session
 * tells the dispatcher after every change of it, so the dispatcher's index follows the
 * sessions, which stay the source of truth.
 *
 * <ul>
 *   <li>{@link Kind#ENDED}: closed or erased; a lease it still records is of no use any more.
 *   <li>{@link Kind#LEASED}: a worker holds its lease ({@code agent}, {@code epoch}).
 *   <li>{@link Kind#WAITING}: nobody holds it and it needs an agent: it is open, the agents have
 *       the floor, and it never had one, or a user message is unanswered, or its last lease
 *       expired (a failover: an answer was cut off).
 *   <li>{@link Kind#IDLE}: nobody holds it and nothing calls for an agent (a worker released
 *       it and nobody wrote since, or a human has the floor).
 * </ul>
 *
 * @param epoch the session's latest lease epoch (the one an assignment must expect)
 * @param turnKey while a user message is unanswered, the need's idempotency key
 *     ({@code session:turn:attempt}); null otherwise
 * @param fromOffset where an agent answering the open turn should read from
 */
public record SessionNeed(String sessionId, String pool, Kind kind, String agent, long epoch, String reason, String turnKey,
    long fromOffset) implements CborSerializable {

  public enum Kind { ENDED, LEASED, WAITING, IDLE }

  public static final String NEEDS_AGENT = "needs_agent";
  public static final String FAILOVER = "failover";

  /** The need of {@code state}; {@code turnOpenedAt} is the offset of the message that opened the current turn, if known. */
  public static SessionNeed of(String id, SessionState state, long turnOpenedAt) {
    Assignment a = state.assignment();
    if (state.erased() || state.closed()) return new SessionNeed(id, state.pool(), Kind.ENDED, a.agent(), a.epoch(), null, null, 0);
    if (a.assigned()) return new SessionNeed(id, state.pool(), Kind.LEASED, a.agent(), a.epoch(), null, null, 0);
    boolean open = state.turn().open();
    String turnKey = open ? id + ":" + state.turn().number() + ":" + state.turn().attempt() : null;
    long from = open && turnOpenedAt > 0 ? turnOpenedAt : state.head();
    boolean agentsFloor = state.control() instanceof Control.AgentInControl || state.control() instanceof Control.TransferPending;
    boolean failedOver = "expired".equals(a.lastEnding());
    if (agentsFloor && (a.epoch() == 0 || open || failedOver)) {
      return new SessionNeed(id, state.pool(), Kind.WAITING, null, a.epoch(), failedOver ? FAILOVER : NEEDS_AGENT, turnKey, from);
    }
    return new SessionNeed(id, state.pool(), Kind.IDLE, null, a.epoch(), null, turnKey, from);
  }
}
