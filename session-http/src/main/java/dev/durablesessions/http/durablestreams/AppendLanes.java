package dev.durablesessions.http.durablestreams;

import dev.durablesessions.durablestream.StreamCommand;
import dev.durablesessions.durablestream.StreamCommand.AppendItem;
import dev.durablesessions.durablestream.StreamEntity;
import dev.durablesessions.durablestream.StreamReply.AppendReply;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * Appends to one stream from this node go one batch at a time: while a batch is being written,
 * later appends wait here and then go together, as one command and one journal write. A
 * single writer sees no difference (its append goes at once); many concurrent appends to one
 * stream cost one commit per batch instead of one each. Order is arrival order at this node;
 * the entity decides each append of a batch as if it had come alone.
 */
final class AppendLanes {
  /** A batch stays well inside one cluster message (artery's maximum frame size). */
  private static final int MAX_BATCH_BYTES = 1024 * 1024;
  private static final int MAX_BATCH = 512;

  private record Pending(AppendItem item, CompletableFuture<AppendReply> reply) {
    int size() {
      return item.body() == null ? 0 : item.body().size();
    }
  }

  /** Appends waiting for the batch in flight to one stream, and whether one is in flight. */
  private static final class Lane {
    final ArrayDeque<Pending> waiting = new ArrayDeque<>();
    boolean inFlight;
  }

  private final ClusterSharding sharding;
  private final Duration timeout;
  private final ConcurrentHashMap<String, Lane> lanes = new ConcurrentHashMap<>();

  AppendLanes(ClusterSharding sharding, Duration timeout) {
    this.sharding = sharding;
    this.timeout = timeout;
  }

  CompletionStage<AppendReply> append(String stream, AppendItem item) {
    Pending pending = new Pending(item, new CompletableFuture<>());
    Lane lane = lanes.computeIfAbsent(stream, s -> new Lane());
    List<Pending> batch = null;
    synchronized (lane) {
      lane.waiting.add(pending);
      if (!lane.inFlight) {
        lane.inFlight = true;
        batch = take(lane);
      }
    }
    if (batch != null) send(stream, lane, batch);
    // Waiting behind a batch counts against the same timeout: an append never waits longer than one ask.
    return pending.reply().orTimeout(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
  }

  private static List<Pending> take(Lane lane) {
    List<Pending> batch = new ArrayList<>(Math.min(lane.waiting.size(), MAX_BATCH));
    int bytes = 0;
    while (!lane.waiting.isEmpty() && batch.size() < MAX_BATCH) {
      Pending next = lane.waiting.peek();
      if (!batch.isEmpty() && bytes + next.size() > MAX_BATCH_BYTES) break;
      batch.add(lane.waiting.poll());
      bytes += next.size();
    }
    return batch;
  }

  private void send(String stream, Lane lane, List<Pending> batch) {
    List<AppendItem> items = new ArrayList<>(batch.size());
    for (Pending p : batch) items.add(p.item());
    sharding.entityRefFor(StreamEntity.TYPE_KEY, stream)
        .<StreamCommand.BatchReply>ask(replyTo -> new StreamCommand.AppendBatch(items, replyTo), timeout)
        .whenComplete((reply, failure) -> {
          for (int i = 0; i < batch.size(); i++) {
            if (failure != null) batch.get(i).reply().completeExceptionally(failure);
            else batch.get(i).reply().complete(reply.replies().get(i));
          }
          List<Pending> next = null;
          synchronized (lane) {
            if (lane.waiting.isEmpty()) {
              lane.inFlight = false;
              lanes.remove(stream, lane);
            } else {
              next = take(lane);
            }
          }
          if (next != null) send(stream, lane, next);
        });
  }
}
