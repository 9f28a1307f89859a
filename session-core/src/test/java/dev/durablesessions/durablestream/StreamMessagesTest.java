package dev.durablesessions.durablestream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Bodies and fork prefixes become messages by the protocol's JSON rules: an array's elements are the values. */
class StreamMessagesTest {

  static StreamMessages.Parsed json(String body, boolean create) {
    return StreamMessages.body(body.getBytes(StandardCharsets.UTF_8), true, create);
  }

  static String text(StreamMessages.Parsed parsed) {
    StreamMessage m = assertInstanceOf(StreamMessages.Message.class, parsed).message();
    return new String(m.data(), StandardCharsets.UTF_8) + " (" + m.values() + ")";
  }

  @Test
  void aJsonArrayIsItsValuesCompactedAndAnyOtherValueIsOne() {
    assertEquals("{\"a\":1},2,\"x\" (3)", text(json("[ {\"a\" : 1}, 2, \"x\" ]", false)));
    assertEquals("{\"a\":[1,2]} (1)", text(json(" {\"a\": [1, 2]} ", false)));
    assertEquals("[1] (1)", text(json("[[1]]", false)), "an array inside the array is one value");
  }

  @Test
  void emptyIsNoMessageAndAnEmptyArrayOnlyOnCreate() {
    assertInstanceOf(StreamMessages.NoMessage.class, StreamMessages.body(new byte[0], true, false));
    assertInstanceOf(StreamMessages.NoMessage.class, json("[]", true));
    assertEquals(new StreamMessages.Invalid("an empty JSON array appends nothing"), json("[]", false));
  }

  @Test
  void whatIsNotOneJsonValueIsRefusedWithItsReason() {
    assertEquals(new StreamMessages.Invalid("the body is not valid JSON"), json("{", false));
    assertEquals(new StreamMessages.Invalid("the body holds more than one JSON value"), json("1 2", false));
    assertEquals(new StreamMessages.Invalid("the body is not JSON"), json("   ", false));
  }

  @Test
  void aForkPrefixIsTheFirstBytesOrValuesOfTheMessage() {
    StreamMessage bytes = new StreamMessage("hello".getBytes(StandardCharsets.UTF_8), 0);
    assertEquals("hel (0)", text(StreamMessages.prefix(bytes, 3, false)));
    assertEquals(new StreamMessages.Invalid("Stream-Fork-Sub-Offset is beyond the message"), StreamMessages.prefix(bytes, 6, false));
    StreamMessage values = new StreamMessage("{\"a\":1},2,[3]".getBytes(StandardCharsets.UTF_8), 3);
    assertEquals("{\"a\":1},2 (2)", text(StreamMessages.prefix(values, 2, true)));
    assertEquals(new StreamMessages.Invalid("Stream-Fork-Sub-Offset is beyond the message's values"), StreamMessages.prefix(values, 4, true));
  }
}
