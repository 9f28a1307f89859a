package dev.durablesessions.session.dispatch;

import dev.durablesessions.CborSerializable;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Which agent holds the session's lease now, part of the session's durable state: the session
 * is the one source of truth for its own assignment, so a dispatcher that restarts, moves or
 * runs twice during a split can never give one session two agents.
 *
 * @param agent the participant id of the worker holding the lease, or null when nobody does
 * @param epoch the epoch of the latest lease ever given (0: never assigned); each assignment
 *     takes the next one, so epochs only grow, across failovers, restarts and moves
 * @param since when the current lease (or, with no agent, the last one) began or ended
 * @param formerHolders agents that held an earlier lease, with the last epoch each held: their
 *     writes are fenced unless they hold the current lease again (bounded, oldest dropped)
 * @param lastEnding how the latest lease ended, while nobody holds one: {@code released} or
 *     {@code expired} (a failover: the next agent has an interrupted answer to deal with); null
 *     while a lease is held, and before any lease
 */
public record Assignment(String agent, long epoch, Instant since, Map<String, Long> formerHolders, String lastEnding)
    implements CborSerializable {
  static final int MAX_FORMER_HOLDERS = 64;

  public static Assignment none() {
    return new Assignment(null, 0, null, Map.of(), null);
  }

  public Assignment {
    if (formerHolders == null) formerHolders = Map.of();
  }

  public boolean assigned() {
    return agent != null;
  }

  /** The next lease, to {@code to}: the previous holder (if any) becomes a former one. */
  public Assignment assignedTo(String to, long newEpoch, Instant at) {
    return new Assignment(to, newEpoch, at, formerHolders, null);
  }

  /** The current lease ends ({@code released} or {@code expired}): its holder is fenced from now on. */
  public Assignment ended(Instant at, String ending) {
    if (agent == null) return this;
    LinkedHashMap<String, Long> former = new LinkedHashMap<>(formerHolders);
    former.remove(agent);
    former.put(agent, epoch);
    while (former.size() > MAX_FORMER_HOLDERS) former.remove(former.keySet().iterator().next());
    return new Assignment(null, epoch, at, Collections.unmodifiableMap(former), ending);
  }
}
