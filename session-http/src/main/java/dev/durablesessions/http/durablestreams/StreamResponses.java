package dev.durablesessions.http.durablestreams;

import static dev.durablesessions.http.durablestreams.StreamHeaders.*;

import dev.durablesessions.durablestream.StreamMessage;
import dev.durablesessions.durablestream.StreamOffsets;
import dev.durablesessions.durablestream.StreamReply;
import dev.durablesessions.durablestream.StreamReply.Meta;
import dev.durablesessions.durablestream.StreamRules;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.util.ByteString;
import org.apache.pekko.util.ByteStringBuilder;

/**
 * A stream entity's answers as Durable Streams responses: status, headers (offsets, closed,
 * producer, ETag) and bodies. Each success kind is written by the method for its request; a
 * {@link StreamReply.Refusal} the same way for every request ({@link #refused}).
 */
final class StreamResponses {
  private static final ByteString EMPTY_JSON_ARRAY = ByteString.fromString("[]");

  /** Parsed response content types by the stream's content type (bounded: it is what clients sent). */
  private final ConcurrentHashMap<String, ContentType> contentTypes = new ConcurrentHashMap<>();

  /** 201 with Location for a new stream, 200 for the same one again. */
  HttpResponse created(StreamReply.CreateReply reply, String location) {
    Meta m;
    if (reply instanceof StreamReply.Created c) m = c.meta();
    else if (reply instanceof StreamReply.Exists e) m = e.meta();
    else return refused(reply);
    HttpResponse response = HttpResponse.create().withStatus(reply instanceof StreamReply.Created ? 201 : 200)
        .withEntity(HttpEntities.create(contentType(m.contentType()), new byte[0]))
        .addHeader(RawHeader.create(NEXT_OFFSET, StreamOffsets.format(m.tail())));
    if (reply instanceof StreamReply.Created) response = response.addHeader(RawHeader.create("Location", location));
    if (m.closed()) response = response.addHeader(RawHeader.create(CLOSED, "true"));
    return response;
  }

  /** Written (200 for a producer's data, else 204), or a producer's retry (204); producers get their epoch and seq back. */
  HttpResponse appended(StreamReply.AppendReply reply) {
    if (reply instanceof StreamReply.Appended a) return appended(204, a.meta());
    if (reply instanceof StreamReply.ProducerAppended a) return withProducer(appended(200, a.meta()), a.epoch(), a.seq());
    if (reply instanceof StreamReply.ProducerClosed a) return withProducer(appended(204, a.meta()), a.epoch(), a.seq());
    if (reply instanceof StreamReply.Duplicate a) return withProducer(appended(204, a.meta()), a.epoch(), a.seq());
    return refused(reply);
  }

  private static HttpResponse appended(int status, Meta m) {
    HttpResponse response = HttpResponse.create().withStatus(status).addHeader(RawHeader.create(NEXT_OFFSET, StreamOffsets.format(m.tail())));
    return m.closed() ? response.addHeader(RawHeader.create(CLOSED, "true")) : response;
  }

  private static HttpResponse withProducer(HttpResponse response, long epoch, long seq) {
    return response.addHeader(RawHeader.create(PRODUCER_EPOCH, Long.toString(epoch)))
        .addHeader(RawHeader.create(PRODUCER_SEQ, Long.toString(seq)));
  }

  /** HEAD: the metadata as headers; a refusal is its status alone. */
  HttpResponse described(StreamReply.DescribeReply reply) {
    if (!(reply instanceof StreamReply.Described described)) return HttpResponse.create().withStatus(httpStatus(reply));
    Meta m = described.meta();
    HttpResponse response = HttpResponse.create().withStatus(200)
        .withEntity(HttpEntities.create(contentType(m.contentType()), new byte[0]))
        .addHeader(RawHeader.create(NEXT_OFFSET, StreamOffsets.format(m.tail())))
        .addHeader(RawHeader.create("Cache-Control", "no-store"))
        .addHeader(RawHeader.create("ETag", etag(m, "-1", m.tail(), m.closed())));
    if (m.closed()) response = response.addHeader(RawHeader.create(CLOSED, "true"));
    if (m.ttlSeconds() != null) response = response.addHeader(RawHeader.create(TTL, Long.toString(m.ttlSeconds())));
    if (m.expiresAt() != null) response = response.addHeader(RawHeader.create(EXPIRES_AT, Instant.ofEpochMilli(m.expiresAt()).toString()));
    return response;
  }

  HttpResponse deleted(StreamReply.DeleteReply reply) {
    return reply instanceof StreamReply.Deleted ? HttpResponse.create().withStatus(204) : refused(reply);
  }

  /**
   * A catch-up or long-poll read: the page's messages (a JSON array for JSON streams), the
   * offset to continue from, up-to-date and closed flags, a cursor for long-polls, and an ETag
   * ({@code If-None-Match} gets 304). An empty long-poll is 204.
   */
  HttpResponse page(StreamReply.ReadReply reply, ReadQuery.Read read, boolean longPoll, Optional<String> ifNoneMatch) {
    if (!(reply instanceof StreamReply.Page page)) return refused(reply);
    Meta m = page.meta();
    boolean closedAtTail = page.closedAtTail();
    List<HttpHeader> headers = new ArrayList<>(6);
    headers.add(RawHeader.create(NEXT_OFFSET, StreamOffsets.format(page.next())));
    if (page.upToDate()) headers.add(RawHeader.create(UP_TO_DATE, "true"));
    if (closedAtTail) headers.add(RawHeader.create(CLOSED, "true"));
    if (longPoll) headers.add(RawHeader.create(CURSOR, Cursors.next(read.cursor())));
    if (read.from() == StreamOffsets.NOW) headers.add(RawHeader.create("Cache-Control", "no-store"));
    if (longPoll && page.messages().isEmpty()) return HttpResponse.create().withStatus(204).addHeaders(headers);
    String etag = etag(m, read.offsetText(), page.next(), closedAtTail);
    headers.add(RawHeader.create("ETag", etag));
    if (ifNoneMatch.isPresent() && matches(ifNoneMatch.get(), etag)) return HttpResponse.create().withStatus(304).addHeaders(headers);
    return HttpResponse.create().withStatus(200).addHeaders(headers)
        .withEntity(HttpEntities.create(contentType(m.contentType()), body(page.messages(), StreamRules.isJson(m.contentType()))));
  }

  /** A refusal: its status, its message as the body and the headers its kind carries. Any other reply here is a bug. */
  static HttpResponse refused(StreamReply reply) {
    if (!(reply instanceof StreamReply.Refusal refusal)) throw new IllegalStateException("not a refusal: " + reply);
    HttpResponse response = text(httpStatus(refusal), refusal.message());
    if (refusal instanceof StreamReply.Closed c) {
      return response.addHeader(RawHeader.create(CLOSED, "true")).addHeader(RawHeader.create(NEXT_OFFSET, StreamOffsets.format(c.meta().tail())));
    }
    if (refusal instanceof StreamReply.StaleEpoch e) return response.addHeader(RawHeader.create(PRODUCER_EPOCH, Long.toString(e.epoch())));
    if (refusal instanceof StreamReply.SeqGap g) {
      return response.addHeader(RawHeader.create(PRODUCER_EXPECTED_SEQ, Long.toString(g.expected())))
          .addHeader(RawHeader.create(PRODUCER_RECEIVED_SEQ, Long.toString(g.received())));
    }
    return response;
  }

  static int httpStatus(StreamReply refusal) {
    if (refusal instanceof StreamReply.NotFound) return 404;
    if (refusal instanceof StreamReply.Gone) return 410;
    if (refusal instanceof StreamReply.Conflict || refusal instanceof StreamReply.Closed || refusal instanceof StreamReply.SeqGap) return 409;
    if (refusal instanceof StreamReply.StaleEpoch) return 403;
    if (refusal instanceof StreamReply.BadRequest) return 400;
    if (refusal instanceof StreamReply.Unavailable) return 503;
    throw new IllegalStateException("not a refusal: " + refusal);
  }

  static HttpResponse text(int status, String message) {
    return HttpResponse.create().withStatus(status).withEntity(ContentTypes.TEXT_PLAIN_UTF8, message);
  }

  static HttpResponse tooLarge() {
    return text(413, "the body is larger than durable-sessions.streams.max-append-bytes");
  }

  static String etag(Meta m, String requestedOffset, long next, boolean closed) {
    return "\"" + m.incarnation() + ":" + requestedOffset + ":" + StreamOffsets.format(next) + (closed ? ":c" : "") + "\"";
  }

  private static boolean matches(String ifNoneMatch, String etag) {
    for (String candidate : ifNoneMatch.split(",")) {
      String c = candidate.trim();
      if (c.startsWith("W/")) c = c.substring(2);
      if (c.equals(etag) || c.equals("*")) return true;
    }
    return false;
  }

  private static ByteString body(List<StreamMessage> messages, boolean json) {
    if (json) {
      if (messages.isEmpty()) return EMPTY_JSON_ARRAY;
      ByteStringBuilder b = ByteString.createBuilder();
      b.putByte((byte) '[');
      for (int i = 0; i < messages.size(); i++) {
        if (i > 0) b.putByte((byte) ',');
        b.putBytes(messages.get(i).data());
      }
      b.putByte((byte) ']');
      return b.result();
    }
    if (messages.size() == 1) return ByteString.fromArrayUnsafe(messages.get(0).data());
    ByteStringBuilder b = ByteString.createBuilder();
    for (StreamMessage m : messages) b.putBytes(m.data());
    return b.result();
  }

  private ContentType contentType(String value) {
    ContentType cached = contentTypes.get(value);
    if (cached != null) return cached;
    ContentType parsed;
    try {
      parsed = ContentTypes.parse(value);
    } catch (RuntimeException e) {
      parsed = ContentTypes.APPLICATION_OCTET_STREAM;
    }
    if (contentTypes.size() < 1000) contentTypes.put(value, parsed);
    return parsed;
  }
}
