package dev.durablesessions.http;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.durablesessions.session.SessionEvent;

/** The one JSON mapper of the wire: ISO timestamps, events without their producer bookkeeping. */
public final class Json {
  private Json() {}

  @JsonIgnoreProperties({"producer"})
  private interface WireEvent {}

  public static final ObjectMapper MAPPER = new ObjectMapper()
      .registerModule(new JavaTimeModule())
      .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
      .addMixIn(SessionEvent.class, WireEvent.class);

  private static final com.fasterxml.jackson.databind.ObjectWriter EVENT_WRITER = MAPPER.writerFor(SessionEvent.class);

  /** One event as the wire shows it: its stable {@code type} name, offset, author, time and fields. */
  public static String writeEvent(SessionEvent event) {
    try {
      return EVENT_WRITER.writeValueAsString(event);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("cannot write event " + event.offset(), e);
    }
  }

  private static final java.util.Map<Class<?>, String> TYPE_NAMES = new java.util.HashMap<>();

  static {
    for (com.fasterxml.jackson.annotation.JsonSubTypes.Type t :
        SessionEvent.class.getAnnotation(com.fasterxml.jackson.annotation.JsonSubTypes.class).value()) {
      TYPE_NAMES.put(t.value(), t.name());
    }
  }

  /** The stable wire name of an event's type ("stream.delta", ...). */
  public static String typeName(SessionEvent event) {
    return TYPE_NAMES.get(event.getClass());
  }

  public static String write(Object value) {
    try {
      return MAPPER.writeValueAsString(value);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("cannot write " + value.getClass().getName(), e);
    }
  }
}
