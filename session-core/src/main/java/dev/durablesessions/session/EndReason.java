package dev.durablesessions.session;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/** Why a streamed message ended. */
public enum EndReason {
  COMPLETE,
  CANCELLED,
  ERROR,
  /** The streaming agent was lost (crashed, or gone past its grace period). */
  AGENT_LOST;

  @JsonValue
  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  @JsonCreator
  public static EndReason fromWire(String value) {
    return EndReason.valueOf(value.trim().toUpperCase(Locale.ROOT));
  }
}
