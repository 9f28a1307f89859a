package dev.durablesessions.http.socket;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.exc.InvalidTypeIdException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.durablesessions.http.Json;
import dev.durablesessions.session.AppendBody;
import dev.durablesessions.session.ErrorCode;
import dev.durablesessions.session.producer.ProducerStamp;
import java.util.Iterator;
import java.util.List;

/** The socket's codec: client frames in ({@link #parse}), server frames out ({@link #write}); docs/PROTOCOL.md shows each. */
public final class Frames {
  private Frames() {}

  /** A parsed frame, or why it could not be parsed (with the frame's ref when it had one). */
  public sealed interface Parsed {}

  public record Ok(ClientFrame frame) implements Parsed {}

  public record Bad(String ref, ErrorCode code, String message) implements Parsed {}

  /** The fields an append frame has besides its body's. */
  record Envelope(String ref, ProducerStamp producer) {}

  /** A socket message as a frame: text is parsed, a message too large or binary is refused as such. */
  static Parsed read(Inbound message, int maxFrameBytes) {
    if (message instanceof Inbound.Text text) return parse(text.text());
    if (message instanceof Inbound.TooLarge t) {
      return new Bad(null, ErrorCode.FRAME_TOO_LARGE, "frame of " + t.bytes() + "+ bytes exceeds the limit of " + maxFrameBytes);
    }
    if (message instanceof Inbound.Binary) return new Bad(null, ErrorCode.BINARY_NOT_SUPPORTED, "frames are JSON text");
    throw new IllegalStateException("unhandled socket message " + message);
  }

  public static Parsed parse(String text) {
    JsonNode tree;
    try {
      tree = Json.readClient(text);
    } catch (JsonProcessingException e) {
      return new Bad(null, ErrorCode.BAD_JSON, "not JSON: " + e.getOriginalMessage());
    }
    if (tree == null || !tree.isObject()) return new Bad(null, ErrorCode.BAD_JSON, "a frame is a JSON object");
    String ref = tree.hasNonNull("ref") ? tree.get("ref").asText() : null;
    if (!tree.hasNonNull("type") || !tree.get("type").isTextual()) {
      return new Bad(ref, ErrorCode.UNKNOWN_FRAME, "a frame needs a string \"type\"");
    }
    String type = tree.get("type").asText();
    if (ClientFrame.APPEND_TYPES.contains(type)) return parseAppend(tree, ref, type);
    try {
      return new Ok(Json.MAPPER.treeToValue(tree, ClientFrame.class));
    } catch (InvalidTypeIdException e) {
      return new Bad(ref, ErrorCode.UNKNOWN_FRAME, "unknown frame type \"" + type + "\"");
    } catch (JsonProcessingException | IllegalArgumentException e) {
      return invalid(ref, type, e);
    }
  }

  /**
   * The envelope and the body are read from the same object; when both have a bad field, the
   * one that comes first in the frame is reported, as a reader of the whole frame would.
   */
  private static Parsed parseAppend(JsonNode tree, String ref, String type) {
    Envelope envelope = null;
    AppendBody body = null;
    Exception envelopeProblem = null;
    Exception bodyProblem = null;
    try {
      envelope = Json.MAPPER.treeToValue(tree, Envelope.class);
    } catch (JsonProcessingException | IllegalArgumentException e) {
      envelopeProblem = e;
    }
    try {
      body = Json.MAPPER.treeToValue(tree, AppendBody.class);
    } catch (JsonProcessingException | IllegalArgumentException e) {
      bodyProblem = e;
    }
    if (envelopeProblem != null && bodyProblem != null) {
      return invalid(ref, type, position(tree, bodyProblem) < position(tree, envelopeProblem) ? bodyProblem : envelopeProblem);
    }
    if (envelopeProblem != null) return invalid(ref, type, envelopeProblem);
    if (bodyProblem != null) return invalid(ref, type, bodyProblem);
    return new Ok(new ClientFrame.Append(envelope.ref(), envelope.producer(), body));
  }

  /** Where in the frame a problem is: the index of the field it is in, or after every field if it is the object's. */
  private static int position(JsonNode tree, Exception problem) {
    if (problem instanceof JsonMappingException m && !m.getPath().isEmpty() && m.getPath().get(0).getFieldName() != null) {
      String field = m.getPath().get(0).getFieldName();
      int i = 0;
      for (Iterator<String> names = tree.fieldNames(); names.hasNext(); i++) {
        if (names.next().equals(field)) return i;
      }
    }
    return Integer.MAX_VALUE;
  }

  private static Bad invalid(String ref, String type, Exception e) {
    String why = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
    return new Bad(ref, ErrorCode.INVALID_FRAME, "invalid " + type + " frame: " + why);
  }

  /** An {@code events} frame around the JSON texts of events, in order ({@code chars}: about their length, to size the buffer). */
  static String events(List<String> texts, int chars) {
    StringBuilder frame = new StringBuilder(chars + 32).append("{\"type\":\"events\",\"events\":[");
    for (int i = 0; i < texts.size(); i++) {
      if (i > 0) frame.append(',');
      frame.append(texts.get(i));
    }
    return frame.append("]}").toString();
  }

  /** The JSON text of a server frame; absent optional fields are left out. */
  public static String write(ServerFrame frame) {
    if (frame instanceof ServerFrame.Event e) return Json.writeEvent(e.event());
    ObjectNode n = Json.MAPPER.createObjectNode();
    if (frame instanceof ServerFrame.Attached a) {
      n.put("type", "attached");
      n.put("sessionId", a.sessionId());
      n.set("participant", Json.MAPPER.valueToTree(a.participant()));
      n.put("device", a.device());
      n.put("head", a.head());
      n.put("after", a.after());
      n.put("visibleHead", a.visibleHead());
      if (!a.heartbeatTimeout().isZero()) n.put("heartbeatTimeoutMs", a.heartbeatTimeout().toMillis());
    } else if (frame instanceof ServerFrame.Ack a) {
      n.put("type", "ack");
      if (a.ref() != null) n.put("ref", a.ref());
      if (a.accepted().offset() >= 0) n.put("offset", a.accepted().offset());
      if (a.accepted().seq() != null) n.put("seq", a.accepted().seq());
      n.put("duplicate", a.accepted().duplicate());
    } else if (frame instanceof ServerFrame.AuthAck a) {
      n.put("type", "ack");
      if (a.ref() != null) n.put("ref", a.ref());
      if (a.expiresAt() != null) n.put("expiresAt", a.expiresAt().toString());
    } else if (frame instanceof ServerFrame.Error e) {
      n.put("type", "error");
      if (e.ref() != null) n.put("ref", e.ref());
      n.put("code", e.code().code());
      n.put("message", e.message());
      if (e.retryAfterMs() != null) n.put("retryAfterMs", e.retryAfterMs());
    } else if (frame instanceof ServerFrame.Closing c) {
      n.put("type", "closing");
      n.put("code", c.code());
      n.put("reason", c.reason());
      n.put("resumable", c.resumable());
      n.put("message", c.message());
    } else {
      throw new IllegalStateException("no JSON for server frame " + frame);
    }
    return n.toString();
  }
}
