package dev.durablesessions.session.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.durablesessions.session.Participant;
import dev.durablesessions.session.Role;
import dev.durablesessions.session.SessionEvent;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/**
 * Historic views from the nearest checkpoint equal the views folded from offset 1, for every
 * point of random histories, and a point view never reads more than a checkpoint interval.
 */
class StateCheckpointsTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final Participant BOT = Participant.of("bot", Role.AGENT);
  static final int MAX = Integer.MAX_VALUE;

  /** One event: something else (0), a commit (1), a user message opening the next turn (2), a retry of the turn (3). */
  @Provide
  Arbitrary<List<Integer>> histories() {
    return Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(6, Arbitraries.just(0)),
        net.jqwik.api.Tuple.of(4, Arbitraries.just(1)),
        net.jqwik.api.Tuple.of(1, Arbitraries.just(2)),
        net.jqwik.api.Tuple.of(1, Arbitraries.just(3)))
        .list().ofMinSize(0).ofMaxSize(400);
  }

  /** A history as events, and its checkpoints (from the start, or from {@code recoveredAt} as if a pre-checkpoint snapshot was recovered there). */
  record Built(List<SessionEvent> events, StateCheckpoints checkpoints, int lastTurn, long head) {}

  static Built build(List<Integer> kinds, int every, int recoveredAt) {
    List<SessionEvent> events = new ArrayList<>();
    StateCheckpoints checkpoints = recoveredAt == 0 ? StateCheckpoints.start(every) : null;
    JsonNode doc = WorkingState.initial();
    int turn = 0;
    int attempt = 1;
    long offset = 0;
    for (int kind : kinds) {
      offset++;
      if (kind == 2) {
        turn++;
        attempt = 1;
      } else if (kind == 3) {
        attempt++;
      }
      if (kind == 1) {
        JsonNode patch = JSON.createArrayNode().add(JSON.createObjectNode().put("op", "add").put("path", "/k" + offset).put("value", offset));
        doc = WorkingState.apply(doc, patch).document();
        events.add(new SessionEvent.StateCommitted(offset, BOT, Instant.EPOCH, null, turn, attempt, offset % 3 == 0 ? "edit" : "read",
            null, null, null, null, null, patch, List.of()));
        if (checkpoints != null) checkpoints = checkpoints.afterCommit(offset, turn, attempt, doc);
      } else {
        events.add(new SessionEvent.MessagePosted(offset, BOT, Instant.EPOCH, null, "m" + offset, "x"));
      }
      if (offset == recoveredAt) checkpoints = StateCheckpoints.from(offset, turn, attempt, doc, every);
    }
    if (checkpoints == null) checkpoints = StateCheckpoints.from(offset, turn, attempt, doc, every);
    return new Built(events, checkpoints, turn, offset);
  }

  static StateHistory partial(Built b, StateCheckpoints.Read read) {
    List<SessionEvent> slice = b.events().stream().filter(e -> e.offset() >= read.from() && e.offset() <= read.to()).toList();
    return new StateHistory(read.base(), slice);
  }

  @Property(tries = 300)
  void pointViewsFromCheckpointsEqualTheFullFoldAndReadLessThanAnInterval(
      @ForAll("histories") List<Integer> kinds, @ForAll @IntRange(min = 1, max = 25) int every) {
    Built b = build(kinds, every, 0);
    StateHistory full = new StateHistory(b.events());
    for (long x = 0; x <= b.head(); x++) {
      StateCheckpoints.Read read = b.checkpoints().atOffset(x, b.head());
      assertEquals(full.atOffset(x), partial(b, read).atOffset(x), "at offset " + x);
      assertTrue(read.to() - read.from() + 1 < every, "read " + read + " for offset " + x);
    }
    for (int t = 0; t <= b.lastTurn() + 1; t++) {
      StateCheckpoints.Read read = b.checkpoints().atTurn(t, b.head());
      assertEquals(full.atTurn(t), partial(b, read).atTurn(t), "at turn " + t);
      assertTrue(read.to() - read.from() + 1 < every, "read " + read + " for turn " + t);
      for (int a = 1; a <= 4; a++) {
        StateCheckpoints.Read r = b.checkpoints().atAttempt(t, a, b.head());
        assertEquals(full.atAttempt(t, a), partial(b, r).atAttempt(t, a), "turn " + t + " attempt " + a);
      }
    }
  }

  @Property(tries = 300)
  void rangeViewsFromCheckpointsEqualTheFullFold(
      @ForAll("histories") List<Integer> kinds, @ForAll @IntRange(min = 1, max = 25) int every, @ForAll @IntRange(min = 0, max = 400) int recoveredAt) {
    Built b = build(kinds, every, Math.min(recoveredAt, kinds.size()));
    StateHistory full = new StateHistory(b.events());
    for (int f = 0; f <= b.lastTurn(); f++) {
      for (int t = f; t <= b.lastTurn(); t++) {
        StateHistory h = partial(b, b.checkpoints().between(f, MAX, t, MAX, b.head()));
        assertEquals(full.atTurn(f), h.atTurn(f), "from " + f);
        assertEquals(full.atTurn(t), h.atTurn(t), "to " + t);
        assertEquals(full.between(f, t), h.between(f, t), "commits between " + f + " and " + t);
      }
      for (int lo = 1; lo <= 3; lo++) {
        for (int hi = lo; hi <= 3; hi++) {
          StateHistory h = partial(b, b.checkpoints().between(f, lo, f, hi, b.head()));
          int turn = f;
          int l = lo;
          int u = hi;
          assertEquals(full.atAttempt(f, lo), h.atAttempt(f, lo));
          assertEquals(full.atAttempt(f, hi), h.atAttempt(f, hi));
          assertEquals(full.commits().stream().filter(c -> c.turn() == turn && c.attempt() > l && c.attempt() <= u).toList(),
              h.commits().stream().filter(c -> c.turn() == turn && c.attempt() > l && c.attempt() <= u).toList());
        }
      }
    }
    for (int k = 1; k <= b.lastTurn() + 2; k++) {
      StateHistory h = partial(b, b.checkpoints().since(b.lastTurn() - k, b.head()));
      assertEquals(full.filter("edit", null, k, b.lastTurn()), h.filter("edit", null, k, b.lastTurn()), "last " + k + " turns");
      assertEquals(full.filter(null, null, k, b.lastTurn()), h.filter(null, null, k, b.lastTurn()), "last " + k + " turns");
    }
    // Point views of a recovered record match too (before its start they fold from offset 1).
    for (long x = 0; x <= b.head(); x++) {
      assertEquals(full.atOffset(x), partial(b, b.checkpoints().atOffset(x, b.head())).atOffset(x), "at offset " + x);
    }
    for (int t = 0; t <= b.lastTurn(); t++) {
      assertEquals(full.atTurn(t), partial(b, b.checkpoints().atTurn(t, b.head())).atTurn(t), "at turn " + t);
    }
  }

  @org.junit.jupiter.api.Test
  void aSessionKeepsCheckpointsAsItAppliesCommits() {
    dev.durablesessions.session.SessionState state = dev.durablesessions.session.SessionState.empty()
        .apply(new SessionEvent.SessionCreated(1, BOT, Instant.EPOCH, null, "s", null), 64);
    List<SessionEvent> events = new ArrayList<>();
    for (long offset = 2; offset <= 3500; offset++) {
      SessionEvent e = offset % 7 == 0
          ? new SessionEvent.StateCommitted(offset, BOT, Instant.EPOCH, null, 0, 1, "t", null, null, null, null, null,
              JSON.createArrayNode().add(JSON.createObjectNode().put("op", "add").put("path", "/k" + offset).put("value", offset)), List.of())
          : new SessionEvent.MessagePosted(offset, BOT, Instant.EPOCH, null, "m" + offset, "x");
      events.add(e);
      state = state.apply(e, 64);
    }
    List<Long> offsets = state.checkpoints().checkpoints().stream().map(StateCheckpoints.Checkpoint::offset).toList();
    assertEquals(List.of(0L, 1001L, 2002L, 3003L), offsets);
    StateHistory full = new StateHistory(events);
    Built built = new Built(events, state.checkpoints(), 0, state.head());
    for (long x : new long[] {0, 999, 1001, 1500, 2002, 2999, 3499, 3500}) {
      StateCheckpoints.Read read = state.checkpoints().atOffset(x, state.head());
      assertEquals(full.atOffset(x), partial(built, read).atOffset(x), "at " + x);
      assertTrue(read.to() - read.from() < StateCheckpoints.DEFAULT_EVERY);
    }
    assertEquals(state.document(), partial(built, state.checkpoints().atTurn(0, state.head())).atTurn(0));
  }

  @Property(tries = 100)
  void checkpointsAreSpacedByTheInterval(@ForAll("histories") List<Integer> kinds, @ForAll @IntRange(min = 1, max = 25) int every) {
    List<StateCheckpoints.Checkpoint> cps = build(kinds, every, 0).checkpoints().checkpoints();
    for (int i = 1; i < cps.size(); i++) assertTrue(cps.get(i).offset() - cps.get(i - 1).offset() >= every);
    assertTrue(cps.size() <= kinds.size() / every + 1);
  }
}
