package dev.durablesessions.http.durablestreams;

import java.util.List;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;

/** Header names of the Durable Streams protocol, and the headers every response carries. */
final class StreamHeaders {
  private StreamHeaders() {}

  static final String NEXT_OFFSET = "Stream-Next-Offset";
  static final String UP_TO_DATE = "Stream-Up-To-Date";
  static final String CLOSED = "Stream-Closed";
  static final String CURSOR = "Stream-Cursor";
  static final String TTL = "Stream-TTL";
  static final String EXPIRES_AT = "Stream-Expires-At";
  static final String SEQ = "Stream-Seq";
  static final String SSE_ENCODING = "Stream-SSE-Data-Encoding";
  static final String FORKED_FROM = "Stream-Forked-From";
  static final String FORK_OFFSET = "Stream-Fork-Offset";
  static final String FORK_SUB_OFFSET = "Stream-Fork-Sub-Offset";
  static final String PRODUCER_ID = "Producer-Id";
  static final String PRODUCER_EPOCH = "Producer-Epoch";
  static final String PRODUCER_SEQ = "Producer-Seq";
  static final String PRODUCER_EXPECTED_SEQ = "Producer-Expected-Seq";
  static final String PRODUCER_RECEIVED_SEQ = "Producer-Received-Seq";

  /** On every response of the protocol, errors and preflights included. */
  static final List<HttpHeader> GLOBAL = List.of(
      RawHeader.create("X-Content-Type-Options", "nosniff"),
      RawHeader.create("Cross-Origin-Resource-Policy", "cross-origin"),
      RawHeader.create("Access-Control-Allow-Origin", "*"),
      RawHeader.create("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, HEAD, OPTIONS"),
      RawHeader.create("Access-Control-Allow-Headers", String.join(", ", "Content-Type", "Authorization",
          "If-None-Match", SEQ, TTL, EXPIRES_AT, CLOSED, PRODUCER_ID, PRODUCER_EPOCH, PRODUCER_SEQ, FORKED_FROM,
          FORK_OFFSET, FORK_SUB_OFFSET)),
      RawHeader.create("Access-Control-Expose-Headers", String.join(", ", NEXT_OFFSET, CURSOR, UP_TO_DATE, CLOSED,
          TTL, EXPIRES_AT, SSE_ENCODING, PRODUCER_EPOCH, PRODUCER_SEQ, PRODUCER_EXPECTED_SEQ, PRODUCER_RECEIVED_SEQ,
          "ETag", "Content-Type", "Content-Encoding", "Location", "Vary")));
}
