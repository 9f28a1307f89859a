package dev.durablesessions.http.socket;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.exc.InvalidTypeIdException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.durablesessions.http.Json;
import dev.durablesessions.session.ErrorCode;
import dev.durablesessions.session.Outcome;
import dev.durablesessions.session.Participant;
import dev.durablesessions.session.SessionEvent;

/** Parsing client frames and writing server frames; docs/PROTOCOL.md shows each. */
public final class Frames {
  private Frames() {}

  /** A parsed frame, or why it could not be parsed (with the frame's ref when it had one). */
  public sealed interface Parsed {}

  public record Ok(ClientFrame frame) implements Parsed {}

  public record Bad(String ref, ErrorCode code, String message) implements Parsed {}

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
    try {
      return new Ok(Json.MAPPER.treeToValue(tree, ClientFrame.class));
    } catch (InvalidTypeIdException e) {
      return new Bad(ref, ErrorCode.UNKNOWN_FRAME, "unknown frame type \"" + tree.get("type").asText() + "\"");
    } catch (JsonProcessingException | IllegalArgumentException e) {
      String why = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
      return new Bad(ref, ErrorCode.INVALID_FRAME, "invalid " + tree.get("type").asText() + " frame: " + why);
    }
  }

  public static String attached(
      String sessionId, Participant participant, String device, long head, long after, java.time.Duration heartbeatTimeout) {
    ObjectNode n = Json.MAPPER.createObjectNode();
    n.put("type", "attached");
    n.put("sessionId", sessionId);
    n.set("participant", Json.MAPPER.valueToTree(participant));
    n.put("device", device);
    n.put("head", head);
    n.put("after", after);
    if (!heartbeatTimeout.isZero()) n.put("heartbeatTimeoutMs", heartbeatTimeout.toMillis());
    return n.toString();
  }

  public static String event(SessionEvent event) {
    return Json.writeEvent(event);
  }

  public static String ack(String ref, Outcome.Accepted accepted) {
    ObjectNode n = Json.MAPPER.createObjectNode();
    n.put("type", "ack");
    if (ref != null) n.put("ref", ref);
    if (accepted.offset() >= 0) n.put("offset", accepted.offset());
    if (accepted.seq() != null) n.put("seq", accepted.seq());
    n.put("duplicate", accepted.duplicate());
    return n.toString();
  }

  /** The answer to an accepted auth frame: the socket now lives until {@code expiresAt} (absent: no expiry). */
  public static String authenticated(String ref, java.time.Instant expiresAt) {
    ObjectNode n = Json.MAPPER.createObjectNode();
    n.put("type", "ack");
    if (ref != null) n.put("ref", ref);
    if (expiresAt != null) n.put("expiresAt", expiresAt.toString());
    return n.toString();
  }

  public static String error(String ref, ErrorCode code, String message) {
    ObjectNode n = Json.MAPPER.createObjectNode();
    n.put("type", "error");
    if (ref != null) n.put("ref", ref);
    n.put("code", code.code());
    n.put("message", message);
    return n.toString();
  }

  /** A frame refused by the subject's append limit: nothing was done; {@code retryAfterMs} says when a permit is free. */
  public static String rateLimited(String ref, String message, long retryAfterMs) {
    ObjectNode n = Json.MAPPER.createObjectNode();
    n.put("type", "error");
    if (ref != null) n.put("ref", ref);
    n.put("code", ErrorCode.RATE_LIMITED.code());
    n.put("message", message);
    n.put("retryAfterMs", retryAfterMs);
    return n.toString();
  }

  /** The last frame before the server closes the socket; {@code resumable} says reconnecting with your last offset works. */
  public static String closing(int code, String reason, boolean resumable, String message) {
    ObjectNode n = Json.MAPPER.createObjectNode();
    n.put("type", "closing");
    n.put("code", code);
    n.put("reason", reason);
    n.put("resumable", resumable);
    n.put("message", message);
    return n.toString();
  }
}
