package dev.durablesessions.bench;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Load harness for the WebSocket path. Starts a node from the packaged jar in its own JVM and
 * runs scenarios against it over real sockets, printing one RESULT line each. {@code tokens}
 * then runs again, same options, against a bare Pekko HTTP relay in its own JVM (the
 * baseline; {@code --baseline=off} to skip) and prints the node's figures as ratios to it:
 *
 * <pre>
 * ./mvnw -q -DskipTests package
 * java -jar bench/target/bench.jar [all|backlog|recovery|idle|tokens] [--db=h2|postgres] [--sessions=1000]
 *     [--rate=50] [--seconds=10] [--devices=1] [--batch=0|40ms] [--baseline=on|off]
 *     [--backlog=10000] [--warm-catch-ups=3] [--events=100000] [--connections=10000]
 * java -jar bench/target/bench.jar peers [--runs=3] ...   (not part of all; see {@link PeersBench})
 * </pre>
 */
public final class Bench {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String SECRET = "bench-secret-bench-secret-bench-secret-012345";

  final Map<String, String> options;
  final NodeProcess node;
  final HttpClient http = HttpClient.newHttpClient();
  final String userToken;
  final String agentToken;
  /** Where sessions are created and sockets opened: the node, or for a baseline run the bare relay. */
  String target;

  Bench(Map<String, String> options, NodeProcess node) {
    this.options = options;
    this.node = node;
    this.target = node.base();
    this.userToken = token("bench-user", "user");
    this.agentToken = token("bench-agent", "agent");
  }

  static String token(String subject, String role) {
    JWTClaimsSet claims = new JWTClaimsSet.Builder().issuer("durable-sessions").subject(subject).claim("role", role)
        .claim("sessions", List.of("*")).expirationTime(java.util.Date.from(Instant.now().plusSeconds(3600))).build();
    SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims);
    try {
      jwt.sign(new MACSigner(SECRET.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
    return jwt.serialize();
  }

  public static void main(String[] args) throws Exception {
    String scenario = args.length > 0 && !args[0].startsWith("--") ? args[0] : "all";
    Map<String, String> options = new HashMap<>();
    for (String a : args) if (a.startsWith("--") && a.contains("=")) options.put(a.substring(2, a.indexOf('=')), a.substring(a.indexOf('=') + 1));
    if (scenario.equals("peers")) { // starts its own servers, ours among them, one at a time
      PeersBench.main(args, options);
      return;
    }
    Path dir = Files.createTempDirectory("ds-bench");
    boolean pg = "postgres".equals(options.getOrDefault("db", "h2"));
    String url = pg ? options.getOrDefault("pg-url", "jdbc:postgresql://127.0.0.1:5432/test") : "jdbc:h2:file:" + dir.resolve("sessions");
    NodeProcess node = new NodeProcess(dir, url, pg ? "postgres" : "sa", SECRET);
    if (scenario.equals("recovery")) {
      node.extraConfig = "pekko.cluster.sharding.passivation.default-idle-strategy.idle-entity.timeout = " + RECOVERY_IDLE_SECONDS + "s\n";
    }
    node.start();
    Bench bench = new Bench(options, node);
    System.out.printf("# node %s, journal %s, %d cores%n", node.base(), pg ? "PostgreSQL" : "H2 file", Runtime.getRuntime().availableProcessors());
    TokenFigures tokens = null;
    try {
      if (scenario.equals("all") || scenario.equals("backlog")) bench.backlog();
      if (scenario.equals("all") || scenario.equals("idle")) bench.idle();
      if (scenario.equals("all") || scenario.equals("tokens")) tokens = bench.tokens("node");
      if (scenario.equals("all") || scenario.equals("recovery")) bench.recovery();
    } finally {
      node.stop();
    }
    // The same load against the bare relay, once the node has stopped: one server at a time.
    if (tokens != null && !"off".equals(options.getOrDefault("baseline", "on"))) bench.tokensAgainstBareRelay(tokens, dir);
  }

  void tokensAgainstBareRelay(TokenFigures node, Path dir) throws Exception {
    BaselineProcess relay = new BaselineProcess(BaselineProcess.RELAY, dir.resolve("bare-relay.log"));
    relay.start();
    System.out.printf("# baseline: bare Pekko HTTP WebSocket relay %s (no persistence, sharding, auth or coalescing)%n", relay.base());
    TokenFigures baseline;
    try {
      target = relay.base();
      baseline = tokens("baseline");
    } finally {
      relay.stop();
      target = this.node.base();
    }
    compare("p50", node.p50Ms(), baseline.p50Ms(), "ms");
    compare("p99", node.p99Ms(), baseline.p99Ms(), "ms");
    compare("delivered/s", node.deliveredPerS(), baseline.deliveredPerS(), "");
  }

  /** One figure of the node beside the bare relay's, as node / baseline. */
  static void compare(String figure, double node, double baseline, String unit) {
    String suffix = unit.isEmpty() ? "" : " " + unit;
    System.out.printf("RESULT tokens node %s %.1f%s | baseline %s %.1f%s | ratio %s%n", figure, node, suffix, figure, baseline, suffix,
        baseline == 0 ? "n/a" : String.format(java.util.Locale.ROOT, "%.2fx", node / baseline));
  }

  int option(String name, int fallback) {
    return Integer.parseInt(options.getOrDefault(name, String.valueOf(fallback)));
  }

  String newSession() throws Exception {
    String id = "bench-" + UUID.randomUUID();
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(target + "/v1/sessions"))
        .header("Authorization", "Bearer " + userToken).POST(HttpRequest.BodyPublishers.ofString("{\"id\":\"" + id + "\"}")).build(),
        HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 201) throw new IllegalStateException(r.body());
    return id;
  }

  String ws(String session, long offset, String token) {
    return target.replace("http", "ws") + "/v1/sessions/" + session + "/ws?offset=" + offset + "&access_token=" + token;
  }

  /** Writes {@code count} messages over one agent socket, pipelined with producer stamps; returns appends/s. */
  double write(String session, int count) throws Exception {
    CountDownLatch acked = new CountDownLatch(count);
    Socket agent = new Socket(http, ws(session, 0, agentToken), frame -> {
      if (frame.startsWith("{\"type\":\"ack\"")) acked.countDown();
    });
    long start = System.nanoTime();
    int window = 512;
    for (int i = 0; i < count; i++) {
      while (count - acked.getCount() < i - window) Thread.onSpinWait(); // at most `window` unanswered
      agent.send("{\"type\":\"message\",\"producer\":{\"id\":\"w\",\"epoch\":1,\"seq\":" + i + "},\"text\":\"event " + i + " of the backlog\"}");
    }
    if (!acked.await(600, TimeUnit.SECONDS)) throw new IllegalStateException("appends not acknowledged");
    double rate = count / ((System.nanoTime() - start) / 1e9);
    agent.close();
    return rate;
  }

  long head(String session) throws Exception {
    return JSON.readTree(http.send(HttpRequest.newBuilder(URI.create(node.base() + "/v1/sessions/" + session))
        .header("Authorization", "Bearer " + userToken).build(), HttpResponse.BodyHandlers.ofString()).body()).path("head").asLong();
  }

  void backlog() throws Exception {
    int count = option("backlog", 10_000);
    String session = newSession();
    double appendRate = write(session, count);
    long head = head(session);
    // One frame per event, then events frames (batch=true), each from a cold socket on the same session.
    double[] single = catchUp(session, head, false);
    double[] batched = catchUp(session, head, true);
    System.out.printf("RESULT backlog events=%d catch_up_ms=%.0f catch_up_events_per_s=%.0f frames=%.0f"
            + " batched_catch_up_ms=%.0f batched_events_per_s=%.0f batched_frames=%.0f single_socket_appends_per_s=%.0f%n",
        head, single[0], head / (single[0] / 1000), single[1], batched[0], head / (batched[0] / 1000), batched[1], appendRate);
    // The same catch-ups again on the now warm node (its code compiled): what a long-running node does.
    int warmRuns = option("warm-catch-ups", 3);
    double[] warmSingle = new double[warmRuns];
    double[] warmBatched = new double[warmRuns];
    for (int i = 0; i < warmRuns; i++) {
      warmSingle[i] = catchUp(session, head, false)[0];
      warmBatched[i] = catchUp(session, head, true)[0];
    }
    if (warmRuns > 0) {
      Arrays.sort(warmSingle);
      Arrays.sort(warmBatched);
      System.out.printf("RESULT backlog_warm events=%d runs=%d catch_up_ms_min=%.0f catch_up_ms_median=%.0f"
              + " batched_catch_up_ms_min=%.0f batched_catch_up_ms_median=%.0f%n",
          head, warmRuns, warmSingle[0], warmSingle[warmRuns / 2], warmBatched[0], warmBatched[warmRuns / 2]);
    }
  }

  /** Reads the whole session over a fresh socket; returns {milliseconds to the head, frames received}. */
  double[] catchUp(String session, long head, boolean batch) throws Exception {
    AtomicLong last = new AtomicLong();
    AtomicLong frames = new AtomicLong();
    CountDownLatch caughtUp = new CountDownLatch(1);
    long start = System.nanoTime();
    List<String> arrivals = java.util.Collections.synchronizedList(new ArrayList<>()); // "ms:offset" of the first frames
    Socket device = new Socket(http, ws(session, 0, userToken) + (batch ? "&batch=true" : ""), frame -> {
      try {
        JsonNode f = JSON.readTree(frame);
        String type = f.path("type").asText();
        if (arrivals.size() < 3 && !"events".equals(type) && !f.has("offset")) {
          arrivals.add(String.format("%.0f:%s", (System.nanoTime() - start) / 1e6, type));
        }
        JsonNode event = "events".equals(type) ? f.path("events").get(f.path("events").size() - 1) : f;
        if (event.has("offset") && !"ack".equals(type)) {
          if (frames.incrementAndGet() <= 40) arrivals.add(String.format("%.0f:%d", (System.nanoTime() - start) / 1e6, event.path("offset").asLong()));
          last.set(event.path("offset").asLong());
          if (last.get() >= head) caughtUp.countDown();
        }
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    if (!caughtUp.await(300, TimeUnit.SECONDS)) throw new IllegalStateException("catch-up stalled at " + last.get());
    double ms = (System.nanoTime() - start) / 1e6;
    device.close();
    System.out.printf("# catch-up%s: frames at ms:last-offset %s%n", batch ? " (events frames)" : "", String.join(" ", arrivals));
    return new double[] {ms, frames.get()};
  }

  /** How long a session stays in memory with nothing to do, in the recovery scenario (the node's passivation timeout). */
  static final int RECOVERY_IDLE_SECONDS = 5;

  /**
   * One long session, recovered twice: on the running node, after it passivated (the node's
   * idle timeout is {@value #RECOVERY_IDLE_SECONDS} s in this scenario), and after a restart of
   * the node (sharding start included). Each is the time to the first answer of a request that
   * needs the session; the warm figure is the same request again.
   */
  void recovery() throws Exception {
    int count = option("events", 100_000);
    String session = newSession();
    double appendRate = write(session, count);
    long head = head(session);
    long active = sessionsActive();
    // Twice: the first recovery in this JVM runs the recovery code cold, the second warm.
    double[] runningMs = new double[2];
    long recoveredRunning = 0;
    for (int i = 0; i < 2; i++) {
      awaitPassivation();
      long start = System.nanoTime();
      recoveredRunning = head(session);
      runningMs[i] = (System.nanoTime() - start) / 1e6;
    }
    long start;
    node.stop();
    node.start();
    start = System.nanoTime();
    long recovered = head(session);
    double firstMs = (System.nanoTime() - start) / 1e6;
    start = System.nanoTime();
    head(session);
    double warmMs = (System.nanoTime() - start) / 1e6;
    // At least the head written: a presence event (the writer's socket is gone) may follow a restart.
    if (recovered < head || recoveredRunning < head) {
      throw new IllegalStateException("recovered heads " + recoveredRunning + ", " + recovered + " < " + head);
    }
    System.out.printf("RESULT recovery events=%d running_node_after_passivation_ms=%.0f then %.0f (sessions active before: %d) "
            + "first_request_after_restart_ms=%.0f (sharding start, snapshot and tail) warm_request_ms=%.1f append_rate=%.0f/s%n",
        head, runningMs[0], runningMs[1], active, firstMs, warmMs, appendRate);
  }

  /** Waits until no session runs on the node (the idle timeout passivated them). */
  void awaitPassivation() throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(RECOVERY_IDLE_SECONDS * 6L);
    while (sessionsActive() > 0) { // polling the node's gauge: nothing else says it passivated
      if (System.nanoTime() > deadline) throw new IllegalStateException("the session did not passivate");
      TimeUnit.MILLISECONDS.sleep(250);
    }
  }

  /** The node's {@code ds_sessions_active} gauge. */
  long sessionsActive() throws Exception {
    return (long) metric("ds_sessions_active");
  }

  /** One unlabelled metric of the node's {@code /metrics}. */
  double metric(String name) throws Exception {
    String metrics = http.send(HttpRequest.newBuilder(URI.create(node.base() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
    for (String line : metrics.split("\n")) {
      if (line.startsWith(name + " ")) return Double.parseDouble(line.substring(line.indexOf(' ') + 1).trim());
    }
    throw new IllegalStateException("no " + name + " in /metrics");
  }

  /**
   * Idle sockets opened with a minimal handshake over NIO, so the client side costs little;
   * ten devices per session (every attach writes a presence event, and one session writes
   * them one at a time).
   */
  void idle() throws Exception {
    int count = option("connections", 10_000);
    List<String> sessions = new ArrayList<>();
    for (int i = 0; i < (count + 9) / 10; i++) sessions.add(newSession());
    long before = node.heapUsedAfterGc();
    List<SocketChannel> channels = new ArrayList<>(count);
    byte[] key = new byte[16];
    for (int i = 0; i < count; i++) {
      String path = "/v1/sessions/" + sessions.get(i / 10) + "/ws?offset=0&access_token=" + userToken;
      SocketChannel c = SocketChannel.open(new InetSocketAddress("127.0.0.1", node.httpPort));
      java.util.concurrent.ThreadLocalRandom.current().nextBytes(key);
      String request = "GET " + path + "&device=idle-" + i + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          + "Sec-WebSocket-Key: " + Base64.getEncoder().encodeToString(key) + "\r\nSec-WebSocket-Version: 13\r\n\r\n";
      c.write(ByteBuffer.wrap(request.getBytes(StandardCharsets.US_ASCII)));
      ByteBuffer response = ByteBuffer.allocate(512);
      c.read(response);
      String status = new String(response.array(), 0, Math.min(response.position(), 12), StandardCharsets.US_ASCII);
      if (!status.contains("101")) throw new IllegalStateException("upgrade refused at connection " + i + ": " + status);
      channels.add(c);
    }
    TimeUnit.SECONDS.sleep(3); // let every connection attach to the session
    long after = node.heapUsedAfterGc();
    System.out.printf("RESULT idle connections=%d heap_before_mb=%.0f heap_after_mb=%.0f heap_per_connection_kb=%.1f%n",
        count, before / 1e6, after / 1e6, (after - before) / 1024.0 / count);
    for (SocketChannel c : channels) c.close();
  }

  /** What {@link #tokens} measured, for the comparison with the baseline. */
  record TokenFigures(long sent, long delivered, double deliveredPerS, double p50Ms, double p99Ms) { }

  /**
   * S sessions, each with an agent streaming R tokens/s and D devices; latency agent send ->
   * device receive, per token and device. With {@code --batch=40ms} an agent sends its tokens
   * as the SDK's writer does: the first token of an empty buffer starts a 40 ms linger, then
   * every token buffered so far goes in one {@code stream.delta} frame; without it (or
   * {@code --batch=0}) one frame per token. {@code envelope_chars} is a delta frame's size
   * less its text, to check that the node and the relay send frames of the same shape.
   */
  TokenFigures tokens(String label) throws Exception {
    int sessions = option("sessions", 1000);
    int rate = option("rate", 50);
    int seconds = option("seconds", 10);
    int devicesPerSession = option("devices", 1);
    long lingerNanos = TimeUnit.MILLISECONDS.toNanos(Long.parseLong(options.getOrDefault("batch", "0").replace("ms", "")));
    List<Socket> agents = new ArrayList<>();
    List<Socket> devices = new ArrayList<>();
    long[] latencies = new long[sessions * devicesPerSession * rate * (seconds + 2)];
    AtomicLong received = new AtomicLong();
    AtomicLong sent = new AtomicLong();
    AtomicLong frames = new AtomicLong();
    java.util.concurrent.atomic.AtomicInteger envelope = new java.util.concurrent.atomic.AtomicInteger(-1);
    List<HttpClient> clients = new ArrayList<>();
    for (int i = 0; i < 4; i++) clients.add(HttpClient.newHttpClient());
    for (int s = 0; s < sessions; s++) {
      String session = newSession();
      for (int d = 0; d < devicesPerSession; d++) {
        devices.add(new Socket(clients.get((s + d) % 4), ws(session, 0, userToken) + "&device=d" + d, frame -> {
          if (!frame.startsWith("{\"type\":\"stream.delta\"")) return;
          long now = System.nanoTime();
          int at = frame.indexOf("\"text\":\"");
          if (at < 0) return;
          String text = frame.substring(at + 8, frame.indexOf('"', at + 8));
          envelope.compareAndSet(-1, frame.length() - text.length());
          for (String token : text.split(" ")) {
            if (!token.startsWith("t")) continue;
            long i = received.getAndIncrement();
            if (i < latencies.length) latencies[(int) i] = now - Long.parseLong(token.substring(1));
          }
        }));
      }
      Socket agent = new Socket(clients.get((s + 2) % 4), ws(session, 0, agentToken), frame -> { });
      agent.send("{\"type\":\"stream.start\",\"messageId\":\"m\"}");
      agents.add(agent);
    }
    StringBuilder[] buffered = new StringBuilder[sessions];
    long[] lingerStart = new long[sessions];
    for (int s = 0; s < sessions; s++) buffered[s] = new StringBuilder();
    ScheduledExecutorService ticks = Executors.newScheduledThreadPool(3);
    long periodMicros = 1_000_000L / rate;
    boolean onNode = label.equals("node");
    double persistedBefore = onNode ? metric("ds_events_persisted_total") : 0;
    double persistSecondsBefore = onNode ? metric("ds_persist_latency_seconds_sum") : 0;
    double persistsBefore = onNode ? metric("ds_persist_latency_seconds_count") : 0;
    long startedAt = System.nanoTime();
    int half = sessions / 2;
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    for (int part = 0; part < 2; part++) {
      int from = part * half;
      int to = part == 0 ? half : sessions;
      ticks.scheduleAtFixedRate(() -> {
        if (System.nanoTime() > end) return;
        for (int s = from; s < to; s++) {
          String token = "t" + System.nanoTime() + " ";
          sent.incrementAndGet();
          if (lingerNanos == 0) {
            sendDelta(agents.get(s), token, frames);
            continue;
          }
          synchronized (buffered[s]) {
            if (buffered[s].length() == 0) lingerStart[s] = System.nanoTime();
            buffered[s].append(token);
          }
        }
      }, 0, periodMicros, TimeUnit.MICROSECONDS);
    }
    if (lingerNanos > 0) { // the writer's linger timer, checked every millisecond for every session
      ticks.scheduleAtFixedRate(() -> {
        long now = System.nanoTime();
        for (int s = 0; s < sessions; s++) {
          String text = null;
          synchronized (buffered[s]) {
            if (buffered[s].length() > 0 && (now - lingerStart[s] >= lingerNanos || now > end)) {
              text = buffered[s].toString();
              buffered[s].setLength(0);
            }
          }
          if (text != null) sendDelta(agents.get(s), text, frames);
        }
      }, 0, 1, TimeUnit.MILLISECONDS);
    }
    TimeUnit.SECONDS.sleep(seconds + 3);
    ticks.shutdownNow();
    // What reached the journal meanwhile (sessions' events, coalesced deltas), per second of the run.
    double persistedPerS = onNode ? (metric("ds_events_persisted_total") - persistedBefore) / ((System.nanoTime() - startedAt) / 1e9) : 0;
    // A session's mean time from persist call to the journal's confirmation (its deltas wait this long, plus the linger).
    double persists = onNode ? metric("ds_persist_latency_seconds_count") - persistsBefore : 0;
    double persistMs = persists == 0 ? 0 : (metric("ds_persist_latency_seconds_sum") - persistSecondsBefore) / persists * 1000;
    int n = (int) Math.min(received.get(), latencies.length);
    long[] sorted = Arrays.copyOf(latencies, n);
    Arrays.sort(sorted);
    TokenFigures figures = new TokenFigures(sent.get(), received.get(), received.get() / (double) (seconds + 3),
        n == 0 ? 0 : sorted[n / 2] / 1e6, n == 0 ? 0 : sorted[(int) (n * 0.99)] / 1e6);
    System.out.printf("RESULT tokens %s sessions=%d devices_per_session=%d rate_per_session=%d batch_ms=%d sent=%d frames=%d "
            + "expected=%d delivered=%d delivered_per_s=%.0f latency_p50_ms=%.1f latency_p99_ms=%.1f envelope_chars=%d"
            + " journal_events_per_s=%.0f persist_mean_ms=%.1f%n",
        label, sessions, devicesPerSession, rate, TimeUnit.NANOSECONDS.toMillis(lingerNanos), figures.sent(), frames.get(),
        figures.sent() * devicesPerSession, figures.delivered(), figures.deliveredPerS(), figures.p50Ms(), figures.p99Ms(), envelope.get(),
        persistedPerS, persistMs);
    agents.forEach(Socket::close);
    devices.forEach(Socket::close);
    return figures;
  }

  /** One {@code stream.delta} frame; its text is one token or a linger's worth, each "t<send nanos> ". */
  static void sendDelta(Socket agent, String text, AtomicLong frames) {
    agent.ws.sendText("{\"type\":\"stream.delta\",\"messageId\":\"m\",\"text\":\"" + text + "\"}", true);
    frames.incrementAndGet();
  }
}
