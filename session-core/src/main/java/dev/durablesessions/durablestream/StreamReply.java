package dev.durablesessions.durablestream;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import dev.durablesessions.CborSerializable;
import java.util.List;

/**
 * The answers of a stream entity, one record per kind. Each request names what it can be
 * answered with ({@link CreateReply}, {@link ReadReply}, ...); a {@link Refusal} says why
 * nothing was done and may answer several requests. The HTTP status of each kind is in
 * docs/PROTOCOL.md.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "reply")
@JsonSubTypes({
  @JsonSubTypes.Type(value = StreamReply.Created.class, name = "created"),
  @JsonSubTypes.Type(value = StreamReply.Exists.class, name = "exists"),
  @JsonSubTypes.Type(value = StreamReply.Described.class, name = "described"),
  @JsonSubTypes.Type(value = StreamReply.Deleted.class, name = "deleted"),
  @JsonSubTypes.Type(value = StreamReply.Page.class, name = "page"),
  @JsonSubTypes.Type(value = StreamReply.Inherit.class, name = "inherit"),
  @JsonSubTypes.Type(value = StreamReply.ForkGranted.class, name = "fork_granted"),
  @JsonSubTypes.Type(value = StreamReply.Appended.class, name = "appended"),
  @JsonSubTypes.Type(value = StreamReply.ProducerAppended.class, name = "producer_appended"),
  @JsonSubTypes.Type(value = StreamReply.ProducerClosed.class, name = "producer_closed"),
  @JsonSubTypes.Type(value = StreamReply.Duplicate.class, name = "duplicate"),
  @JsonSubTypes.Type(value = StreamReply.NotFound.class, name = "not_found"),
  @JsonSubTypes.Type(value = StreamReply.Gone.class, name = "gone"),
  @JsonSubTypes.Type(value = StreamReply.Conflict.class, name = "conflict"),
  @JsonSubTypes.Type(value = StreamReply.BadRequest.class, name = "bad_request"),
  @JsonSubTypes.Type(value = StreamReply.Closed.class, name = "closed"),
  @JsonSubTypes.Type(value = StreamReply.SeqGap.class, name = "seq_gap"),
  @JsonSubTypes.Type(value = StreamReply.StaleEpoch.class, name = "stale_epoch"),
  @JsonSubTypes.Type(value = StreamReply.Unavailable.class, name = "unavailable"),
})
public sealed interface StreamReply extends CborSerializable {

  /** What HEAD and every response header need to know about a stream. */
  record Meta(String incarnation, String contentType, long tail, boolean closed, Long ttlSeconds,
      Long expiresAt, StreamConfig config, long forkOffset) {}

  /** Answers to {@link StreamCommand.Create}. */
  sealed interface CreateReply extends StreamReply {}

  /** Answers to {@link StreamCommand.Describe}. */
  sealed interface DescribeReply extends StreamReply {}

  /** Answers to {@link StreamCommand.Delete}. */
  sealed interface DeleteReply extends StreamReply {}

  /** Answers to {@link StreamCommand.Read}. */
  sealed interface ReadReply extends StreamReply {}

  /** Answers to {@link StreamCommand.AcquireFork}. */
  sealed interface ForkReply extends StreamReply {}

  /** Answers to each append of {@link StreamCommand.Append} and {@link StreamCommand.AppendBatch}. */
  sealed interface AppendReply extends StreamReply {}

  /** Nothing was done, and why (the HTTP body). */
  sealed interface Refusal extends StreamReply {
    String message();
  }

  // ---- done ----

  record Created(Meta meta) implements CreateReply {}

  /** A create of a stream that exists with the same configuration (idempotent, 200). */
  record Exists(Meta meta) implements CreateReply {}

  record Described(Meta meta) implements DescribeReply {}

  record Deleted() implements DeleteReply {}

  /** Messages from {@code first} up to {@code next}; {@code upToDate}: {@code next} is the tail. */
  record Page(Meta meta, List<StreamMessage> messages, long first, long next, boolean upToDate) implements ReadReply {
    /** True when the read reached a closed stream's tail: nothing will ever follow. */
    public boolean closedAtTail() {
      return upToDate && meta != null && meta.closed();
    }

    /** Nothing to return yet, and more may come: a live read waits. */
    public boolean waitsForMore() {
      return messages.isEmpty() && !closedAtTail();
    }
  }

  /** A read of a fork before its fork point: read {@code source} up to {@code upTo} first. */
  record Inherit(Meta meta, String source, long upTo) implements ReadReply {}

  /** The source granted a fork a reference, at {@code forkOffset}. */
  record ForkGranted(Meta meta, long forkOffset) implements ForkReply {}

  /** Written without a producer (or a repeated close, which writes nothing): 204. */
  record Appended(Meta meta) implements AppendReply {}

  /** A producer's data written: 200 with its epoch and seq. */
  record ProducerAppended(Meta meta, long epoch, long seq) implements AppendReply {}

  /** A producer's close without data written: 204 with its epoch and seq. */
  record ProducerClosed(Meta meta, long epoch, long seq) implements AppendReply {}

  /** A producer's retry of something already written: 204 with the highest seq accepted. */
  record Duplicate(Meta meta, long epoch, long seq) implements AppendReply {}

  // ---- refused ----

  record NotFound(String message) implements Refusal, CreateReply, DescribeReply, DeleteReply, ReadReply, ForkReply, AppendReply {
    static final NotFound STREAM = new NotFound("stream not found");
  }

  /** Soft-deleted: forks still read it (410). */
  record Gone(String message) implements Refusal, DescribeReply, DeleteReply, ReadReply, AppendReply {
    static final Gone STREAM = new Gone("stream deleted (forks still read it)");
  }

  record Conflict(String message) implements Refusal, CreateReply, ForkReply, AppendReply {}

  record BadRequest(String message) implements Refusal, CreateReply, ReadReply, ForkReply, AppendReply {}

  /** Append to a closed stream (409 with Stream-Closed and the final offset, {@code meta.tail}). */
  record Closed(Meta meta) implements Refusal, AppendReply {
    @Override
    public String message() {
      return "stream is closed";
    }
  }

  record SeqGap(long expected, long received) implements Refusal, AppendReply {
    @Override
    public String message() {
      return "producer sequence gap";
    }
  }

  /** A fenced producer epoch; {@code epoch} is the producer's current one. */
  record StaleEpoch(long epoch) implements Refusal, AppendReply {
    @Override
    public String message() {
      return "stale producer epoch";
    }
  }

  /** The stream's journal is down: nothing was done (503, retry). */
  record Unavailable(String message)
      implements Refusal, CreateReply, DescribeReply, DeleteReply, ReadReply, ForkReply, AppendReply {}
}
