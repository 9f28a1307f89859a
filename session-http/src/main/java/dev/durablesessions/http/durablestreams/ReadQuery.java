package dev.durablesessions.http.durablestreams;

import dev.durablesessions.durablestream.StreamOffsets;
import dev.durablesessions.http.QueryParameters;
import java.util.List;
import org.apache.pekko.http.javadsl.model.HttpRequest;

/**
 * The query of a Durable Streams read ({@code offset}, {@code live}, {@code cursor}), checked
 * once for streams and session logs alike. Each route answers a {@link Problem} in its own
 * words and codes.
 */
sealed interface ReadQuery {

  /**
   * A valid read: from {@code from} ({@link StreamOffsets#FROM_START}, {@link StreamOffsets#NOW}
   * or an offset), {@code offsetText} as the client wrote it (ETags repeat it), {@code live}
   * null, {@code long-poll} or {@code sse}, and the {@code cursor} the client echoed (or null).
   */
  record Read(long from, String offsetText, String live, String cursor) implements ReadQuery {
    boolean sse() {
      return "sse".equals(live);
    }
  }

  /** Why a read's query is refused, in the order it is checked. */
  enum Problem implements ReadQuery {
    MALFORMED("malformed query string"),
    OFFSET_REPEATED("offset given more than once"),
    LIVE_REPEATED("live given more than once"),
    LIVE_UNKNOWN("live is long-poll or sse"),
    LIVE_WITHOUT_OFFSET("a live read needs an offset"),
    OFFSET_UNKNOWN("offset must be -1, now or an offset this server returned");

    final String message;

    Problem(String message) {
      this.message = message;
    }
  }

  static ReadQuery of(HttpRequest request) {
    QueryParameters query;
    try {
      query = QueryParameters.of(request);
    } catch (IllegalArgumentException e) {
      return Problem.MALFORMED;
    }
    List<String> offsets = query.all("offset");
    List<String> lives = query.all("live");
    if (offsets.size() > 1) return Problem.OFFSET_REPEATED;
    if (lives.size() > 1) return Problem.LIVE_REPEATED;
    String live = lives.isEmpty() ? null : lives.get(0);
    if (live != null && !live.equals("long-poll") && !live.equals("sse")) return Problem.LIVE_UNKNOWN;
    if (live != null && offsets.isEmpty()) return Problem.LIVE_WITHOUT_OFFSET;
    String offsetText = offsets.isEmpty() ? "-1" : offsets.get(0);
    Long from = StreamOffsets.parseQuery(offsetText);
    if (from == null) return Problem.OFFSET_UNKNOWN;
    return new Read(from, offsetText, live, query.all("cursor").stream().findFirst().orElse(null));
  }
}
