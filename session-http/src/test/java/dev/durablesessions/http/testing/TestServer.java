package dev.durablesessions.http.testing;

import dev.durablesessions.http.HttpServer;
import dev.durablesessions.http.auth.Tokens;
import dev.durablesessions.http.rest.SessionRoutes;
import dev.durablesessions.http.socket.Connections;
import dev.durablesessions.http.socket.SocketSettings;
import dev.durablesessions.persistence.Database;
import dev.durablesessions.session.Role;
import dev.durablesessions.session.SessionEntity;
import dev.durablesessions.session.SessionSettings;
import dev.durablesessions.session.resume.FollowerSettings;
import dev.durablesessions.session.resume.SessionJournal;
import dev.durablesessions.testing.TestSystems;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.http.javadsl.ServerBinding;

/** A real server on a random loopback port: one-node cluster, real journal, real HTTP. */
public final class TestServer implements AutoCloseable {
  public static final String SECRET = "test-secret-test-secret-test-secret-0123456789";

  public final ActorTestKit kit;
  public final Tokens tokens;
  public final int port;

  public TestServer(Database db, String overrides) {
    this(db, overrides, Clock.systemUTC());
  }

  /** With the clock the tokens' JWKS cache counts its refresh and refetch intervals on. */
  public TestServer(Database db, String overrides, Clock tokenClock) {
    this(db, overrides, tokenClock, false);
  }

  /**
   * @param webhooks whether the node's dispatcher calls webhook pools (as a node does); off in
   *     most tests, which drive a webhook caller of their own or none
   */
  public TestServer(Database db, String overrides, Clock tokenClock, boolean webhooks) {
    kit = TestSystems.start("http", db, overrides + "\ndurable-sessions.auth.secret = \"" + SECRET + "\"");
    var system = kit.system();
    var config = system.settings().config();
    SessionJournal journal = SessionJournal.fromConfig(system);
    tokens = Tokens.fromConfig(config, tokenClock);
    if (webhooks) {
      var queries = new dev.durablesessions.http.rest.SessionQueries(ClusterSharding.get(system), journal,
          config.getDuration("durable-sessions.http.ask-timeout"), SessionRoutes.views(system, journal));
      var pools = dev.durablesessions.session.dispatch.Pools.fromConfig(config);
      dev.durablesessions.session.dispatch.Dispatcher.init(system, pools,
          kit.spawn(dev.durablesessions.http.webhook.WebhookCaller.create(pools, tokens, queries), "node-webhooks"));
    }
    SessionEntity.initSharding(system, SessionSettings.fromConfig(config), Clock.systemUTC(), null);
    var connections = kit.spawn(Connections.create(
        SocketSettings.fromConfig(config), FollowerSettings.fromConfig(config), ClusterSharding.get(system), journal), "connections");
    var streamSettings = dev.durablesessions.durablestream.StreamSettings.fromConfig(config);
    dev.durablesessions.durablestream.StreamEntity.initSharding(system, streamSettings, Clock.systemUTC());
    var routes = org.apache.pekko.http.javadsl.server.Directives.concat(
        new dev.durablesessions.http.durablestreams.StreamRoutes(system, streamSettings, tokens).routes(),
        new SessionRoutes(system, journal, tokens, connections).routes());
    ServerBinding binding = HttpServer.start(system, routes, "127.0.0.1", 0)
        .toCompletableFuture().join();
    port = binding.localAddress().getPort();
  }

  public String token(String subject, Role role) {
    return tokens.issue(subject, role, List.of("*"), Duration.ofHours(1));
  }

  private final java.net.http.HttpClient client = java.net.http.HttpClient.newHttpClient();

  /** One HTTP request to this server, with a bearer token if given. */
  public java.net.http.HttpResponse<String> call(String method, String path, String token, String body) {
    var builder = java.net.http.HttpRequest.newBuilder(java.net.URI.create(http() + path))
        .method(method, body == null ? java.net.http.HttpRequest.BodyPublishers.noBody() : java.net.http.HttpRequest.BodyPublishers.ofString(body));
    if (token != null) builder.header("Authorization", "Bearer " + token);
    try {
      return client.send(builder.build(), java.net.http.HttpResponse.BodyHandlers.ofString());
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  public String http() {
    return "http://127.0.0.1:" + port;
  }

  public String ws(String sessionId, long offset) {
    return "ws://127.0.0.1:" + port + "/v1/sessions/" + sessionId + "/ws?offset=" + offset;
  }

  @Override
  public void close() {
    kit.shutdownTestKit();
  }
}
