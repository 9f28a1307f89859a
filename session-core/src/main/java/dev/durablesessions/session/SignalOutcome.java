package dev.durablesessions.session;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/** What the addressee of a signal did with it. */
public enum SignalOutcome {
  CONSUMED,
  IGNORED;

  @JsonValue
  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  @JsonCreator
  public static SignalOutcome fromWire(String value) {
    return SignalOutcome.valueOf(value.trim().toUpperCase(Locale.ROOT));
  }
}
