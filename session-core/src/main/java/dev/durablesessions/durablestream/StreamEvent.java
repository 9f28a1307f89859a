package dev.durablesessions.durablestream;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import dev.durablesessions.CborSerializable;

/**
 * What happens to a Durable Streams stream, as stored in the journal. The {@code type} names are
 * stable (the journal stores them, not class names). Times are epoch milliseconds: they renew a
 * sliding TTL when the stream is recovered.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
  @JsonSubTypes.Type(value = StreamEvent.Created.class, name = "stream.created"),
  @JsonSubTypes.Type(value = StreamEvent.Appended.class, name = "stream.appended"),
  @JsonSubTypes.Type(value = StreamEvent.Closed.class, name = "stream.closed"),
  @JsonSubTypes.Type(value = StreamEvent.Touched.class, name = "stream.touched"),
  @JsonSubTypes.Type(value = StreamEvent.ForkAcquired.class, name = "stream.fork_acquired"),
  @JsonSubTypes.Type(value = StreamEvent.ForkReleased.class, name = "stream.fork_released"),
  @JsonSubTypes.Type(value = StreamEvent.Deleted.class, name = "stream.deleted"),
})
@JsonInclude(JsonInclude.Include.NON_NULL)
public sealed interface StreamEvent extends CborSerializable {

  /**
   * A stream came to be at this path. {@code ttlSeconds}/{@code expiresAt} are what applies
   * (possibly inherited from a fork source); {@code config} is what the creator asked for, which
   * an idempotent re-create is compared against.
   */
  record Created(
      String incarnation, String contentType, Long ttlSeconds, Long expiresAt, boolean closed,
      String forkSource, long forkOffset, StreamConfig config, long at) implements StreamEvent {}

  /**
   * One message (one POST, or the body of a PUT). For JSON streams {@code data} holds the
   * message's values in compact JSON joined by commas and {@code values} counts them. The
   * producer fields, the {@code Stream-Seq} and the close flag are committed with the data.
   */
  record Appended(
      byte[] data, int values, ProducerStamp producer, String streamSeq, boolean close, long at)
      implements StreamEvent {}

  /** A close without data; {@code producer} is set when an idempotent producer closed it. */
  record Closed(ProducerStamp producer, long at) implements StreamEvent {}

  /** Last access, for a sliding TTL: written when reads renewed it and the stream goes to sleep. */
  record Touched(long at) implements StreamEvent {}

  /** A fork now reads this stream's data: it cannot be removed while forks remain. */
  record ForkAcquired(String fork) implements StreamEvent {}

  record ForkReleased(String fork) implements StreamEvent {}

  /**
   * Deleted or expired. {@code soft}: forks still read its data, so it stays (answering 410)
   * until the last fork is released; otherwise the path is free again.
   */
  record Deleted(boolean soft, boolean expired, long at) implements StreamEvent {}

  /** Producer-Id, Producer-Epoch and Producer-Seq of a request. */
  record ProducerStamp(String id, long epoch, long seq) {}
}
