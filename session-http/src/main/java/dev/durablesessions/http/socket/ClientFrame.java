package dev.durablesessions.http.socket;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import dev.durablesessions.session.AppendBody;
import dev.durablesessions.session.producer.ProducerStamp;
import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * What a participant sends over its socket (JSON text frames). {@code ref} is the client's own
 * correlation id, echoed in the {@code ack} or {@code error} that answers the frame.
 *
 * <p>An append frame is the session's own {@link AppendBody} on the wire: its {@code type} is the
 * body's type name and its other fields are the body's, next to {@code ref} and the optional
 * {@code producer} stamp that makes it idempotent. So the list of append types and their records
 * exist once, in session-core; the frames listed here are the ones that only the socket has.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
  @JsonSubTypes.Type(value = ClientFrame.Heartbeat.class, name = "heartbeat"),
  @JsonSubTypes.Type(value = ClientFrame.Ack.class, name = "ack"),
  @JsonSubTypes.Type(value = ClientFrame.Leave.class, name = "leave"),
  @JsonSubTypes.Type(value = ClientFrame.Auth.class, name = "auth"),
})
public sealed interface ClientFrame {
  String ref();

  /** An append: becomes a session event (deltas may coalesce), answered with ack or error. */
  record Append(String ref, ProducerStamp producer, AppendBody body) implements ClientFrame {}

  /** I am alive; {@code offset}, if given, is the last offset this device processed (a receipt). Not answered. */
  record Heartbeat(String ref, Long offset) implements ClientFrame {}

  /** This device processed every event up to {@code offset}: a delivery receipt. Not answered. */
  record Ack(String ref, Long offset) implements ClientFrame {}

  /** A fresh token for this socket, before the one it opened with expires. Answered with ack or error. */
  record Auth(String ref, String token) implements ClientFrame {}

  /** Goodbye: the participant leaves the session and the socket closes. */
  record Leave(String ref) implements ClientFrame {}

  /** The append frames' type names: {@link AppendBody}'s. */
  Set<String> APPEND_TYPES = typeNames(AppendBody.class);

  /** Every frame type a client may send: the appends and the socket's own frames. */
  Set<String> TYPES = Stream.concat(APPEND_TYPES.stream(), typeNames(ClientFrame.class).stream())
      .collect(Collectors.toUnmodifiableSet());

  private static Set<String> typeNames(Class<?> sealedBase) {
    return Arrays.stream(sealedBase.getAnnotation(JsonSubTypes.class).value())
        .map(JsonSubTypes.Type::name)
        .collect(Collectors.toUnmodifiableSet());
  }
}
