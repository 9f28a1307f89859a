package dev.durablesessions.bench;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The processes a scenario started, stopped with their whole process tree when the scenario
 * is done with them and, whatever happens, when the bench JVM exits (a shutdown hook covers
 * an exception, Ctrl-C and SIGTERM; only SIGKILL of the bench escapes it).
 */
final class ChildProcesses {
  /** Suppliers, not processes: a {@link NodeProcess} creates its process inside start(). */
  private final List<Supplier<Process>> tracked = new CopyOnWriteArrayList<>();

  ChildProcesses() {
    Runtime.getRuntime().addShutdownHook(new Thread(this::stopAll, "stop-child-processes"));
  }

  Process start(ProcessBuilder builder) throws IOException {
    Process process = builder.start();
    tracked.add(() -> process);
    return process;
  }

  void track(Supplier<Process> process) {
    tracked.add(process);
  }

  void stopAll() {
    for (Supplier<Process> s : tracked) {
      Process p = s.get();
      if (p != null) stopTree(p);
    }
  }

  /**
   * SIGTERM to the process and everything below it, then SIGKILL to whatever is still alive
   * after a grace period. Descendants are listed before the parent is signalled: once it is
   * gone its children are re-parented and no longer show up as its descendants.
   */
  static void stopTree(Process process) {
    List<ProcessHandle> tree = new java.util.ArrayList<>(process.descendants().toList());
    tree.add(0, process.toHandle());
    tree.forEach(ProcessHandle::destroy);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    for (ProcessHandle h : tree) {
      try {
        long left = deadline - System.nanoTime();
        if (left > 0) h.onExit().get(left, TimeUnit.NANOSECONDS);
      } catch (Exception stillAlive) {
        // killed below
      }
    }
    tree.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
  }
}
