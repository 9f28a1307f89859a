package dev.durablesessions.http.authz;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.durablesessions.http.socket.ClientFrame;
import dev.durablesessions.http.socket.Frames;
import dev.durablesessions.http.testing.WsClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One in-pattern cell of a frame row: the caller's socket on the row's session (and the
 * setup socket, if the row has one). Frames are sent with a {@code ref}, and their answer is
 * the {@code ack} or {@code error} carrying it.
 */
final class FrameCell {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final AtomicLong REFS = new AtomicLong();

  final Node node;
  final String session;
  final Caller caller;
  final WsClient socket;
  final WsClient setupSocket;
  /** Unique to this cell: for message ids, tool call ids. */
  final String tag;
  /** What the row's {@code before} step returned. */
  String given;

  FrameCell(Node node, String session, Caller caller, WsClient socket, WsClient setupSocket) {
    this.node = node;
    this.session = session;
    this.caller = caller;
    this.socket = socket;
    this.setupSocket = setupSocket;
    this.tag = caller.subject() + "-" + REFS.incrementAndGet();
  }

  /** A setup frame on the setup socket, which must be acknowledged; its ack. */
  JsonNode setup(String frame) {
    JsonNode answer = exchangeFrame(setupSocket, frame);
    if (!"ack".equals(answer.path("type").asText())) throw new AssertionError("setup frame " + frame + " answered " + answer);
    return answer;
  }

  /** A frame from the caller's own socket, whatever the answer (a start that a role may not make, say). */
  String own(String frame) {
    return answer(exchangeFrame(socket, frame));
  }

  /** Sends {@code frame} (JSON without a ref) and returns its answer as the matrix writes it. */
  static String exchange(WsClient ws, String frame) {
    return answer(exchangeFrame(ws, frame));
  }

  /**
   * The answer frame, or a synthetic {@code {"type":"silent"}}. Frames that go to the session
   * (appends, leave) and auth frames are answered once the session has decided; the others are handled on the
   * socket at once, so a probe sent right after them (an unknown frame type, answered on the
   * socket) is answered first if, and only if, they get no answer.
   */
  private static JsonNode exchangeFrame(WsClient ws, String frame) {
    String ref = "r" + REFS.incrementAndGet();
    ObjectNode withRef = parse(frame);
    withRef.put("ref", ref);
    String text = withRef.toString();
    boolean viaSession = Frames.parse(text) instanceof Frames.Ok ok
        && (ok.frame() instanceof ClientFrame.Append || ok.frame() instanceof ClientFrame.Leave
            || ok.frame() instanceof ClientFrame.Auth); // its token is verified off the socket's thread
    String probe = ref + "-probe";
    ws.send(text);
    if (!viaSession) ws.send("{\"type\":\"authz.probe\",\"ref\":\"" + probe + "\"}");
    JsonNode answer = null;
    while (true) {
      JsonNode f = ws.next(FrameCell::isAnswer);
      String r = f.path("ref").asText("");
      if (r.equals(ref) && answer == null) {
        answer = f;
        if (viaSession) return answer;
      } else if (r.equals(probe) && !viaSession) {
        return answer != null ? answer : JSON.createObjectNode().put("type", "silent");
      } else {
        throw new AssertionError("waiting for the answer to " + text + ", got " + f);
      }
    }
  }

  private static boolean isAnswer(JsonNode f) {
    String type = f.path("type").asText();
    return type.equals("ack") || type.equals("error");
  }

  private static String answer(JsonNode f) {
    return switch (f.path("type").asText()) {
      case "ack" -> "ack";
      case "silent" -> "silent";
      default -> "error " + f.path("code").asText();
    };
  }

  private static ObjectNode parse(String frame) {
    try {
      return (ObjectNode) JSON.readTree(frame);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
