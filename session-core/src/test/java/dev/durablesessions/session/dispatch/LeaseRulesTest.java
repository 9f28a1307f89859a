package dev.durablesessions.session.dispatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.durablesessions.session.EndReason;
import dev.durablesessions.session.ErrorCode;
import dev.durablesessions.session.EventAt;
import dev.durablesessions.session.Outcome.Refused;
import dev.durablesessions.session.Participant;
import dev.durablesessions.session.Role;
import dev.durablesessions.session.SessionEvent;
import dev.durablesessions.session.SessionState;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * The lease rules against any interleaving of dispatchers, workers and expiries: a session never
 * has two agents, epochs only grow, and a worker whose lease ended writes nothing.
 */
class LeaseRulesTest {
  static final Instant AT = Instant.parse("2026-01-01T00:00:00Z");
  static final List<String> WORKERS = List.of("w1", "w2", "w3");

  /** One step: a dispatcher assigns (with the epoch it believes), a lease ends, or a worker writes (with the lease it believes). */
  sealed interface Step {}

  record Assign(String worker, long believedEpochOffset) implements Step {}

  record End(String worker, long believedEpochOffset, LeaseRules.Ending ending) implements Step {}

  record Write(String worker, Long believedEpochOffset) implements Step {}

  @Provide
  Arbitrary<List<Step>> steps() {
    Arbitrary<String> worker = Arbitraries.of(WORKERS);
    Arbitrary<Long> offset = Arbitraries.longs().between(-2, 1);
    Arbitrary<Step> assign = Combinators.combine(worker, offset).as(Assign::new);
    Arbitrary<Step> end = Combinators.combine(worker, offset, Arbitraries.of(LeaseRules.Ending.class)).as(End::new);
    Arbitrary<Step> write = Combinators.combine(worker, offset.injectNull(0.3)).as(Write::new);
    return Arbitraries.oneOf(assign, end, write).list().ofMaxSize(60);
  }

  static SessionState created() {
    return SessionState.empty()
        .apply(new SessionEvent.SessionCreated(1, Participant.of("ada", Role.USER), AT, null, "s", "default"), 64);
  }

  static SessionState write(SessionState state, List<EventAt> events) {
    for (EventAt e : events) state = state.apply(e.at(state.head() + 1, AT), 64);
    return state;
  }

  @Property
  void aSessionNeverHasTwoAgentsEpochsOnlyGrowAndFormerHoldersWriteNothing(@ForAll("steps") List<Step> steps) {
    SessionState state = created();
    Set<String> everHeld = new HashSet<>();
    long lastEpoch = 0;
    for (Step step : steps) {
      Assignment before = state.assignment();
      if (step instanceof Assign a) {
        LeaseRules.Decision d = LeaseRules.assign(state, a.worker(), before.epoch() + a.believedEpochOffset(), "needs_agent");
        // only a dispatcher that saw the session as it is, with nobody assigned, wins
        boolean mayWin = !before.assigned() && a.believedEpochOffset() == 0;
        assertEquals(mayWin, d.refused() == null, () -> "assign " + a + " at " + before);
        if (!mayWin) assertEquals(ErrorCode.LEASE_CONFLICT, d.refused().code());
        state = write(state, d.events());
        if (mayWin) everHeld.add(a.worker());
      } else if (step instanceof End e) {
        LeaseRules.Decision d = LeaseRules.end(state, e.worker(), before.epoch() + e.believedEpochOffset(), e.ending(), "why");
        boolean current = before.assigned() && before.agent().equals(e.worker()) && e.believedEpochOffset() == 0;
        assertEquals(current, d.refused() == null, () -> "end " + e + " at " + before);
        if (!current) assertEquals(ErrorCode.STALE_LEASE, d.refused().code());
        state = write(state, d.events());
      } else if (step instanceof Write w) {
        Long lease = w.believedEpochOffset() == null ? null : before.epoch() + w.believedEpochOffset();
        Refused r = LeaseRules.checkWrite(state, Participant.of(w.worker(), Role.AGENT), lease);
        boolean holder = before.assigned() && before.agent().equals(w.worker());
        if (!holder && (lease != null || before.formerHolders().containsKey(w.worker()))) {
          assertNotNull(r, () -> w + " by a worker without the lease at " + before);
          assertEquals(ErrorCode.STALE_LEASE, r.code());
        }
        if (holder && lease != null && lease != before.epoch()) {
          assertNotNull(r, "a stale lease is fenced even for its worker");
          assertEquals(ErrorCode.STALE_LEASE, r.code());
        }
        if (holder && (lease == null || lease == before.epoch())) assertNull(r, "the holder with its lease writes");
      }
      Assignment after = state.assignment();
      assertTrue(after.epoch() >= lastEpoch, "epochs never go back");
      lastEpoch = after.epoch();
      // every worker that ever held a lease and does not hold the current one is fenced
      for (String w : everHeld) {
        if (w.equals(after.agent())) continue;
        Refused fenced = LeaseRules.checkWrite(state, Participant.of(w, Role.AGENT), null);
        assertNotNull(fenced, w + " held a lease and lost it");
        assertEquals(ErrorCode.STALE_LEASE, fenced.code());
      }
    }
  }

  @Property
  void aLeaseThatExpiresEndsItsWorkersOpenAnswersAsAgentLostAndOnlyThose(@ForAll("workerIndex") int streaming) {
    SessionState state = write(created(), LeaseRules.assign(created(), "w1", 0, "needs_agent").events());
    String owner = WORKERS.get(streaming);
    state = state.apply(new SessionEvent.StreamStarted(state.head() + 1, Participant.of(owner, Role.AGENT), AT, null, "m1"), 64);
    LeaseRules.Decision d = LeaseRules.end(state, "w1", 1, LeaseRules.Ending.EXPIRED, "lease_expired");
    SessionState after = write(state, d.events());
    List<SessionEvent> written = new java.util.ArrayList<>();
    SessionState s = state;
    for (EventAt e : d.events()) {
      SessionEvent event = e.at(s.head() + 1, AT);
      written.add(event);
      s = s.apply(event, 64);
    }
    assertTrue(written.get(written.size() - 1) instanceof SessionEvent.AgentFailover, "the failover is the last event");
    boolean ended = written.stream().anyMatch(e -> e instanceof SessionEvent.StreamEnded x && x.reason() == EndReason.AGENT_LOST);
    assertEquals(owner.equals("w1"), ended, "only the lost worker's answer is ended");
    assertEquals(!owner.equals("w1"), after.openStreams().containsKey("m1"));
    assertEquals(null, after.assignment().agent());
    assertEquals(1, after.assignment().epoch());
  }

  @Provide
  Arbitrary<Integer> workerIndex() {
    return Arbitraries.integers().between(0, WORKERS.size() - 1);
  }

}
