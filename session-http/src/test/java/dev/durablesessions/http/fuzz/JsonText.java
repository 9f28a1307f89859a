package dev.durablesessions.http.fuzz;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A JSON document the fuzzer can take apart: objects are {@code Map<String, Object>}, arrays
 * {@code List<Object>}, strings {@code String}, and anything else a {@link Raw} fragment written
 * as is (numbers at the edges, {@code -0}, {@code 1e309}, invalid escapes). Strings are written
 * with every non-ASCII character escaped, so a lone surrogate reaches the server as the JSON
 * escape {@code \ud800} and not as a byte the client's encoder replaced.
 */
public final class JsonText {
  private JsonText() {}

  /** A JSON fragment written verbatim. */
  public record Raw(String text) {
    @Override
    public String toString() {
      return text;
    }
  }

  public static Map<String, Object> object(Object... keysAndValues) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < keysAndValues.length; i += 2) m.put((String) keysAndValues[i], keysAndValues[i + 1]);
    return m;
  }

  public static List<Object> array(Object... values) {
    return new ArrayList<>(List.of(values));
  }

  public static Raw raw(String text) {
    return new Raw(text);
  }

  public static Raw number(long n) {
    return new Raw(Long.toString(n));
  }

  /** A deep copy (strings and raw fragments are immutable). */
  @SuppressWarnings("unchecked")
  public static Object copy(Object value) {
    if (value instanceof Map<?, ?> m) {
      Map<String, Object> c = new LinkedHashMap<>();
      ((Map<String, Object>) m).forEach((k, v) -> c.put(k, copy(v)));
      return c;
    }
    if (value instanceof List<?> l) {
      List<Object> c = new ArrayList<>(l.size());
      for (Object v : l) c.add(copy(v));
      return c;
    }
    return value;
  }

  public static String write(Object value) {
    StringBuilder b = new StringBuilder();
    write(b, value);
    return b.toString();
  }

  @SuppressWarnings("unchecked")
  private static void write(StringBuilder b, Object value) {
    if (value == null) {
      b.append("null");
    } else if (value instanceof Map<?, ?> m) {
      b.append('{');
      boolean first = true;
      for (Map.Entry<String, Object> e : ((Map<String, Object>) m).entrySet()) {
        if (!first) b.append(',');
        first = false;
        string(b, e.getKey());
        b.append(':');
        write(b, e.getValue());
      }
      b.append('}');
    } else if (value instanceof List<?> l) {
      b.append('[');
      for (int i = 0; i < l.size(); i++) {
        if (i > 0) b.append(',');
        write(b, l.get(i));
      }
      b.append(']');
    } else if (value instanceof String s) {
      string(b, s);
    } else if (value instanceof Boolean || value instanceof Raw) {
      b.append(value);
    } else if (value instanceof Number n) {
      b.append(n);
    } else {
      throw new IllegalArgumentException("not a JSON value: " + value.getClass());
    }
  }

  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private static void string(StringBuilder b, String s) {
    b.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '"' || c == '\\') b.append('\\').append(c);
      else if (c >= 0x20 && c < 0x7f) b.append(c);
      else b.append("\\u").append(HEX[c >> 12 & 0xf]).append(HEX[c >> 8 & 0xf]).append(HEX[c >> 4 & 0xf]).append(HEX[c & 0xf]);
    }
    b.append('"');
  }
}
