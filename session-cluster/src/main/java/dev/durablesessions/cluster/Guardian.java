package dev.durablesessions.cluster;

import com.typesafe.config.Config;
import dev.durablesessions.cluster.demo.DemoWorker;
import dev.durablesessions.http.rest.SessionQueries;
import dev.durablesessions.http.webhook.WebhookCaller;
import dev.durablesessions.session.dispatch.Dispatcher;
import dev.durablesessions.session.dispatch.WebhookCall;
import dev.durablesessions.session.dispatch.Pool;
import dev.durablesessions.session.dispatch.Pools;
import dev.durablesessions.http.HttpServer;
import dev.durablesessions.http.auth.Tokens;
import dev.durablesessions.http.rest.SessionRoutes;
import dev.durablesessions.http.socket.Connections;
import dev.durablesessions.http.socket.SocketSettings;
import dev.durablesessions.session.Role;
import dev.durablesessions.session.SessionEntity;
import dev.durablesessions.durablestream.StreamEntity;
import dev.durablesessions.durablestream.StreamSettings;
import dev.durablesessions.http.durablestreams.StreamRoutes;
import org.apache.pekko.http.javadsl.server.Directives;
import org.apache.pekko.http.javadsl.server.Route;
import dev.durablesessions.session.SessionSettings;
import dev.durablesessions.session.erasure.RetentionSettings;
import dev.durablesessions.session.erasure.RetentionSweeper;
import dev.durablesessions.session.resume.FollowerSettings;
import dev.durablesessions.session.resume.SessionJournal;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.management.cluster.bootstrap.ClusterBootstrap;
import org.apache.pekko.management.javadsl.PekkoManagement;

/** Wires a node: cluster membership, session sharding, retention, the demo agent, connections and HTTP. Nothing else. */
public final class Guardian {
  private Guardian() {}

  public static Behavior<Void> create() {
    return Behaviors.setup(ctx -> {
      ActorSystem<Void> system = ctx.getSystem();
      Config config = system.settings().config();
      Cluster cluster = Cluster.get(system);
      if (config.getBoolean("durable-sessions.management.enabled")) {
        // Health checks (/alive, /ready) and, with bootstrap, the contact point other nodes discover.
        PekkoManagement.get(system.classicSystem()).start();
      }
      if (config.getBoolean("durable-sessions.cluster.bootstrap")) {
        // Nodes find each other through discovery (Kubernetes API, or a configured list) and form or join the cluster.
        ClusterBootstrap.get(system.classicSystem()).start();
      } else if (config.getStringList("pekko.cluster.seed-nodes").isEmpty()) {
        // No seeds and no bootstrap: a one-node cluster, joined to itself (the same code path as many nodes).
        cluster.manager().tell(Join.create(cluster.selfMember().address()));
      }
      CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseBeforeServiceUnbind(), "not-ready", () -> {
        HttpReadiness.ready(system.classicSystem(), false);
        return java.util.concurrent.CompletableFuture.completedFuture(org.apache.pekko.Done.getInstance());
      });

      ClusterSharding sharding = ClusterSharding.get(system);
      SessionJournal journal = SessionJournal.fromConfig(system);
      FollowerSettings followerSettings = FollowerSettings.fromConfig(config);
      // The dispatcher first: the sessions' proxy to it must be this one, with this node's pools
      // and this node's webhook caller (which reads sessions through the same queries as the API).
      Pools pools = Pools.fromConfig(config);
      Tokens tokens = Tokens.fromConfig(config);
      SessionQueries queries = new SessionQueries(sharding, journal, config.getDuration("durable-sessions.http.ask-timeout"),
          SessionRoutes.views(system, journal));
      ActorRef<WebhookCall> webhooks = ctx.spawn(WebhookCaller.create(pools, tokens, queries), "webhooks");
      ActorRef<Dispatcher.Command> dispatcher = Dispatcher.init(system, pools, webhooks);
      SessionEntity.initSharding(system, SessionSettings.fromConfig(config), Clock.systemUTC(), null);
      if (config.getBoolean("durable-sessions.demo-agent.enabled")) {
        Duration interval = config.getDuration("durable-sessions.demo-agent.token-interval");
        String poolName = config.getString("durable-sessions.demo-agent.pool");
        Pool pool = poolName.isEmpty() ? pools.defaultPool() : pools.get(poolName);
        if (pool == null) throw new IllegalArgumentException("durable-sessions.demo-agent.pool " + poolName + " is not a configured pool");
        var self = cluster.selfMember().address();
        String worker = "demo-agent@" + self.host().getOrElse(() -> "local") + ":" + self.port().getOrElse(() -> 0);
        ctx.spawn(DemoWorker.create(dispatcher, pool, config.getInt("durable-sessions.demo-agent.capacity"), worker, sharding, journal,
            followerSettings, interval), "demo-worker");
      }
      RetentionSweeper.init(system, RetentionSettings.fromConfig(config), Clock.systemUTC());

      ActorRef<Connections.Command> connections = ctx.spawn(
          Connections.create(SocketSettings.fromConfig(config), followerSettings, sharding, journal), "connections");
      StreamSettings streamSettings = StreamSettings.fromConfig(config);
      StreamEntity.initSharding(system, streamSettings, Clock.systemUTC());
      SessionRoutes sessionRoutes = new SessionRoutes(system, journal, tokens, connections);
      StreamRoutes streamRoutes = new StreamRoutes(system, streamSettings, tokens);
      Route routes = Directives.concat(streamRoutes.routes(), sessionRoutes.routes());
      String host = ListenAddresses.host(config, ListenAddresses.HTTP_HOST);
      boolean devMode = config.getBoolean("durable-sessions.auth.dev-mode");
      if (devMode && !host.equals(ListenAddresses.LOOPBACK)) {
        system.log().warn("DEV MODE listening on {}: anyone who reaches this port can mint tokens with the public dev secret", host);
      }
      int port = config.getInt("durable-sessions.http.port");
      HttpServer.start(system, routes, host, port).whenComplete((binding, failure) -> {
        if (failure != null) {
          system.log().error("could not bind HTTP on {}:{}, stopping", host, port, failure);
          system.terminate();
        } else {
          HttpReadiness.ready(system.classicSystem(), true);
          if (devMode) printDevTokens(tokens, binding.localAddress().getPort());
        }
      });
      return Behaviors.empty();
    });
  }

  private static void printDevTokens(Tokens tokens, int port) {
    Duration ttl = Duration.ofDays(1);
    String user = tokens.issue("dev-user", Role.USER, List.of("*"), ttl);
    String agent = tokens.issue("dev-agent", Role.AGENT, List.of("*"), ttl);
    String support = tokens.issue("dev-support", Role.SUPPORT, List.of("*"), ttl);
    String human = tokens.issue("dev-human", Role.HUMAN, List.of("*"), ttl);
    System.out.println("""

        ==== Durable Sessions: DEV MODE (public dev secret; never use in production) ====
        HTTP on port %d. Tokens valid for 24 hours:
          export DS_TOKEN=%s
          export DS_AGENT_TOKEN=%s
          export DS_SUPPORT_TOKEN=%s
          export DS_HUMAN_TOKEN=%s
        Chat page:       http://localhost:%d/chat     (paste DS_TOKEN)
        Support console: http://localhost:%d/console  (paste DS_SUPPORT_TOKEN or DS_HUMAN_TOKEN)
        Try:  curl -s -X POST -H "Authorization: Bearer $DS_TOKEN" localhost:%d/v1/sessions -d '{"id":"demo"}'
        ================================================================================
        """.formatted(port, user, agent, support, human, port, port, port));
  }
}
