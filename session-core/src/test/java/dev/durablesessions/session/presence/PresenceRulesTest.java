package dev.durablesessions.session.presence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.durablesessions.session.EventAt;
import dev.durablesessions.session.Participant;
import dev.durablesessions.session.Role;
import dev.durablesessions.session.SessionCommand.Attach;
import dev.durablesessions.session.SessionEvent;
import dev.durablesessions.session.SessionState;
import dev.durablesessions.session.presence.PresenceRules.TimerRequest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Property, over random sequences of attach, detach, time passing (timers firing) and restarts
 * (attachments and timers gone, durable state kept): a participant is lost exactly once per
 * absence iff no device came back within grace of the moment the session could tell its last
 * device was gone, and never while one of its devices is attached. The expected losses come
 * from a model written from that sentence, not from the rules.
 */
class PresenceRulesTest {
  static final Duration GRACE = Duration.ofMillis(1000);
  static final Duration WINDOW = Duration.ofMillis(400);
  static final Participant AGENT = Participant.of("agent-1", Role.AGENT);
  static final Participant USER = Participant.of("user-1", Role.USER);
  static final List<Participant> PEOPLE = List.of(AGENT, USER);
  static final List<String> DEVICES = List.of("d1", "d2");

  @Test
  void participantIsLostExactlyOnceIffNoDeviceCameBackWithinGraceAndNeverWhileAttached() {
    for (long seed = 0; seed < 3000; seed++) {
      Simulation sim = new Simulation();
      Model model = new Model();
      Random random = new Random(seed);
      int steps = 1 + random.nextInt(60);
      for (int i = 0; i < steps; i++) {
        int pick = random.nextInt(100);
        if (pick < 35) {
          Participant p = PEOPLE.get(random.nextInt(PEOPLE.size()));
          String d = DEVICES.get(random.nextInt(DEVICES.size()));
          int id = sim.attach(p, d);
          model.attach(id, p.id(), d);
        } else if (pick < 60) {
          if (sim.attachments.isEmpty()) continue;
          List<Integer> ids = new ArrayList<>(sim.attachments.keySet());
          int id = ids.get(random.nextInt(ids.size()));
          model.detach(id, sim.now);
          sim.detach(id);
        } else if (pick < 90) {
          Instant until = sim.now.plusMillis(random.nextInt(1600));
          model.advance(until);
          sim.advance(until);
        } else {
          model.restart(sim.now);
          sim.restart();
        }
      }
      Instant end = sim.now.plus(GRACE).plus(WINDOW).plusMillis(1);
      model.advance(end);
      sim.advance(end);
      // Losses due at the same instant (two participants dropped by one reattach check) may come in either order.
      assertEquals(sorted(model.lost), sorted(sim.lost), "seed " + seed);
      assertTrue(sim.lostWhileAttached.isEmpty(), "seed " + seed + ": lost while attached " + sim.lostWhileAttached);
    }
  }

  static List<String> sorted(List<String> losses) {
    return losses.stream().sorted(java.util.Comparator.comparing((String l) -> l.substring(l.indexOf('@'))).thenComparing(l -> l)).toList();
  }

  @Test
  void graceFiredByAnEarlierIncarnationWaitsForTheRecordedDeadline() {
    Simulation sim = new Simulation();
    int id = sim.attach(AGENT, "d1");
    sim.detach(id);
    PresenceRules.Decision early = sim.rules.graceExpired(sim.state, AGENT.id(), sim.now.plusMillis(10));
    assertTrue(early.events().isEmpty());
    assertEquals(List.of(new TimerRequest.StartGrace(AGENT.id(), GRACE.minusMillis(10))), early.timers());
  }

  /** The rules driven like the entity drives them: events applied to the state, timers kept by fire time. */
  static final class Simulation {
    final PresenceRules rules = new PresenceRules(GRACE, WINDOW, Duration.ofSeconds(1));
    Instant now = Instant.parse("2026-01-01T00:00:00Z");
    SessionState state = SessionState.empty();
    final Map<Integer, Attachment> attachments = new LinkedHashMap<>();
    final Map<String, Instant> timerAt = new HashMap<>();
    final List<String> lost = new ArrayList<>();
    final List<String> lostWhileAttached = new ArrayList<>();
    int nextId;

    Simulation() {
      write(List.of((o, at) -> new SessionEvent.SessionCreated(o, AGENT, at, null, "s", null)));
      for (Participant p : PEOPLE) write(List.of((o, at) -> new SessionEvent.ParticipantJoined(o, p, at, null, p)));
    }

    int attach(Participant p, String device) {
      int id = nextId++;
      Attach attach = new Attach(p, device, true);
      attachments.put(id, Attachment.start(attach, now, state.head()));
      apply(rules.attached(state, attachments.values(), attach));
      return id;
    }

    void detach(int id) {
      Attachment gone = attachments.remove(id);
      apply(rules.detached(state, attachments.values(), gone, "connection_lost", now));
    }

    void restart() {
      attachments.clear();
      timerAt.clear();
      apply(rules.recovered(state, now));
    }

    void advance(Instant until) {
      while (true) {
        Map.Entry<String, Instant> due = timerAt.entrySet().stream()
            .filter(t -> !t.getValue().isAfter(until))
            .min(Map.Entry.comparingByValue()).orElse(null);
        if (due == null) break;
        timerAt.remove(due.getKey());
        now = due.getValue();
        if (due.getKey().equals("reattach")) apply(rules.reattachCheck(state, attachments.values(), now));
        else apply(rules.graceExpired(state, due.getKey(), now));
      }
      now = until;
    }

    void apply(PresenceRules.Decision decision) {
      for (TimerRequest t : decision.timers()) {
        if (t instanceof TimerRequest.StartGrace g) timerAt.put(g.participantId(), now.plus(g.after()));
        else if (t instanceof TimerRequest.CancelGrace c) timerAt.remove(c.participantId());
        else if (t instanceof TimerRequest.StartReattachCheck r) timerAt.put("reattach", now.plus(r.after()));
      }
      write(decision.events());
    }

    void write(List<EventAt> events) {
      for (EventAt make : events) {
        SessionEvent e = make.at(state.head() + 1, now);
        if (e instanceof SessionEvent.ParticipantLost l) {
          lost.add(l.participant().id() + "@" + now);
          boolean attached = attachments.values().stream().anyMatch(a -> a.attach().participant().id().equals(l.participant().id()));
          if (attached) lostWhileAttached.add(l.participant().id() + "@" + now);
        }
        state = state.apply(e, 16);
      }
    }
  }

  /**
   * The guarantee as a model: the devices the session counts per participant; absence starts
   * when the last one is dropped (its last attachment detached, or the reattach check after a
   * restart found it not back); a loss is due grace later unless a device attached first.
   */
  static final class Model {
    final Map<Integer, String[]> attached = new HashMap<>();
    final Map<String, Set<String>> counted = new HashMap<>();
    final Map<String, Instant> absentFrom = new HashMap<>();
    final List<String> lost = new ArrayList<>();
    Instant checkAt;

    void attach(int id, String p, String device) {
      attached.put(id, new String[] {p, device});
      if (counted.computeIfAbsent(p, k -> new LinkedHashSet<>()).add(device)) absentFrom.remove(p);
    }

    void detach(int id, Instant now) {
      String[] gone = attached.remove(id);
      if (!attachedNow(gone[0], gone[1])) drop(gone[0], gone[1], now);
    }

    void restart(Instant now) {
      attached.clear();
      boolean anyCounted = counted.values().stream().anyMatch(s -> !s.isEmpty());
      checkAt = anyCounted ? now.plus(WINDOW) : null;
    }

    void advance(Instant until) {
      while (true) {
        Instant next = checkAt != null && !checkAt.isAfter(until) ? checkAt : null;
        String dueLoss = null;
        for (Map.Entry<String, Instant> a : absentFrom.entrySet()) {
          Instant due = a.getValue().plus(GRACE);
          if (!due.isAfter(until) && (next == null || due.isBefore(next))) {
            next = due;
            dueLoss = a.getKey();
          }
        }
        if (next == null) return;
        if (dueLoss != null) {
          lost.add(dueLoss + "@" + next);
          absentFrom.remove(dueLoss);
        } else {
          checkAt = null;
          for (Map.Entry<String, Set<String>> c : counted.entrySet()) {
            for (String device : List.copyOf(c.getValue())) {
              if (!attachedNow(c.getKey(), device)) drop(c.getKey(), device, next);
            }
          }
        }
      }
    }

    private void drop(String p, String device, Instant at) {
      Set<String> devices = counted.get(p);
      if (devices.remove(device) && devices.isEmpty()) absentFrom.put(p, at);
    }

    private boolean attachedNow(String p, String device) {
      return attached.values().stream().anyMatch(a -> a[0].equals(p) && a[1].equals(device));
    }
  }
}
