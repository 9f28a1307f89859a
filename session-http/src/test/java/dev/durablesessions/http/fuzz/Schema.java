package dev.durablesessions.http.fuzz;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;

/**
 * The JSON types docs/PROTOCOL.md gives an input's fields, to tell garbage from input: a field
 * given a value of another type (a number for a string, {@code 1.5} for an offset, a string for
 * an object) must be refused, never coerced and accepted. {@code null} counts as absent.
 */
public final class Schema {
  private Schema() {}

  public enum Kind { STRING, INTEGER, BOOLEAN, OBJECT, ARRAY, STRINGS }

  /** The first field (as a JSON pointer) whose value has the wrong type, or null. */
  @SuppressWarnings("unchecked")
  public static String wrongType(JsonNode node, Map<String, Object> schema) {
    return wrongType(node, schema, "");
  }

  @SuppressWarnings("unchecked")
  private static String wrongType(JsonNode node, Map<String, Object> schema, String at) {
    for (Map.Entry<String, Object> field : schema.entrySet()) {
      JsonNode value = node.get(field.getKey());
      if (value == null || value.isNull()) continue;
      String path = at + "/" + field.getKey();
      if (field.getValue() instanceof Map<?, ?> inner) {
        if (!value.isObject()) return path;
        String wrong = wrongType(value, (Map<String, Object>) inner, path);
        if (wrong != null) return wrong;
        continue;
      }
      boolean right = switch ((Kind) field.getValue()) {
        case STRING -> value.isTextual();
        case INTEGER -> value.isIntegralNumber();
        case BOOLEAN -> value.isBoolean();
        case OBJECT -> value.isObject();
        case ARRAY -> value.isArray();
        case STRINGS -> value.isArray() && java.util.stream.StreamSupport.stream(value.spliterator(), false).allMatch(JsonNode::isTextual);
      };
      if (!right) return path;
    }
    return null;
  }
}
