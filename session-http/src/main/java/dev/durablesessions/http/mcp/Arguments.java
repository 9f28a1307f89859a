package dev.durablesessions.http.mcp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.durablesessions.http.Json;
import java.util.Map;
import java.util.Optional;

/**
 * A tool call's arguments, read as typed as the REST API reads its bodies: a value of the wrong
 * type is refused ({@link Invalid}, answered as {@code invalid_request}), never converted.
 */
final class Arguments {
  /** A call refused before it reaches the session: a bad argument ({@code invalid_request}), a session outside the token's patterns. */
  static final class Refusal extends RuntimeException {
    final dev.durablesessions.session.ErrorCode code;

    Refusal(dev.durablesessions.session.ErrorCode code, String message) {
      super(message, null, false, false);
      this.code = code;
    }
  }

  /** An argument that is missing, of the wrong type or out of range; the message says which. */
  static final class Invalid extends RuntimeException {
    Invalid(String message) {
      super(message, null, false, false);
    }
  }

  private final ObjectNode tree;

  Arguments(Map<String, Object> arguments) {
    this.tree = arguments == null ? Json.MAPPER.createObjectNode() : Json.MAPPER.valueToTree(arguments);
  }

  ObjectNode tree() {
    return tree;
  }

  String requiredString(String name) {
    return optionalString(name).orElseThrow(() -> new Invalid(name + " is required (a string)"));
  }

  Optional<String> optionalString(String name) {
    JsonNode v = tree.get(name);
    if (v == null || v.isNull()) return Optional.empty();
    if (!v.isTextual()) throw new Invalid(name + " is a string");
    return Optional.of(v.textValue());
  }

  /** A non-negative integer; a fraction, a string or a negative number is refused. */
  Optional<Long> optionalCount(String name) {
    JsonNode v = tree.get(name);
    if (v == null || v.isNull()) return Optional.empty();
    if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) throw new Invalid(name + " is a non-negative integer");
    return Optional.of(v.longValue());
  }

  boolean has(String name) {
    return tree.hasNonNull(name);
  }

  JsonNode node(String name) {
    return tree.get(name);
  }
}
