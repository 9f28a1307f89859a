package dev.durablesessions.durablestream;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * How bytes become a stream's message: a request body (on create or append) and the
 * sub-offset prefix a fork takes of its source's first message after the fork point. For JSON
 * streams a message is a list of values (see {@link StreamMessage}); an array's elements are
 * its values. Pure.
 */
public final class StreamMessages {
  private StreamMessages() {}

  private static final ObjectMapper MAPPER = new ObjectMapper();

  /** A message, no message at all, or why the bytes cannot be one (answered 400). */
  public sealed interface Parsed {}

  public record Message(StreamMessage message) implements Parsed {}

  public record NoMessage() implements Parsed {}

  public record Invalid(String problem) implements Parsed {}

  private static final NoMessage NO_MESSAGE = new NoMessage();

  /**
   * A request body as a message. JSON bodies must be one JSON value; an empty array is no
   * message (allowed on create, refused on append); an empty body is no message.
   */
  public static Parsed body(byte[] bytes, boolean json, boolean create) {
    if (bytes.length == 0) return NO_MESSAGE;
    if (!json) return new Message(new StreamMessage(bytes, 0));
    JsonNode value;
    try (JsonParser parser = MAPPER.createParser(bytes)) {
      value = MAPPER.readTree(parser);
      if (value == null || value.isMissingNode()) return new Invalid("the body is not JSON");
      if (parser.nextToken() != null) return new Invalid("the body holds more than one JSON value");
    } catch (IOException e) {
      return new Invalid("the body is not valid JSON");
    }
    try {
      if (!value.isArray()) return new Message(new StreamMessage(MAPPER.writeValueAsBytes(value), 1));
      ArrayNode array = (ArrayNode) value;
      if (array.isEmpty()) return create ? NO_MESSAGE : new Invalid("an empty JSON array appends nothing");
      ByteArrayOutputStream out = new ByteArrayOutputStream(bytes.length);
      for (int i = 0; i < array.size(); i++) {
        if (i > 0) out.write(',');
        out.writeBytes(MAPPER.writeValueAsBytes(array.get(i)));
      }
      return new Message(new StreamMessage(out.toByteArray(), array.size()));
    } catch (IOException e) {
      return new Invalid("the body is not valid JSON");
    }
  }

  /**
   * The first {@code subOffset} bytes (or, for JSON, values) of {@code first}, the source's
   * first message after the fork point, which become a fork's first own message.
   */
  public static Parsed prefix(StreamMessage first, long subOffset, boolean json) {
    if (!json) {
      if (subOffset > first.size()) return new Invalid("Stream-Fork-Sub-Offset is beyond the message");
      return new Message(new StreamMessage(Arrays.copyOf(first.data(), (int) subOffset), 0));
    }
    if (subOffset > first.values()) return new Invalid("Stream-Fork-Sub-Offset is beyond the message's values");
    try {
      JsonNode values = MAPPER.readTree("[" + new String(first.data(), StandardCharsets.UTF_8) + "]");
      StringBuilder b = new StringBuilder();
      for (int i = 0; i < subOffset; i++) {
        if (i > 0) b.append(',');
        b.append(MAPPER.writeValueAsString(values.get(i)));
      }
      return new Message(new StreamMessage(b.toString().getBytes(StandardCharsets.UTF_8), (int) subOffset));
    } catch (IOException e) {
      return new Invalid("stored message is not JSON");
    }
  }
}
