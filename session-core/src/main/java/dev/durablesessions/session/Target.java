package dev.durablesessions.session;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.durablesessions.CborSerializable;

/** The addressee of a signal: every participant of a role, or one participant. Exactly one is set. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Target(Role role, String participant) implements CborSerializable {
  public static Target role(Role role) {
    return new Target(role, null);
  }

  public static Target participant(String id) {
    return new Target(null, id);
  }

  @com.fasterxml.jackson.annotation.JsonIgnore
  public boolean isValid() {
    return (role == null) != (participant == null || participant.isBlank());
  }

  public boolean addresses(Participant p) {
    return role != null ? p.role() == role : p.id().equals(participant);
  }
}
