package dev.durablesessions.bench.baseline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * One session of the bare relay: every frame a socket sends becomes an event frame of the
 * node's shape (type, offset, by, at, the frame's own fields; {@code parts} on a delta) with
 * the next offset, sent to every socket of the session, the sender's included, as the node
 * does. Nothing is stored, checked or coalesced: the offset is a counter.
 */
final class SessionRelay extends AbstractBehavior<SessionRelay.Command> {
  sealed interface Command { }

  /** A socket opened; {@code out} feeds its outgoing frames. */
  record Attach(ActorRef<String> out) implements Command { }

  record Frame(String text) implements Command { }

  record Detached(ActorRef<String> out) implements Command { }

  private static final ObjectMapper JSON = new ObjectMapper();
  /** The node names the agent's events after its token's subject; the relay has no tokens, so the bench's agent. */
  private static final ObjectNode BY = JSON.createObjectNode().put("id", "bench-agent").put("role", "agent").put("subject", "bench-agent");

  private final Set<ActorRef<String>> sockets = new HashSet<>();
  private long offset;

  static Behavior<Command> create() {
    return Behaviors.setup(SessionRelay::new);
  }

  private SessionRelay(ActorContext<Command> context) {
    super(context);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Attach.class, this::attach)
        .onMessage(Frame.class, this::relay)
        .onMessage(Detached.class, d -> {
          sockets.remove(d.out());
          return this;
        })
        .build();
  }

  private Behavior<Command> attach(Attach a) {
    sockets.add(a.out());
    getContext().watchWith(a.out(), new Detached(a.out()));
    return this;
  }

  private Behavior<Command> relay(Frame f) {
    String event;
    try {
      event = JSON.writeValueAsString(eventOf((ObjectNode) JSON.readTree(f.text()), ++offset));
    } catch (Exception notJson) {
      return this; // the node would answer invalid_frame; the bench never sends one
    }
    for (ActorRef<String> out : sockets) out.tell(event);
    return this;
  }

  static ObjectNode eventOf(ObjectNode frame, long offset) {
    String type = frame.path("type").asText();
    ObjectNode event = JSON.createObjectNode();
    event.put("type", switch (type) {
      case "stream.start" -> "stream.started";
      case "stream.end" -> "stream.ended";
      default -> type;
    });
    event.put("offset", offset);
    event.set("by", BY);
    event.put("at", Instant.now().toString());
    for (Iterator<Map.Entry<String, JsonNode>> fields = frame.fields(); fields.hasNext(); ) {
      Map.Entry<String, JsonNode> field = fields.next();
      if (!field.getKey().equals("type") && !field.getKey().equals("ref")) event.set(field.getKey(), field.getValue());
    }
    if (type.equals("stream.delta")) event.put("parts", 1);
    return event;
  }
}
