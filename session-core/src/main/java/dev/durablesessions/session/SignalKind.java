package dev.durablesessions.session;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/** What a signal asks of its addressee. */
public enum SignalKind {
  /** Stop now. */
  INTERRUPT,
  /** A new instruction to take into account while going on. */
  STEER,
  /** Cancel a run, or the tool call named by {@code toolCallId}. */
  CANCEL,
  /** Someone is typing; ephemeral in meaning, recorded like every signal. */
  TYPING,
  /** Application-defined; the text says what. */
  CUSTOM;

  @JsonValue
  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  @JsonCreator
  public static SignalKind fromWire(String value) {
    return SignalKind.valueOf(value.trim().toUpperCase(Locale.ROOT));
  }
}
