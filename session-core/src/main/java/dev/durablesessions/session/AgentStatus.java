package dev.durablesessions.session;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/** What an agent says it is doing. */
public enum AgentStatus {
  IDLE,
  THINKING,
  STREAMING,
  TOOL_CALL,
  WAITING_FOR_INPUT;

  @JsonValue
  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  @JsonCreator
  public static AgentStatus fromWire(String value) {
    return AgentStatus.valueOf(value.trim().toUpperCase(Locale.ROOT));
  }
}
