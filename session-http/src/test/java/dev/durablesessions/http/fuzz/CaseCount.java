package dev.durablesessions.http.fuzz;

import java.util.concurrent.atomic.AtomicLong;

/** How many cases a fuzz test ran, and how they were answered; printed when the test ends. */
public final class CaseCount {
  private static final AtomicLong ALL = new AtomicLong();

  private final String name;
  private final long started = System.nanoTime();
  private long accepted;
  private long refused;

  public CaseCount(String name) {
    this.name = name;
  }

  public void accepted() {
    accepted++;
    ALL.incrementAndGet();
  }

  public void refused() {
    refused++;
    ALL.incrementAndGet();
  }

  public long cases() {
    return accepted + refused;
  }

  /** Prints the count, e.g. {@code [fuzz] SocketFrameFuzzTest: 3500 cases (1204 accepted, 2296 refused) in 21.3 s; 3500 in this JVM}. */
  public void print() {
    System.out.printf("[fuzz] %s: %d cases (%d accepted, %d refused) in %.1f s; %d fuzz cases in this JVM so far%n",
        name, cases(), accepted, refused, (System.nanoTime() - started) / 1e9, ALL.get());
  }
}
