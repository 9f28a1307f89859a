package dev.durablesessions.http;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.type.LogicalType;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.durablesessions.session.SessionEvent;

/** The one JSON mapper of the wire: ISO timestamps, events without their producer bookkeeping, appends named by {@code type}. */
public final class Json {
  private Json() {}

  @JsonIgnoreProperties({"producer"})
  private interface WireEvent {}

  /**
   * On the wire an append's type name is its frame's {@code type} (see {@code ClientFrame});
   * between nodes the session's CBOR names it {@code kind}.
   */
  @com.fasterxml.jackson.annotation.JsonTypeInfo(use = com.fasterxml.jackson.annotation.JsonTypeInfo.Id.NAME, property = "type")
  private interface WireAppend {}

  public static final ObjectMapper MAPPER = withoutCoercion(new ObjectMapper()
      .registerModule(new JavaTimeModule())
      .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
      .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
      .addMixIn(SessionEvent.class, WireEvent.class)
      .addMixIn(dev.durablesessions.session.AppendBody.class, WireAppend.class));

  /**
   * What clients send is read as typed: a number or boolean where a string belongs, a string or
   * a fraction ({@code 1.5}, {@code 1E2}) where an integer belongs is a wrong type (invalid_frame,
   * invalid_request), never converted and accepted. Found by fuzzing: {@code "ref": 0} was
   * acknowledged as {@code "0"}, {@code "offset": "12"} and {@code 1.5} were taken as offsets,
   * and {@code "offset": ""} as no offset. Booleans likewise: {@code "approved": "true"} or
   * {@code 1} is a wrong type, not a yes.
   */
  private static ObjectMapper withoutCoercion(ObjectMapper mapper) {
    mapper.coercionConfigFor(LogicalType.Textual)
        .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail);
    mapper.coercionConfigFor(LogicalType.Integer)
        .setAcceptBlankAsEmpty(false)
        .setCoercion(CoercionInputShape.EmptyString, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.String, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail);
    mapper.coercionConfigFor(LogicalType.Boolean)
        .setAcceptBlankAsEmpty(false)
        .setCoercion(CoercionInputShape.EmptyString, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.String, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.Float, CoercionAction.Fail);
    return mapper;
  }

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

  /**
   * A client's JSON text (a frame, a REST body) as a tree. Like {@code MAPPER.readTree}, but a
   * string or field name holding an unpaired surrogate is refused as not JSON: the escape
   * {@code "\\ud800"} can spell one, yet it is no Unicode text and no event could store it.
   */
  public static com.fasterxml.jackson.databind.JsonNode readClient(String text)
      throws com.fasterxml.jackson.core.JsonProcessingException {
    com.fasterxml.jackson.databind.JsonNode tree = MAPPER.readTree(text);
    String where = unpairedSurrogate(tree, "");
    if (where != null) {
      throw new com.fasterxml.jackson.core.JsonParseException(null, "unpaired surrogate in the string at " + where);
    }
    return tree;
  }

  /** The JSON pointer of the first string or field name with an unpaired surrogate, or null. */
  private static String unpairedSurrogate(com.fasterxml.jackson.databind.JsonNode node, String at) {
    if (node == null) return null;
    if (node.isTextual()) return unpaired(node.textValue()) ? (at.isEmpty() ? "/" : at) : null;
    if (node.isObject()) {
      for (var field : node.properties()) {
        String path = at + "/" + field.getKey().replace("~", "~0").replace("/", "~1");
        if (unpaired(field.getKey())) return path;
        String inner = unpairedSurrogate(field.getValue(), path);
        if (inner != null) return inner;
      }
    } else if (node.isArray()) {
      for (int i = 0; i < node.size(); i++) {
        String inner = unpairedSurrogate(node.get(i), at + "/" + i);
        if (inner != null) return inner;
      }
    }
    return null;
  }

  private static boolean unpaired(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) i++;
      else if (Character.isSurrogate(c)) return true;
    }
    return false;
  }

  public static String write(Object value) {
    try {
      return MAPPER.writeValueAsString(value);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("cannot write " + value.getClass().getName(), e);
    }
  }
}
