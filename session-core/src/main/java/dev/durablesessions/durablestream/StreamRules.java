package dev.durablesessions.durablestream;

import java.util.Locale;

/** Content-type rules of the Durable Streams protocol. */
public final class StreamRules {
  private StreamRules() {}

  public static final String DEFAULT_CONTENT_TYPE = "application/octet-stream";
  public static final String JSON = "application/json";

  /** The media type without parameters, trimmed and lower-cased: what two content types are compared by. */
  public static String normalise(String contentType) {
    if (contentType == null) return null;
    int semi = contentType.indexOf(';');
    return (semi < 0 ? contentType : contentType.substring(0, semi)).trim().toLowerCase(Locale.ROOT);
  }

  public static boolean isJson(String contentType) {
    return JSON.equals(normalise(contentType));
  }

  /** Binary streams are sent base64-encoded over SSE: anything neither text nor JSON. */
  public static boolean isBinary(String contentType) {
    String n = normalise(contentType);
    return n == null || !(n.startsWith("text/") || n.equals(JSON));
  }
}
