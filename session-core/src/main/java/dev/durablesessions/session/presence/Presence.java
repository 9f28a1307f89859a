package dev.durablesessions.session.presence;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonValue;
import dev.durablesessions.CborSerializable;
import java.time.Instant;
import java.util.List;
import java.util.Locale;

/**
 * A participant's durable presence, rebuilt from presence events: its status, the devices
 * attached now, since when, and (while disconnected) until when it may come back.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Presence(Status status, List<String> devices, Instant since, Instant graceUntil) implements CborSerializable {

  public enum Status {
    /** A member with no device attached yet (joined over REST, say). */
    OFFLINE,
    ONLINE,
    /** Its last device dropped without a goodbye; it may come back until graceUntil. */
    DISCONNECTED,
    /** It did not come back in time (for an agent: crashed). */
    LOST;

    @JsonValue
    public String wire() {
      return name().toLowerCase(Locale.ROOT);
    }

    @JsonCreator
    public static Status fromWire(String v) {
      return Status.valueOf(v.toUpperCase(Locale.ROOT));
    }
  }

  public Presence {
    devices = devices == null ? List.of() : List.copyOf(devices);
  }

  public static Presence offline(Instant at) {
    return new Presence(Status.OFFLINE, List.of(), at, null);
  }

  public Presence connect(String device, Instant at) {
    if (devices.contains(device)) return this;
    List<String> more = new java.util.ArrayList<>(devices);
    more.add(device);
    return new Presence(Status.ONLINE, more, status == Status.ONLINE ? since : at, null);
  }

  public Presence disconnect(String device, Instant at, Instant graceUntil) {
    List<String> fewer = devices.stream().filter(d -> !d.equals(device)).toList();
    if (!fewer.isEmpty()) return new Presence(Status.ONLINE, fewer, since, null);
    return new Presence(Status.DISCONNECTED, List.of(), at, graceUntil);
  }

  public Presence lose(Instant at) {
    return new Presence(Status.LOST, List.of(), at, null);
  }
}
