package dev.durablesessions.session.state;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/** Whether what a commit records was checked (a test passed, a tool's output was read back) or taken on trust. */
public enum Provenance {
  VERIFIED,
  UNVERIFIED;

  @JsonValue
  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  @JsonCreator
  public static Provenance fromWire(String v) {
    return Provenance.valueOf(v.trim().toUpperCase(Locale.ROOT));
  }
}
