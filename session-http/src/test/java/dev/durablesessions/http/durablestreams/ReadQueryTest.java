package dev.durablesessions.http.durablestreams;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.durablesessions.durablestream.StreamOffsets;
import dev.durablesessions.http.QueryParameters;
import dev.durablesessions.http.auth.BearerToken;
import java.util.Optional;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.junit.jupiter.api.Test;

/** The read query and the bearer token are checked the same way for streams and session logs. */
class ReadQueryTest {
  static HttpRequest request(String raw) {
    return HttpRequest.create(raw.isEmpty() ? "/v1/stream/s" : "/v1/stream/s?" + raw);
  }

  static ReadQuery query(String raw) {
    return ReadQuery.of(request(raw));
  }

  @Test
  void aReadQueryNamesItsOffsetLiveModeAndCursor() {
    assertEquals(new ReadQuery.Read(StreamOffsets.FROM_START, "-1", null, null), query(""));
    assertEquals(new ReadQuery.Read(StreamOffsets.NOW, "now", "long-poll", "7"), query("offset=now&live=long-poll&cursor=7&cursor=8"));
    assertEquals(new ReadQuery.Read(12, "0000000000000000_0000000000000012", "sse", null),
        query("offset=0000000000000000_0000000000000012&live=sse"));
  }

  @Test
  void theFirstProblemInTheCheckedOrderIsNamed() {
    // Pekko refuses a request whose query has a broken escape before it reaches a route; the check stays as a guard.
    assertThrows(IllegalArgumentException.class, () -> QueryParameters.parse("offset=%zz"));
    assertEquals(ReadQuery.Problem.OFFSET_REPEATED, query("offset=-1&offset=now&live=x&live=y"));
    assertEquals(ReadQuery.Problem.LIVE_REPEATED, query("live=sse&live=sse"));
    assertEquals(ReadQuery.Problem.LIVE_UNKNOWN, query("live=poll"));
    assertEquals(ReadQuery.Problem.LIVE_WITHOUT_OFFSET, query("live=sse"));
    assertEquals(ReadQuery.Problem.OFFSET_UNKNOWN, query("offset=12"));
    assertEquals(ReadQuery.Problem.OFFSET_UNKNOWN, query("offset="));
  }

  @Test
  void aBearerTokenComesFromTheHeaderElseFromAccessToken() {
    HttpRequest both = request("access_token=q").addHeader(RawHeader.create("Authorization", "bearer  h "));
    assertEquals(Optional.of("h"), BearerToken.fromHeader(both));
    assertEquals(Optional.of("h"), BearerToken.fromHeaderOrQuery(both));
    HttpRequest query = request("access_token=q&access_token=r");
    assertEquals(Optional.empty(), BearerToken.fromHeader(query), "the session routes read access_token themselves");
    assertEquals(Optional.of("q"), BearerToken.fromHeaderOrQuery(query));
    assertEquals(Optional.empty(), BearerToken.fromHeaderOrQuery(
        request("").addHeader(RawHeader.create("Authorization", "Basic abc"))));
  }
}
