package dev.durablesessions.session.dispatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/** Placement on any pool of workers: capacity is never exceeded, each session goes to the worker with most room, the rest wait in order. */
class PlacementTest {

  @Provide
  Arbitrary<List<Placement.Worker>> workers() {
    return Combinators.combine(Arbitraries.integers().between(0, 8), Arbitraries.integers().between(0, 10))
        .as((capacity, holding) -> new int[] {capacity, holding})
        .list().ofMaxSize(6)
        .map(specs -> {
          List<Placement.Worker> ws = new ArrayList<>();
          for (int i = 0; i < specs.size(); i++) ws.add(new Placement.Worker("w" + i, specs.get(i)[0], specs.get(i)[1]));
          return ws;
        });
  }

  @Property
  void capacityIsNeverExceededAndEverySessionThatFitsIsPlaced(
      @ForAll("workers") List<Placement.Worker> workers, @ForAll @IntRange(min = 0, max = 60) int sessions) {
    List<String> waiting = new ArrayList<>();
    for (int i = 0; i < sessions; i++) waiting.add("s" + i);
    Placement.Plan plan = Placement.plan(waiting, workers);
    Map<String, Integer> holding = new HashMap<>();
    for (Placement.Worker w : workers) holding.put(w.id(), w.holding());
    int room = workers.stream().mapToInt(Placement.Worker::room).sum();
    // replay the plan in order: each pick had the most room at that moment, and stays within capacity
    for (Map.Entry<String, String> a : plan.assignments().entrySet()) {
      int best = workers.stream().mapToInt(w -> Math.max(0, w.capacity() - holding.get(w.id()))).max().orElse(0);
      Placement.Worker chosen = workers.stream().filter(w -> w.id().equals(a.getValue())).findFirst().orElseThrow();
      assertEquals(best, chosen.capacity() - holding.get(chosen.id()), "picked the worker with most room for " + a.getKey());
      holding.merge(chosen.id(), 1, Integer::sum);
      assertTrue(holding.get(chosen.id()) <= chosen.capacity(), "capacity of " + chosen.id() + " exceeded");
    }
    assertEquals(Math.min(sessions, room), plan.assignments().size());
    List<String> expectedWaiting = waiting.subList(plan.assignments().size(), sessions);
    assertEquals(expectedWaiting, plan.waiting(), "the sessions that found no room wait, oldest first");
  }

  @Property
  void theChosenWorkerHasTheMostRoomOrThereIsNone(@ForAll("workers") List<Placement.Worker> workers) {
    Placement.Worker chosen = Placement.choose(workers);
    int most = workers.stream().mapToInt(Placement.Worker::room).max().orElse(0);
    if (most == 0) assertEquals(null, chosen);
    else assertEquals(most, chosen.room());
  }
}
