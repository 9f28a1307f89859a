package dev.durablesessions.session;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/** What a participant is to the session. Comes from the authenticated token, never from a frame. */
public enum Role {
  AGENT,
  USER,
  HUMAN,
  SUPPORT,
  OBSERVER,
  ADMIN,
  /** The session itself, for what it decides (a participant lost, an agent stalled). Never in a token. */
  SYSTEM;

  @JsonValue
  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  @JsonCreator
  public static Role fromWire(String value) {
    if (value == null) throw new IllegalArgumentException("role is missing");
    return Role.valueOf(value.trim().toUpperCase(Locale.ROOT));
  }

  /** Observers only read; every other role may append to a session it may join. */
  public boolean mayAppend() {
    return this != OBSERVER;
  }

  /** The people who run support: they see operator-only events (suggestions) and drive transfers. */
  public boolean isOperator() {
    return this == HUMAN || this == SUPPORT || this == ADMIN;
  }

  /** Roles that speak as the assistant side, and so need the floor to post or stream. */
  public boolean speaksAsAssistant() {
    return this == AGENT || this == HUMAN;
  }
}
