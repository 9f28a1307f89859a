package dev.durablesessions.durablestream;

/**
 * What a PUT asked for, compared field by field when the same path is created again: equal
 * means the idempotent 200, different means 409. {@code contentType} is the normalised media
 * type (null when the request had none); fork fields are null for plain streams.
 */
public record StreamConfig(
    String contentType, Long ttlSeconds, Long expiresAt, boolean closed,
    String forkedFrom, Long forkOffset, long subOffset) {

  /** Whether a re-create with {@code requested} is the same stream as one created with this. */
  public boolean sameAs(StreamConfig requested, String effectiveContentType) {
    String asked = requested.contentType != null ? requested.contentType
        : forkedFrom != null ? StreamRules.normalise(effectiveContentType) : StreamRules.DEFAULT_CONTENT_TYPE;
    return asked.equals(StreamRules.normalise(effectiveContentType))
        && java.util.Objects.equals(ttlSeconds, requested.ttlSeconds)
        && java.util.Objects.equals(expiresAt, requested.expiresAt)
        && closed == requested.closed
        && java.util.Objects.equals(forkedFrom, requested.forkedFrom)
        && (requested.forkOffset == null || requested.forkOffset.equals(forkOffset))
        && subOffset == requested.subOffset;
  }
}
