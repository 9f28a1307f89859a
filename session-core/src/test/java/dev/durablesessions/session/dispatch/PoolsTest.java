package dev.durablesessions.session.dispatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Pools come from config, checked when the node starts: a bad pool configuration never reaches a session. */
class PoolsTest {

  static Config config(String overrides) {
    return ConfigFactory.parseString(overrides).withFallback(ConfigFactory.defaultReference()).resolve();
  }

  @Test
  void outOfTheBoxThereIsOneDefaultPoolOfWorkers() {
    Pools pools = Pools.fromConfig(config(""));
    assertEquals(List.of("default"), pools.all().stream().map(Pool::name).toList());
    assertEquals("default", pools.defaultPool().name());
    assertEquals(Pool.Mode.WORKERS, pools.defaultPool().mode());
    assertEquals(Duration.ofSeconds(5), pools.defaultPool().leaseTimeout());
  }

  @Test
  void aPoolInheritsThePoolDefaultsAndOverridesWhatItSays() {
    Pools pools = Pools.fromConfig(config(
        "durable-sessions.dispatch { default-pool = support-bot, pools { support-bot { lease-timeout = 3s }, \"billing.v2\" {} } }"));
    assertEquals("support-bot", pools.defaultPool().name());
    assertEquals(Duration.ofSeconds(3), pools.get("support-bot").leaseTimeout());
    assertEquals(Duration.ofSeconds(1), pools.get("support-bot").heartbeatInterval());
    assertEquals(Duration.ofSeconds(5), pools.get("billing.v2").leaseTimeout());
    assertTrue(pools.get("default") != null, "the default pool of reference.conf stays unless removed");
  }

  @Test
  void aSessionWithoutAPoolBelongsToTheDefaultPoolAndAnUnknownNameToNone() {
    Pools pools = Pools.fromConfig(config(""));
    assertEquals(pools.defaultPool(), pools.of(null));
    assertNull(pools.get("nope"));
    assertNull(pools.of("nope"));
    assertNull(pools.get(null));
  }

  @Test
  void aBadPoolConfigurationStopsTheNodeAtStart() {
    assertThrows(ConfigException.BadValue.class,
        () -> Pools.fromConfig(config("durable-sessions.dispatch.default-pool = missing")));
    assertThrows(ConfigException.BadValue.class,
        () -> Pools.fromConfig(config("durable-sessions.dispatch.pools.default.mode = carrier-pigeon")));
    assertThrows(IllegalArgumentException.class,
        () -> Pools.fromConfig(config("durable-sessions.dispatch.pools { \"Bad Name\" {} }")));
    assertThrows(IllegalArgumentException.class,
        () -> Pools.fromConfig(config("durable-sessions.dispatch.pools.default { heartbeat-interval = 5s, lease-timeout = 5s }")));
  }

  static final String SECRET = "webhook-secret-webhook-secret-0123456789";

  @Test
  void aWebhookPoolHasItsUrlAndSecretAndTheDefaultsOfEverythingElse() {
    Pools pools = Pools.fromConfig(config("durable-sessions.dispatch.pools { billing-fn { mode = webhook, webhook { "
        + "url = \"https://fn.example.com/agent\", secret = \"" + SECRET + "\", max-attempts = 3 } } }"));
    Pool pool = pools.get("billing-fn");
    assertEquals(Pool.Mode.WEBHOOK, pool.mode());
    assertEquals("https://fn.example.com/agent", pool.webhook().url().toString());
    assertEquals(SECRET, pool.webhook().secret());
    assertEquals(3, pool.webhook().maxAttempts());
    assertEquals(Duration.ofSeconds(5), pool.webhook().timeout());
    assertEquals(Duration.ofMillis(200), pool.webhook().minBackoff());
    assertEquals(Duration.ofSeconds(5), pool.webhook().maxBackoff());
    assertEquals(Duration.ofMinutes(5), pool.webhook().tokenTtl());
    assertNull(pools.get("default").webhook(), "a workers pool has no webhook settings");
    assertTrue(!pool.toString().contains(SECRET), "a pool printed or logged never shows its secret");
  }

  @Test
  void aWebhookPoolWithoutAGoodUrlOrSecretStopsTheNodeAtStartNamingTheKey() {
    String noUrl = "durable-sessions.dispatch.pools { fn { mode = webhook, webhook.secret = \"" + SECRET + "\" } }";
    ConfigException missingUrl = assertThrows(ConfigException.BadValue.class, () -> Pools.fromConfig(config(noUrl)));
    assertTrue(missingUrl.getMessage().contains("durable-sessions.dispatch.pools.fn.webhook.url"), missingUrl.getMessage());
    // The documented env substitution, with the variable unset: the key is missing, and says so.
    String noSecret = "durable-sessions.dispatch.pools { fn { mode = webhook, webhook { url = \"https://x.example\", "
        + "secret = ${?DS_WEBHOOK_SECRET_SURELY_UNSET} } } }";
    ConfigException missingSecret = assertThrows(ConfigException.BadValue.class, () -> Pools.fromConfig(config(noSecret)));
    assertTrue(missingSecret.getMessage().contains("durable-sessions.dispatch.pools.fn.webhook.secret"), missingSecret.getMessage());
    for (String url : new String[] {"not a url", "ftp://x.example/", "/relative", "https://"}) {
      String bad = "durable-sessions.dispatch.pools { fn { mode = webhook, webhook { url = \"" + url + "\", secret = \""
          + SECRET + "\" } } }";
      assertThrows(ConfigException.BadValue.class, () -> Pools.fromConfig(config(bad)), url);
    }
    String shortSecret = "durable-sessions.dispatch.pools { fn { mode = webhook, webhook { url = \"https://x.example\", "
        + "secret = short } } }";
    assertThrows(ConfigException.BadValue.class, () -> Pools.fromConfig(config(shortSecret)));
  }
}
