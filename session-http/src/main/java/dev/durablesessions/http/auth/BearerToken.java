package dev.durablesessions.http.auth;

import dev.durablesessions.http.QueryParameters;
import java.util.Optional;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;

/** Where a request carries its JWT: {@code Authorization: Bearer ...}, or {@code access_token} where a browser cannot set headers. */
public final class BearerToken {
  private BearerToken() {}

  /** The token of an {@code Authorization: Bearer} header (the scheme in any case). */
  public static Optional<String> fromHeader(HttpRequest request) {
    return request.getHeader("Authorization")
        .map(HttpHeader::value)
        .filter(v -> v.regionMatches(true, 0, "Bearer ", 0, 7))
        .map(v -> v.substring(7).trim());
  }

  /** The header's token, else the first {@code access_token} query parameter (EventSource); none for a malformed query. */
  public static Optional<String> fromHeaderOrQuery(HttpRequest request) {
    Optional<String> header = fromHeader(request);
    if (header.isPresent()) return header;
    try {
      return QueryParameters.of(request).all("access_token").stream().findFirst();
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }
}
