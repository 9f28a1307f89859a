package dev.durablesessions.durablestream;

import dev.durablesessions.CborSerializable;
import java.util.List;

/**
 * The answer of a stream entity. {@code code} says what happened; the other fields are filled
 * as the code needs (see each factory).
 */
public record StreamReply(
    Code code,
    String message,
    Meta meta,
    List<StreamMessage> messages,
    long first,
    long next,
    boolean upToDate,
    String inheritFrom,
    long inheritUpTo,
    long producerEpoch,
    long producerSeq,
    long expectedSeq,
    long receivedSeq) implements CborSerializable {

  public enum Code {
    /** Existing stream (idempotent create, metadata, delete done, read done). */
    OK,
    CREATED,
    /** Append done without a producer (204). */
    APPENDED,
    /** Append done for a producer (200, with its epoch and seq). */
    PRODUCER_ACCEPTED,
    /** Producer retry of something already written (204, highest accepted seq). */
    DUPLICATE,
    NOT_FOUND,
    /** Soft-deleted: forks still read it (410). */
    GONE,
    CONFLICT,
    /** Append to a closed stream (409 with Stream-Closed and the final offset). */
    CLOSED,
    SEQ_GAP,
    STALE_EPOCH,
    BAD_REQUEST,
    /** Read of a fork before its fork point: read {@code inheritFrom} up to {@code inheritUpTo} first. */
    INHERIT,
    /** The stream's journal is down: nothing was done (503, retry). */
    UNAVAILABLE
  }

  /** What HEAD and every response header need to know about a stream. */
  public record Meta(String incarnation, String contentType, long tail, boolean closed, Long ttlSeconds,
      Long expiresAt, StreamConfig config, long forkOffset) {}

  static StreamReply of(Code code, String message, Meta meta) {
    return new StreamReply(code, message, meta, List.of(), 0, meta == null ? 0 : meta.tail(), false, null, 0, 0, 0, 0, 0);
  }

  static StreamReply unavailable(String message) {
    return of(Code.UNAVAILABLE, message, null);
  }

  static StreamReply producer(Code code, Meta meta, long epoch, long seq) {
    return new StreamReply(code, null, meta, List.of(), 0, meta.tail(), false, null, 0, epoch, seq, 0, 0);
  }

  static StreamReply gap(Meta meta, long expected, long received) {
    return new StreamReply(Code.SEQ_GAP, "producer sequence gap", meta, List.of(), 0, meta.tail(), false, null, 0, 0, 0,
        expected, received);
  }

  static StreamReply read(Meta meta, List<StreamMessage> messages, long first, boolean upToDate) {
    return new StreamReply(Code.OK, null, meta, messages, first, first + messages.size(), upToDate, null, 0, 0, 0, 0, 0);
  }

  static StreamReply inherit(Meta meta, String source, long upTo) {
    return new StreamReply(Code.INHERIT, null, meta, List.of(), 0, 0, false, source, upTo, 0, 0, 0, 0);
  }

  /** True when the read reached a closed stream's tail: nothing will ever follow. */
  public boolean closedAtTail() {
    return upToDate && meta != null && meta.closed();
  }
}
