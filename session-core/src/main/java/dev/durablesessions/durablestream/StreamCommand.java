package dev.durablesessions.durablestream;

import dev.durablesessions.CborSerializable;
import dev.durablesessions.durablestream.StreamEvent.ProducerStamp;
import dev.durablesessions.durablestream.StreamReply.AppendReply;
import dev.durablesessions.durablestream.StreamReply.CreateReply;
import dev.durablesessions.durablestream.StreamReply.DeleteReply;
import dev.durablesessions.durablestream.StreamReply.DescribeReply;
import dev.durablesessions.durablestream.StreamReply.ForkReply;
import dev.durablesessions.durablestream.StreamReply.ReadReply;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;

/** What a stream entity is asked. Every request that expects an answer carries {@code replyTo}. */
public sealed interface StreamCommand extends CborSerializable {

  /**
   * Create the stream (PUT). {@code fork} is set for a fork, after its source granted it;
   * {@code prefix} is the sub-offset slice that becomes a fork's first own message; {@code body}
   * is the PUT's initial data. Either may be null.
   */
  record Create(StreamConfig config, String contentType, ForkGrant fork, StreamMessage prefix, StreamMessage body,
      ActorRef<CreateReply> replyTo) implements StreamCommand {}

  /** Metadata (HEAD); {@code renew} renews a sliding TTL (HEAD does not). */
  record Describe(boolean renew, ActorRef<DescribeReply> replyTo) implements StreamCommand {}

  /**
   * POST: append {@code body} (null for a close-only request), close when {@code close}.
   * {@code contentType} is the request's normalised content type.
   */
  record Append(StreamMessage body, boolean close, String contentType, ProducerStamp producer, String streamSeq,
      ActorRef<AppendReply> replyTo) implements StreamCommand {}

  /**
   * Appends to one stream that arrived at one node while an earlier batch was being written:
   * decided in order as if sent one by one, written as one journal write, answered with one
   * reply per append (in order).
   */
  record AppendBatch(List<AppendItem> appends, ActorRef<BatchReply> replyTo) implements StreamCommand {}

  /** One append of a batch: {@link Append} without its own reply address. */
  record AppendItem(StreamMessage body, boolean close, String contentType, ProducerStamp producer, String streamSeq) {}

  record BatchReply(List<AppendReply> replies) implements CborSerializable {}

  record Delete(ActorRef<DeleteReply> replyTo) implements StreamCommand {}

  /**
   * Read messages after {@code from} ({@link StreamOffsets#FROM_START} or {@link StreamOffsets#NOW}
   * allowed) and not past {@code upTo}, at most {@code maxBytes} (but always one message). With
   * {@code waitMillis > 0} and nothing to return, the answer waits that long for an append or a
   * close. {@code allowSoftDeleted}: reads made for a fork may read a deleted source.
   */
  record Read(long from, long upTo, long waitMillis, int maxBytes, boolean renew, boolean allowSoftDeleted,
      ActorRef<ReadReply> replyTo) implements StreamCommand {}

  /** A fork asks its source for a reference; {@code forkOffset} null means the source's tail. */
  record AcquireFork(String fork, String contentType, Long forkOffset, ActorRef<ForkReply> replyTo)
      implements StreamCommand {}

  /** A fork went away (deleted, expired, or its creation failed). */
  record ReleaseFork(String fork) implements StreamCommand {}

  /** What a source granted a new fork: where it forks and what it inherits. */
  record ForkGrant(String source, long forkOffset, String contentType, Long ttlSeconds, Long expiresAt) {}

  // Internal.
  record WaitTimedOut(long waiter) implements StreamCommand {}

  enum CheckExpiry implements StreamCommand { INSTANCE }

  enum Passivate implements StreamCommand { INSTANCE }
}
