package dev.durablesessions.http;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.japi.Pair;

/**
 * A request's query parameters, keeping repeats (so a route can refuse {@code offset} given
 * twice) and telling "absent" from "empty", which Pekko's parameter directives do not.
 */
public record QueryParameters(List<Pair<String, String>> pairs) {

  /** @throws IllegalArgumentException for a malformed escape */
  public static QueryParameters of(HttpRequest request) {
    return parse(request.getUri().rawQueryString().orElse(""));
  }

  /** @throws IllegalArgumentException for a malformed escape */
  public static QueryParameters parse(String raw) {
    List<Pair<String, String>> pairs = new ArrayList<>();
    if (!raw.isEmpty()) {
      for (String part : raw.split("&", -1)) {
        if (part.isEmpty()) continue;
        int eq = part.indexOf('=');
        String key = URLDecoder.decode(eq < 0 ? part : part.substring(0, eq), StandardCharsets.UTF_8);
        String value = eq < 0 ? "" : URLDecoder.decode(part.substring(eq + 1), StandardCharsets.UTF_8);
        pairs.add(Pair.create(key, value));
      }
    }
    return new QueryParameters(pairs);
  }

  /** Every value of {@code key}, in order. */
  public List<String> all(String key) {
    List<String> out = new ArrayList<>(1);
    for (Pair<String, String> p : pairs) if (p.first().equals(key)) out.add(p.second());
    return out;
  }
}
