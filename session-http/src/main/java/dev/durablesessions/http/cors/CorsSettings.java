package dev.durablesessions.http.cors;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValueType;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Which browser origins may call the session API across origins ({@code
 * durable-sessions.http.cors}): the configured ones, or any origin in dev mode or with {@code *}
 * in the list. Origins are compared as browsers send them: scheme, host and port, lower case.
 */
public record CorsSettings(boolean anyOrigin, Set<String> origins, Duration maxAge) {

  public static CorsSettings fromConfig(Config config) {
    Config cors = config.getConfig("durable-sessions.http.cors");
    List<String> entries = cors.getValue("allowed-origins").valueType() == ConfigValueType.LIST
        ? cors.getStringList("allowed-origins")
        // DS_CORS_ALLOWED_ORIGINS sets it as one string: origins separated by commas or spaces
        : List.of(cors.getString("allowed-origins").split("[,\\s]+"));
    boolean any = config.getBoolean("durable-sessions.auth.dev-mode");
    Set<String> origins = new LinkedHashSet<>();
    for (String entry : entries) {
      String origin = entry.trim();
      if (origin.isEmpty()) continue;
      if (origin.equals("*")) any = true;
      else origins.add(normalize(origin));
    }
    return new CorsSettings(any, Set.copyOf(origins), cors.getDuration("max-age"));
  }

  public boolean allows(String origin) {
    return anyOrigin || origins.contains(origin.toLowerCase(Locale.ROOT));
  }

  /**
   * An origin as a browser sends it ({@code https://app.example.com}, {@code http://localhost:3000}):
   * a trailing slash is dropped; anything else than scheme, host and port stops the node at start,
   * since such an entry would never match and its origin would be refused without a word.
   */
  static String normalize(String entry) {
    String origin = entry.endsWith("/") ? entry.substring(0, entry.length() - 1) : entry;
    URI uri;
    try {
      uri = new URI(origin);
    } catch (java.net.URISyntaxException e) {
      throw new IllegalArgumentException(invalid(entry));
    }
    boolean plainOrigin = uri.getScheme() != null && uri.getHost() != null && uri.getRawUserInfo() == null
        && (uri.getRawPath() == null || uri.getRawPath().isEmpty()) && uri.getRawQuery() == null && uri.getRawFragment() == null;
    if (!plainOrigin && !origin.equals("null")) throw new IllegalArgumentException(invalid(entry));
    return origin.toLowerCase(Locale.ROOT);
  }

  private static String invalid(String entry) {
    return "durable-sessions.http.cors.allowed-origins: \"" + entry
        + "\" is not an origin; write scheme://host[:port], like https://app.example.com, or *";
  }

  /** For the log at start: what a browser on another origin may do. */
  public String describe() {
    if (anyOrigin) return "any origin";
    if (origins.isEmpty()) return "no origin (durable-sessions.http.cors.allowed-origins is empty)";
    return String.join(", ", new ArrayList<>(origins));
  }
}
