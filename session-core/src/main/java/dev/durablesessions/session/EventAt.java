package dev.durablesessions.session;

import java.time.Instant;

/** An event still to be given its offset and time: offsets are assigned only when a batch is written. */
@FunctionalInterface
public interface EventAt {
  SessionEvent at(long offset, Instant at);
}
