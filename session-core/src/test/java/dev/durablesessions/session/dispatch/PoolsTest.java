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
}
