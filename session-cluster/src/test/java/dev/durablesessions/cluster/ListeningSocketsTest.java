package dev.durablesessions.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Where a node listens, read from the operating system's table of listening sockets, and
 * whether its Durable Streams ask for a token. Dev mode, whose secret is public, listens on
 * loopback only (HTTP and management) unless an operator sets the hosts; a node in its default
 * configuration listens everywhere and its streams need a token.
 */
class ListeningSocketsTest {
  static final InetAddress LOOPBACK = address("127.0.0.1");
  static final InetAddress ANY = address("0.0.0.0");

  final HttpClient http = HttpClient.newHttpClient();
  ActorSystem<Void> node;

  @AfterEach
  void stop() {
    if (node != null) {
      node.terminate();
      node.getWhenTerminated().toCompletableFuture().orTimeout(30, TimeUnit.SECONDS).join();
    }
  }

  @Test
  void devModeListensOnLoopbackOnlyAndOpensStreams() throws Exception {
    Ports ports = start("durable-sessions.auth.dev-mode = on\n");
    assertEquals(Set.of(LOOPBACK), listening(ports.http), "HTTP");
    assertEquals(Set.of(LOOPBACK), listening(ports.management), "management");
    String stream = "http://127.0.0.1:" + ports.http + "/v1/stream/dev-" + System.nanoTime();
    assertEquals(201, send("PUT", stream, "x").statusCode(), "dev mode opens streams");
    assertEquals("x", send("GET", stream + "?offset=-1", null).body());
  }

  @Test
  void devModeListensWhereTheOperatorSetsTheHosts() throws Exception {
    Ports ports = start("""
        durable-sessions.auth.dev-mode = on
        durable-sessions.http.host = "0.0.0.0"
        pekko.management.http.bind-hostname = "0.0.0.0"
        """);
    assertEquals(Set.of(ANY), listening(ports.http), "HTTP");
    assertEquals(Set.of(ANY), listening(ports.management), "management");
  }

  @Test
  void byDefaultANodeListensEverywhereAndItsStreamsNeedAToken() throws Exception {
    Ports ports = start("durable-sessions.auth.secret = \"listening-test-secret-listening-test-secret\"\n");
    assertEquals(Set.of(ANY), listening(ports.http), "HTTP");
    assertEquals(Set.of(ANY), listening(ports.management), "management");
    String stream = "http://127.0.0.1:" + ports.http + "/v1/stream/closed-" + System.nanoTime();
    HttpResponse<String> write = send("PUT", stream, "x");
    assertEquals(401, write.statusCode());
    assertEquals("a bearer token is required", write.body());
    assertEquals(401, send("GET", stream + "?offset=-1", null).statusCode());
  }

  record Ports(int http, int management) {}

  Ports start(String extra) throws IOException {
    Ports ports = new Ports(freePort(), freePort());
    Path dir = Files.createTempDirectory("ds-listening");
    // Only what the test needs is set: the hosts stay unset unless `extra` sets them.
    Config config = ConfigFactory.parseString(extra).withFallback(ConfigFactory.parseString("""
            durable-sessions.http.port = %d
            pekko.management.http.port = %d
            durable-sessions.management.enabled = on
            durable-sessions.database.url = "jdbc:h2:file:%s"
            durable-sessions.demo-agent.enabled = off
            pekko.remote.artery.canonical.port = 0
            pekko.coordinated-shutdown.exit-jvm = off
            pekko.cluster.jmx.multi-mbeans-in-same-jvm = on
            """.formatted(ports.http, ports.management, dir.resolve("sessions"))))
        .withFallback(ConfigFactory.load())
        .resolve();
    node = Node.start(config);
    awaitAnswer("http://127.0.0.1:" + ports.http + "/health");
    awaitAnswer("http://127.0.0.1:" + ports.management + "/alive");
    return ports;
  }

  HttpResponse<String> send(String method, String url, String body) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "text/plain")
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  void awaitAnswer(String url) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      try {
        if (http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200) return;
      } catch (Exception notYet) {
        // not bound yet
      }
      Thread.onSpinWait();
    }
    throw new AssertionError("no answer from " + url);
  }

  /**
   * The local addresses with a socket listening on {@code port}, from Linux's
   * /proc/net/tcp and tcp6 (IPv4-mapped IPv6 addresses as IPv4, the IPv6 wildcard as 0.0.0.0).
   */
  static Set<InetAddress> listening(int port) throws IOException {
    Path v4 = Path.of("/proc/net/tcp");
    if (!Files.exists(v4)) {
      String why = "the listening-socket table is read from /proc/net (Linux)";
      if ("true".equalsIgnoreCase(System.getenv("CI"))) throw new AssertionError(why + " (CI=true: required)");
      Assumptions.abort(why);
    }
    Set<InetAddress> out = new HashSet<>();
    for (Path table : List.of(v4, Path.of("/proc/net/tcp6"))) {
      if (!Files.exists(table)) continue;
      List<String> lines = Files.readAllLines(table);
      for (String line : lines.subList(1, lines.size())) {
        String[] f = line.trim().split("\\s+");
        String[] local = f[1].split(":");
        if (!f[3].equals("0A") || Integer.parseInt(local[1], 16) != port) continue; // 0A: LISTEN
        out.add(decode(local[0]));
      }
    }
    assertTrue(!out.isEmpty(), "nothing listens on " + port);
    return out;
  }

  /** /proc/net addresses are 32-bit words in host (little-endian) order. */
  static InetAddress decode(String hex) throws UnknownHostException {
    byte[] bytes = new byte[hex.length() / 2];
    for (int word = 0; word < bytes.length / 4; word++) {
      for (int i = 0; i < 4; i++) {
        bytes[word * 4 + i] = (byte) Integer.parseInt(hex.substring(word * 8 + (3 - i) * 2, word * 8 + (3 - i) * 2 + 2), 16);
      }
    }
    InetAddress a = InetAddress.getByAddress(bytes); // a mapped ::ffff:a.b.c.d comes back as IPv4
    return a.isAnyLocalAddress() ? ANY : a;
  }

  static InetAddress address(String literal) {
    try {
      return InetAddress.getByName(literal);
    } catch (UnknownHostException e) {
      throw new IllegalStateException(e);
    }
  }

  static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
