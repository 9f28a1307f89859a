package dev.durablesessions.testing;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.durablesessions.persistence.Database;
import java.time.Duration;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;

/** Actor systems for tests: a real one-node cluster on a random port with a real journal. */
public final class TestSystems {
  private TestSystems() {}

  public static Config config(Database db, String overrides) {
    return ConfigFactory.parseString(overrides)
        .withFallback(ConfigFactory.parseString("""
            pekko.actor.provider = cluster
            pekko.remote.artery.canonical.hostname = 127.0.0.1
            pekko.remote.artery.canonical.port = 0
            pekko.cluster.jmx.multi-mbeans-in-same-jvm = on
            pekko.cluster.downing-provider-class = ""
            pekko.coordinated-shutdown.exit-jvm = off
            pekko.coordinated-shutdown.terminate-actor-system = on
            # A test's node shuts down with requests still in flight (fuzzing leaves some): a shard
            # region that waits out its hand-off (10 s by default) must not fail the test kit's
            # shutdown, whose own default is also 10 s. A system that truly hangs still fails at 30 s.
            pekko.coordinated-shutdown.phases.cluster-sharding-shutdown-region.timeout = 5s
            pekko.actor.testkit.typed.system-shutdown-default = 30s
            pekko.loglevel = INFO
            """))
        // Each test system its own dispatcher journal: sessions earlier tests left waiting for an agent are not this one's.
        .withFallback(ConfigFactory.parseString("durable-sessions.dispatch.persistence-id = \"agent-dispatcher-" + java.util.UUID.randomUUID() + "\""))
        .withFallback(db.pekkoConfig())
        .withFallback(ConfigFactory.load())
        .resolve();
  }

  public static ActorTestKit start(String name, Database db, String overrides) {
    ActorTestKit kit = ActorTestKit.create(name, config(db, overrides));
    joinSelf(kit.system());
    return kit;
  }

  public static void joinSelf(ActorSystem<?> system) {
    Cluster cluster = Cluster.get(system);
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
  }

  public static final Duration TIMEOUT = Duration.ofSeconds(10);
}
