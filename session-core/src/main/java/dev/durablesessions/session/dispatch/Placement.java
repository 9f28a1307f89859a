package dev.durablesessions.session.dispatch;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * Which worker of a pool takes which waiting session: the one with the most room, never beyond
 * its capacity; sessions that find no room keep waiting, in the order they came. Pure, so the
 * dispatcher that applies it stays thin and the rule is property-tested on its own.
 */
public final class Placement {
  private Placement() {}

  /** A connected worker: how many sessions it takes at most, and how many it holds now. */
  public record Worker(String id, int capacity, int holding) {
    public Worker {
      if (capacity < 0 || holding < 0) throw new IllegalArgumentException("capacity and holding are >= 0");
    }

    public int room() {
      return Math.max(0, capacity - holding);
    }
  }

  /** Session id to worker id, in the order the sessions waited; and who still waits (same order). */
  public record Plan(Map<String, String> assignments, List<String> waiting) {}

  /** Ties go to the smaller id, so every run of the rule on the same input gives the same plan. */
  private static final Comparator<Worker> MOST_ROOM =
      Comparator.comparingInt(Worker::room).reversed().thenComparing(Worker::id);

  /** The worker with the most room, or null if none has any. */
  public static Worker choose(Collection<Worker> workers) {
    return workers.stream().filter(w -> w.room() > 0).min(MOST_ROOM).orElse(null);
  }

  /** Places {@code waiting} (oldest first) on {@code workers}, one at a time, each on the worker with most room then. */
  public static Plan plan(List<String> waiting, Collection<Worker> workers) {
    PriorityQueue<Worker> byRoom = new PriorityQueue<>(MOST_ROOM);
    for (Worker w : workers) if (w.room() > 0) byRoom.add(w);
    Map<String, String> assignments = new LinkedHashMap<>();
    List<String> left = new ArrayList<>();
    for (String session : waiting) {
      Worker w = byRoom.poll();
      if (w == null) {
        left.add(session);
        continue;
      }
      assignments.put(session, w.id());
      Worker fuller = new Worker(w.id(), w.capacity(), w.holding() + 1);
      if (fuller.room() > 0) byRoom.add(fuller);
    }
    return new Plan(assignments, List.copyOf(left));
  }
}
