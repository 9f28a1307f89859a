package dev.durablesessions.durablestream;

import dev.durablesessions.durablestream.StreamReply.Inherit;
import dev.durablesessions.durablestream.StreamReply.Page;
import dev.durablesessions.durablestream.StreamReply.ReadReply;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * Reads a stream as one, forks included: a fork's entity answers a read before its fork point
 * with "read your source up to here first" ({@link Inherit}), and this reads the source (and
 * its source, up the chain), then the fork's own messages, into one page. Only the metadata
 * and the up-to-date flag are the addressed stream's.
 */
public final class StreamReader {
  private final ClusterSharding sharding;
  private final Duration askTimeout;
  /** A live read's ask waits for the long-poll too. */
  private final Duration pollAskTimeout;

  public StreamReader(ClusterSharding sharding, StreamSettings settings) {
    this.sharding = sharding;
    this.askTimeout = settings.askTimeout();
    this.pollAskTimeout = settings.askTimeout().plus(settings.longPollTimeout());
  }

  /**
   * A page of {@code name} after {@code from} and not past {@code upTo}, of at most about
   * {@code budget} bytes; with {@code wait > 0} and nothing to read yet, it waits that long for
   * more. The answer is a {@link Page} or a refusal, never an {@link Inherit}.
   */
  public CompletionStage<ReadReply> read(String name, long from, long upTo, long wait, int budget, boolean renew,
      boolean allowSoftDeleted) {
    return sharding.entityRefFor(StreamEntity.TYPE_KEY, name)
        .<ReadReply>ask(r -> new StreamCommand.Read(from, upTo, wait, budget, renew, allowSoftDeleted, r), wait > 0 ? pollAskTimeout : askTimeout)
        .thenCompose(reply -> reply instanceof Inherit inherit
            ? throughSource(name, inherit, from, upTo, budget, allowSoftDeleted) : CompletableFuture.completedFuture(reply));
  }

  /** The source's part up to the fork point, then (if the budget allows) the fork's own part. */
  private CompletionStage<ReadReply> throughSource(String name, Inherit inherit, long from, long upTo, int budget,
      boolean allowSoftDeleted) {
    long forkPoint = inherit.upTo();
    return read(inherit.source(), from, forkPoint, 0, budget, false, true).thenCompose(sourced -> {
      if (!(sourced instanceof Page inherited)) return CompletableFuture.completedFuture(sourced);
      int bytes = inherited.messages().stream().mapToInt(StreamMessage::size).sum();
      if (inherited.next() < forkPoint || bytes >= budget || forkPoint >= upTo) {
        return CompletableFuture.completedFuture(
            new Page(inherit.meta(), inherited.messages(), inherited.first(), inherited.next(), false));
      }
      return read(name, forkPoint, upTo, 0, budget - bytes, false, allowSoftDeleted).thenApply(owned -> {
        if (!(owned instanceof Page own)) return owned;
        List<StreamMessage> all = new ArrayList<>(inherited.messages().size() + own.messages().size());
        all.addAll(inherited.messages());
        all.addAll(own.messages());
        return new Page(own.meta(), all, inherited.first(), own.next(), own.upToDate());
      });
    });
  }
}
