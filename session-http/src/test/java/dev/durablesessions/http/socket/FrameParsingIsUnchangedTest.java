package dev.durablesessions.http.socket;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Every client frame type, valid and with one or two fields damaged (wrong types, null,
 * missing), parses to exactly what it parsed to before the wire model was unified: the same
 * append (ref, producer stamp, body) or control frame, or the same error code and byte for
 * byte the same message. The expected answers in {@code frames/parse-golden.txt} were written
 * by the parser of commit afdc837 (two records per append type); regenerate them only for a
 * deliberate change of the wire, with {@code -Dframes.golden.write=true}.
 */
class FrameParsingIsUnchangedTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String GOLDEN = "frames/parse-golden.txt";

  static final List<String> FRAMES = List.of(
      "{\"type\":\"message\",\"ref\":\"r1\",\"producer\":{\"id\":\"p\",\"epoch\":0,\"seq\":3},\"messageId\":\"m1\",\"text\":\"hello\"}",
      "{\"type\":\"stream.start\",\"ref\":\"r1\",\"messageId\":\"s1\"}",
      "{\"type\":\"stream.delta\",\"ref\":\"r1\",\"messageId\":\"s1\",\"text\":\"tok\"}",
      "{\"type\":\"stream.end\",\"ref\":\"r1\",\"messageId\":\"s1\",\"reason\":\"error\",\"error\":\"boom\"}",
      "{\"type\":\"signal\",\"ref\":\"r1\",\"kind\":\"interrupt\",\"to\":{\"role\":\"agent\"},\"text\":\"stop\",\"toolCallId\":\"c1\"}",
      "{\"type\":\"signal.answer\",\"ref\":\"r1\",\"signal\":7,\"outcome\":\"consumed\",\"text\":\"ok\"}",
      "{\"type\":\"status\",\"ref\":\"r1\",\"status\":\"thinking\",\"detail\":\"reading\"}",
      "{\"type\":\"suggestion\",\"ref\":\"r1\",\"text\":\"offer a refund\"}",
      "{\"type\":\"commit\",\"ref\":\"r1\",\"tool\":\"edit\",\"toolCallId\":\"c1\",\"inputHash\":\"h\",\"outputSummary\":\"s\","
          + "\"provenance\":\"verified\",\"error\":{\"code\":\"timeout\",\"message\":\"slow\"},"
          + "\"patch\":[{\"op\":\"add\",\"path\":\"/files_modified/-\",\"value\":\"a.ts\"}],\"evictedKeys\":[\"k\"]}",
      "{\"type\":\"tool.call\",\"ref\":\"r1\",\"toolCallId\":\"c1\",\"name\":\"grep\",\"inputHash\":\"h\"}",
      "{\"type\":\"tool.result\",\"ref\":\"r1\",\"toolCallId\":\"c1\",\"outcome\":\"ok\",\"summary\":\"3 hits\","
          + "\"error\":{\"code\":\"none\",\"message\":\"none\"}}",
      "{\"type\":\"turn.retry\",\"ref\":\"r1\",\"reason\":\"wrong\"}",
      "{\"type\":\"tool.approval.request\",\"ref\":\"r1\",\"toolCallId\":\"c1\",\"approvalId\":\"ap1\",\"to\":{\"participant\":\"ada\"},"
          + "\"input\":{\"path\":\"a.ts\"},\"text\":\"may I?\"}",
      "{\"type\":\"tool.approval.answer\",\"ref\":\"r1\",\"approvalId\":\"ap1\",\"approved\":true,\"reason\":\"fine\"}",
      "{\"type\":\"heartbeat\",\"ref\":\"r1\",\"offset\":1}",
      "{\"type\":\"ack\",\"ref\":\"r1\",\"offset\":2}",
      "{\"type\":\"auth\",\"ref\":\"r1\",\"token\":\"t\"}",
      "{\"type\":\"leave\",\"ref\":\"r1\"}");

  /** What a damaged field is set to; {@code null} as a Java value means the field is removed. */
  static final List<String> DAMAGE = List.of("0", "-1", "1.5", "\"x\"", "\"\"", "true", "null", "{}", "[]", "{\"id\":\"p\"}",
      "9223372036854775808", "\"complete\"", "{\"role\":\"nobody\"}", "{\"role\":\"agent\",\"participant\":\"bot\"}");

  @Test
  void everyFrameParsesToWhatItParsedToBeforeWithByteIdenticalErrors() throws IOException {
    List<String> lines = new ArrayList<>();
    for (String frame : corpus()) lines.add(frame + "\t" + describe(Frames.parse(frame)));
    String actual = String.join("\n", lines) + "\n";
    if (Boolean.getBoolean("frames.golden.write")) {
      Files.writeString(Path.of("src/test/resources", GOLDEN), actual);
    }
    try (InputStream in = getClass().getClassLoader().getResourceAsStream(GOLDEN)) {
      String[] expected = new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n");
      String[] got = actual.split("\n");
      for (int i = 0; i < Math.min(expected.length, got.length); i++) assertEquals(expected[i], got[i], "case " + i);
      assertEquals(expected.length, got.length, "number of cases");
    }
  }

  /** Each frame as is, with each field removed or damaged, with each pair of fields damaged, and with its fields reversed. */
  static List<String> corpus() throws IOException {
    List<String> out = new ArrayList<>();
    out.add("{\"type\":\"teleport\",\"ref\":\"r1\"}");
    out.add("{\"ref\":\"r1\"}");
    out.add("[1]");
    out.add("{\"type\":");
    for (String text : FRAMES) {
      ObjectNode frame = (ObjectNode) JSON.readTree(text);
      out.add(frame.toString());
      List<String> fields = new ArrayList<>();
      frame.fieldNames().forEachRemaining(f -> { if (!f.equals("type")) fields.add(f); });
      fields.add("producer");
      fields.add("extra");
      for (String field : fields) {
        out.add(without(frame, field).toString());
        for (String value : DAMAGE) out.add(with(frame, field, value).toString());
      }
      for (String a : fields) {
        for (String b : fields) {
          if (a.equals(b)) continue;
          out.add(with(with(frame, a, "1.5"), b, "\"x\"").toString());
          out.add(with(with(frame, a, "null"), b, "{}").toString());
        }
      }
      ObjectNode reversed = JSON.createObjectNode();
      for (int i = fields.size() - 1; i >= 0; i--) if (frame.has(fields.get(i))) reversed.set(fields.get(i), frame.get(fields.get(i)));
      reversed.set("type", frame.get("type"));
      out.add(with(with(reversed, "ref", "0"), fields.get(fields.size() - 3), "[]").toString());
    }
    return out;
  }

  static ObjectNode without(ObjectNode frame, String field) {
    ObjectNode copy = frame.deepCopy();
    copy.remove(field);
    return copy;
  }

  static ObjectNode with(ObjectNode frame, String field, String json) {
    ObjectNode copy = frame.deepCopy();
    try {
      copy.set(field, JSON.readTree(json));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return copy;
  }

  static String describe(Frames.Parsed parsed) {
    if (parsed instanceof Frames.Bad bad) return "bad " + bad.ref() + " " + bad.code().code() + " " + bad.message();
    ClientFrame frame = ((Frames.Ok) parsed).frame();
    if (frame instanceof ClientFrame.Append a) return "append " + a.ref() + " " + a.producer() + " " + a.body();
    return "frame " + frame;
  }
}
