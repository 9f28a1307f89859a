package dev.durablesessions.durablestream;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.pekko.serialization.jackson.JacksonMigration;

/**
 * Snapshots of a deleted stream written before this package was called {@code durablestream}
 * carry the class name {@code dev.durablesessions.stream.StreamState}: they load as today's
 * {@link StreamState}, whose fields did not change. Registered in reference.conf under
 * {@code pekko.serialization.jackson.migrations}.
 */
public final class StreamStateRenamed extends JacksonMigration {
  @Override
  public int currentVersion() {
    return 2;
  }

  @Override
  public String transformClassName(int fromVersion, String className) {
    return StreamState.class.getName();
  }

  @Override
  public JsonNode transform(int fromVersion, JsonNode json) {
    return json;
  }
}
