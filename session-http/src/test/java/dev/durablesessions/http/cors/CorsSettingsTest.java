package dev.durablesessions.http.cors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Reading durable-sessions.http.cors: a list, or one string as the environment variable gives it; dev mode; mistakes. */
class CorsSettingsTest {
  static CorsSettings read(String overrides) {
    Config config = ConfigFactory.parseString(overrides).withFallback(ConfigFactory.defaultReference()).resolve();
    return CorsSettings.fromConfig(config);
  }

  @Test
  void noOriginIsAllowedByDefault() {
    CorsSettings settings = read("");
    assertFalse(settings.anyOrigin());
    assertEquals(Set.of(), settings.origins());
    assertFalse(settings.allows("https://app.example.com"));
    assertEquals(Duration.ofMinutes(10), settings.maxAge());
  }

  @Test
  void listedOriginsAreAllowedAsBrowsersSendThem() {
    CorsSettings settings = read("durable-sessions.http.cors.allowed-origins = [\"https://App.Example.com/\", \"http://localhost:3000\"]");
    assertEquals(Set.of("https://app.example.com", "http://localhost:3000"), settings.origins());
    assertTrue(settings.allows("https://app.example.com"));
    assertTrue(settings.allows("http://localhost:3000"));
    assertFalse(settings.allows("http://app.example.com"), "another scheme is another origin");
    assertFalse(settings.allows("https://app.example.com:8443"), "another port is another origin");
    assertFalse(settings.allows("https://evil.example.com"));
  }

  @Test
  void theEnvironmentVariableGivesTheListAsOneString() {
    // what `allowed-origins = ${?DS_CORS_ALLOWED_ORIGINS}` makes of DS_CORS_ALLOWED_ORIGINS="https://a.example, https://b.example"
    CorsSettings settings = read("durable-sessions.http.cors.allowed-origins = \"https://a.example, https://b.example\"");
    assertEquals(Set.of("https://a.example", "https://b.example"), settings.origins());
    assertTrue(read("durable-sessions.http.cors.allowed-origins = \"\"").origins().isEmpty());
  }

  @Test
  void aStarOrDevModeAllowsAnyOrigin() {
    assertTrue(read("durable-sessions.http.cors.allowed-origins = \"*\"").allows("https://anything.example"));
    assertTrue(read("durable-sessions.auth.dev-mode = on").allows("http://localhost:5173"));
  }

  @Test
  void anEntryThatIsNotAnOriginStopsTheNode() {
    for (String wrong : new String[] {"app.example.com", "https://app.example.com/app", "https://app.example.com?x", "https://"}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> read("durable-sessions.http.cors.allowed-origins = [\"" + wrong + "\"]"), wrong);
      assertTrue(e.getMessage().contains(wrong), e.getMessage());
    }
  }
}
