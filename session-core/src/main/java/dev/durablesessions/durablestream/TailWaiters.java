package dev.durablesessions.durablestream;

import dev.durablesessions.durablestream.StreamCommand.Read;
import dev.durablesessions.durablestream.StreamCommand.WaitTimedOut;
import dev.durablesessions.durablestream.StreamReply.ReadReply;
import dev.durablesessions.session.metrics.SessionMetrics;
import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * Reads waiting at a stream's tail (long-poll and SSE) for an append, a close or a delete,
 * each with its own timer. Runtime state of one entity incarnation, like its subscribers: a
 * restart answers them (unavailable) and the readers read again.
 */
final class TailWaiters {
  private final TimerScheduler<StreamCommand> timers;
  private final Map<Long, Read> waiting = new LinkedHashMap<>();
  private long nextId;

  TailWaiters(TimerScheduler<StreamCommand> timers) {
    this.timers = timers;
  }

  /** {@code read} found nothing at {@code tail}: it waits from there for at most its wait time. */
  void await(Read read, long tail) {
    long id = nextId++;
    waiting.put(id, new Read(tail, read.upTo(), read.waitMillis(), read.maxBytes(), read.renew(), read.allowSoftDeleted(),
        read.replyTo()));
    SessionMetrics.STREAM_WAITING_READS.inc();
    timers.startSingleTimer(id, new WaitTimedOut(id), Duration.ofMillis(read.waitMillis()));
  }

  /** The read whose wait ran out, to be answered with what there is; null if it was answered already. */
  Read timedOut(long id) {
    Read read = waiting.remove(id);
    if (read != null) SessionMetrics.STREAM_WAITING_READS.dec();
    return read;
  }

  /**
   * After an append, close or delete: answers every waiting read that now has something to
   * say; {@code answered} sees each of them first (to renew the TTL).
   */
  void wake(StreamState s, Consumer<Read> answered) {
    for (Iterator<Map.Entry<Long, Read>> it = waiting.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<Long, Read> w = it.next();
      Read read = w.getValue();
      ReadReply reply = s.read(read.from(), read.upTo(), read.maxBytes(), read.allowSoftDeleted());
      if (reply instanceof StreamReply.Page page && page.waitsForMore()) continue;
      timers.cancel(w.getKey());
      answered.accept(read);
      read.replyTo().tell(reply);
      it.remove();
      SessionMetrics.STREAM_WAITING_READS.dec();
    }
  }

  /** The journal failed: every waiting read is told {@code unavailable} now. */
  void failAll(StreamReply.Unavailable unavailable) {
    for (Map.Entry<Long, Read> w : waiting.entrySet()) {
      timers.cancel(w.getKey());
      w.getValue().replyTo().tell(unavailable);
    }
    SessionMetrics.STREAM_WAITING_READS.dec(waiting.size());
    waiting.clear();
  }

  /** The entity stopped: its waiting reads leave the gauge (their askers time out and read again). */
  void stopped() {
    SessionMetrics.STREAM_WAITING_READS.dec(waiting.size());
  }
}
