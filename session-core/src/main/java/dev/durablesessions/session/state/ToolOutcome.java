package dev.durablesessions.session.state;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/** How a tool call ended. */
public enum ToolOutcome {
  OK,
  ERROR,
  TIMEOUT;

  @JsonValue
  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  @JsonCreator
  public static ToolOutcome fromWire(String v) {
    return ToolOutcome.valueOf(v.trim().toUpperCase(Locale.ROOT));
  }
}
