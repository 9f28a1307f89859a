package dev.durablesessions.http.durablestreams;

import static dev.durablesessions.http.durablestreams.StreamHeaders.*;

import dev.durablesessions.durablestream.StreamConfig;
import dev.durablesessions.durablestream.StreamEvent.ProducerStamp;
import dev.durablesessions.durablestream.StreamOffsets;
import dev.durablesessions.durablestream.StreamRules;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.regex.Pattern;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.RequestEntity;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.util.ByteString;

/**
 * What a Durable Streams request carries, read and checked: the headers of a create (PUT) and
 * of an append (POST), the content type, and the body within its size limit. A header that
 * cannot be used is {@link Invalid}, answered 400 with its reason (docs/PROTOCOL.md).
 */
final class StreamRequests {
  private StreamRequests() {}

  static final String PREFIX = "/v1/stream/";
  private static final Pattern TTL_VALUE = Pattern.compile("0|[1-9][0-9]{0,11}");
  private static final Pattern SUB_OFFSET = Pattern.compile("0|[1-9][0-9]{0,17}");
  private static final Pattern PRODUCER_NUMBER = Pattern.compile("[0-9]{1,16}");
  private static final long MAX_SAFE_INTEGER = (1L << 53) - 1;
  /** What Pekko HTTP gives a request entity without a Content-Type header (this very instance). */
  private static final Object ABSENT_CONTENT_TYPE =
      org.apache.pekko.http.scaladsl.model.ContentTypes.application$divoctet$minusstream();

  /** A create's headers: the stream's configuration, or why not. */
  sealed interface CreateHeaders {}

  /** An append's headers: its producer stamp (or null), close flag, Stream-Seq and content type, or why not. */
  sealed interface AppendHeaders {}

  record Create(StreamConfig config, String requestType) implements CreateHeaders {}

  record Append(ProducerStamp producer, boolean close, String streamSeq, String requestType) implements AppendHeaders {}

  record Invalid(String problem) implements CreateHeaders, AppendHeaders {}

  /** Stream-TTL or Stream-Expires-At, Stream-Closed, and for a fork Stream-Forked-From and its offsets. */
  static CreateHeaders create(HttpRequest request) {
    Optional<String> ttlHeader = header(request, TTL);
    Optional<String> expiresHeader = header(request, EXPIRES_AT);
    Optional<String> forkedFrom = header(request, FORKED_FROM);
    Optional<String> forkOffsetHeader = header(request, FORK_OFFSET);
    Optional<String> subOffsetHeader = header(request, FORK_SUB_OFFSET);
    String problem = null;
    Long ttl = null;
    Long expiresAt = null;
    Long forkOffset = null;
    long subOffset = 0;
    if (ttlHeader.isPresent() && expiresHeader.isPresent()) {
      problem = "Stream-TTL and Stream-Expires-At cannot both be given";
    } else if (ttlHeader.isPresent()) {
      if (TTL_VALUE.matcher(ttlHeader.get()).matches()) ttl = Long.parseLong(ttlHeader.get());
      else problem = "Stream-TTL must be a whole number of seconds";
    } else if (expiresHeader.isPresent()) {
      expiresAt = parseTimestamp(expiresHeader.get());
      if (expiresAt == null) problem = "Stream-Expires-At must be an RFC 3339 timestamp";
    }
    if (problem == null && forkOffsetHeader.isPresent()) {
      if (!StreamOffsets.wellFormed(forkOffsetHeader.get())) problem = "Stream-Fork-Offset is not an offset";
      else forkOffset = StreamOffsets.parse(forkOffsetHeader.get());
    }
    if (problem == null && subOffsetHeader.isPresent()) {
      if (forkedFrom.isEmpty()) problem = "Stream-Fork-Sub-Offset needs Stream-Forked-From";
      else if (!SUB_OFFSET.matcher(subOffsetHeader.get()).matches()) problem = "Stream-Fork-Sub-Offset must be a whole number";
      else subOffset = Long.parseLong(subOffsetHeader.get());
    }
    if (problem == null && forkOffsetHeader.isPresent() && forkedFrom.isEmpty()) problem = "Stream-Fork-Offset needs Stream-Forked-From";
    String source = forkedFrom.map(StreamRequests::streamName).orElse(null);
    if (problem == null && forkedFrom.isPresent() && (source == null || source.isEmpty())) problem = "Stream-Forked-From names no stream";
    if (problem != null) return new Invalid(problem);
    String requestType = contentType(request);
    return new Create(new StreamConfig(StreamRules.normalise(requestType), ttl, expiresAt, closed(request), source, forkOffset,
        subOffset), requestType);
  }

  /** Producer-Id, -Epoch and -Seq (all or none), Stream-Closed and Stream-Seq. */
  static AppendHeaders append(HttpRequest request) {
    Optional<String> id = header(request, PRODUCER_ID);
    Optional<String> epoch = header(request, PRODUCER_EPOCH);
    Optional<String> seq = header(request, PRODUCER_SEQ);
    ProducerStamp producer = null;
    if (id.isPresent() || epoch.isPresent() || seq.isPresent()) {
      if (id.isEmpty() || epoch.isEmpty() || seq.isEmpty()) return new Invalid("Producer-Id, Producer-Epoch and Producer-Seq go together");
      if (id.get().isEmpty()) return new Invalid("Producer-Id must not be empty");
      if (!safeInteger(epoch.get()) || !safeInteger(seq.get())) return new Invalid("Producer-Epoch and Producer-Seq are whole numbers");
      producer = new ProducerStamp(id.get(), Long.parseLong(epoch.get()), Long.parseLong(seq.get()));
    }
    return new Append(producer, closed(request), header(request, SEQ).orElse(null), contentType(request));
  }

  record Body(ByteString bytes, boolean tooLarge) {}

  /** The whole body, or {@code tooLarge} beyond {@code max} bytes (after reading and dropping the rest, so the client sees the answer). */
  static CompletionStage<Body> body(HttpRequest request, int max, Materializer materializer) {
    RequestEntity entity = request.entity();
    if (entity instanceof HttpEntity.Strict strict) {
      ByteString data = strict.getData();
      return CompletableFuture.completedFuture(data.size() > max ? new Body(ByteString.emptyByteString(), true) : new Body(data, false));
    }
    return entity.withoutSizeLimit().getDataBytes().runFold(new Body(ByteString.emptyByteString(), false), (acc, chunk) -> {
      if (acc.tooLarge() || acc.bytes().size() + chunk.size() > max) return new Body(ByteString.emptyByteString(), true);
      return new Body(acc.bytes().concat(chunk), false);
    }, materializer);
  }

  /**
   * The request's Content-Type, or null when it had none. Pekko HTTP gives a request without
   * the header its shared application/octet-stream constant; a parsed header is never that
   * instance.
   */
  static String contentType(HttpRequest request) {
    ContentType type = request.entity().getContentType();
    if (type == ContentTypes.NO_CONTENT_TYPE || type == ABSENT_CONTENT_TYPE) return null;
    return type.toString();
  }

  static Optional<String> header(HttpRequest request, String name) {
    return request.getHeader(name).map(HttpHeader::value);
  }

  /** The absolute URL of a created stream: what the client addressed, on the host it used. */
  static String location(HttpRequest request) {
    String host = request.getHeader("Host").map(HttpHeader::value).orElse("localhost");
    return "http://" + host + request.getUri().path();
  }

  private static boolean closed(HttpRequest request) {
    return header(request, CLOSED).map(v -> v.trim().equalsIgnoreCase("true")).orElse(false);
  }

  private static boolean safeInteger(String s) {
    return PRODUCER_NUMBER.matcher(s).matches() && Long.parseLong(s) <= MAX_SAFE_INTEGER;
  }

  /** Epoch milliseconds, or null for what is no RFC 3339 timestamp or lies beyond what they hold (the year 292278994). */
  private static Long parseTimestamp(String value) {
    try {
      return OffsetDateTime.parse(value.trim()).toInstant().toEpochMilli();
    } catch (DateTimeParseException | ArithmeticException e) {
      try {
        return Instant.parse(value.trim()).toEpochMilli();
      } catch (DateTimeParseException | ArithmeticException e2) {
        return null;
      }
    }
  }

  /** {@code Stream-Forked-From}: the source's path ({@code /v1/stream/name}), a full URL, or a bare name. */
  static String streamName(String value) {
    String v = value.trim();
    if (v.startsWith("http://") || v.startsWith("https://")) {
      try {
        v = URI.create(v).getPath();
      } catch (IllegalArgumentException e) {
        return null;
      }
    }
    if (v.startsWith(PREFIX)) v = v.substring(PREFIX.length());
    try {
      return URLDecoder.decode(v.replace("+", "%2B"), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }
}
