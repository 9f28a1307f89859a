package dev.durablesessions.session.erasure;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/** Why a session was erased: an admin asked ({@code DELETE /v1/sessions/{id}}), or it was closed longer than the retention. */
public enum ErasureReason {
  ADMIN,
  RETENTION;

  @JsonValue
  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  @JsonCreator
  public static ErasureReason fromWire(String value) {
    return ErasureReason.valueOf(value.trim().toUpperCase(Locale.ROOT));
  }
}
