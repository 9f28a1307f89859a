package dev.durablesessions.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The Durable Streams HTTP protocol, measured side by side with the reference server
 * ({@code @durable-streams/server}, memory store and file store) using the peers' own load
 * script {@code bench-ds.mjs} from the shared peers folder:
 *
 * <pre>
 * java -jar bench/target/bench.jar peers [--runs=3] [--streams=100 --events=200 --concurrency=50]
 *     [--peers=/work/shared/peers] [--write-doc=docs/PERFORMANCE.md|none] [--warmup-runs=2]
 *     [--max-seconds=300] [--pg-url=jdbc:postgresql://127.0.0.1:5432/test] [--pg-user=postgres] [--node=node]
 *     [--baseline=on|off] [--servers=ours,baseline,reference-memory,reference-file]
 *     [--wrk=on|off] [--wrk-seconds=15] [--wrk-connections=50]
 * </pre>
 *
 * With {@code wrk} on the PATH ({@code apt-get install wrk}), each server also takes appends
 * from that lean C client after the load script's runs ({@link #wrk}): the same number of
 * streams, ~40-byte JSON appends spread over them, {@code --wrk-connections} connections for
 * {@code --wrk-seconds}, so the figure is the server's and not a Node.js client's.
 *
 * After ours, the same load runs against the bare-stack baseline ({@code BareAppends}: a Pekko
 * HTTP route asking a no-op sharded entity), and our appends/s and p99 are printed as ratios
 * to its; its read phase finds nothing, by design, and is not compared.
 *
 * One server at a time, each stopped before the next starts, so no two servers compete for
 * the cores; the load client shares them with the server, as in the peers' own figures. A
 * server that fails to start, or a run that aborts or times out, is reported as a failed run
 * and the bench carries on with the next.
 */
final class PeersBench {
  static final String BASELINE = "baseline";
  /** The last line of bench-ds.mjs (exit 0 clean, 1 loss or duplicates, 2 aborted). */
  static final Pattern RESULT = Pattern.compile(
      "^RESULT appends_per_s=(\\S+) p99_ms=(\\S+) read_events_per_s=(\\S+) lost=(\\d+) dup=(\\d+)");

  /** Figures of one bench-ds.mjs run, from its RESULT line. */
  record Figures(double appendsPerS, double p99Ms, double readEventsPerS, long lost, long dup) { }

  /** One measured run; {@code figures} is null when the run printed no RESULT line. */
  record Run(int number, int exitCode, Figures figures, String failure) {
    boolean clean() {
      return figures != null && failure == null;
    }
  }

  /** A server under test, started; {@code base} is the URL it serves the protocol under. */
  interface Server {
    String base();

    void stop() throws Exception;
  }

  interface Starter {
    Server start() throws Exception;
  }

  /**
   * A server to measure: a short key for console lines, a label and durability for the doc;
   * {@code stores} false for the no-op baseline, whose reads find nothing by design.
   */
  record Peer(String key, String label, String durable, boolean stores, Starter starter) {
    Peer(String key, String label, String durable, Starter starter) {
      this(key, label, durable, true, starter);
    }
  }

  /** Every run of one peer, with medians over the runs that produced figures. */
  /** One wrk run: requests/s, latency percentiles, answers other than 2xx and socket errors; {@code failure} when it did not run. */
  record WrkFigures(double requestsPerS, double p50Ms, double p99Ms, long requests, long non2xx, String socketErrors, String failure) {
    boolean clean() {
      return failure == null && non2xx == 0 && socketErrors == null;
    }
  }

  record PeerResult(Peer peer, List<Run> runs, WrkFigures wrk) {
    List<Figures> figures() {
      return runs.stream().map(Run::figures).filter(f -> f != null).toList();
    }

    Double median(ToDoubleFunction<Figures> metric) {
      double[] v = figures().stream().mapToDouble(metric).sorted().toArray();
      if (v.length == 0) return null;
      return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    long lost() {
      return figures().stream().mapToLong(Figures::lost).sum();
    }

    long dup() {
      return figures().stream().mapToLong(Figures::dup).sum();
    }

    long clean() {
      return runs.stream().filter(Run::clean).count();
    }
  }

  final String[] args;
  final Map<String, String> options;
  final int runs;
  final int streams;
  final int events;
  final int concurrency;
  final int maxSeconds;
  /** Unmeasured full-size runs per server first: the JVM needs tens of thousands of requests to compile its hot paths. */
  final int warmupRuns;
  final String nodeBin;
  final Path peersSource;
  final Path peersDir = Path.of("bench/target/peers");
  final Path logs = Path.of("bench/target/peers-logs");
  final ChildProcesses children = new ChildProcesses();

  PeersBench(String[] args, Map<String, String> options) {
    this.args = args;
    this.options = options;
    this.runs = option("runs", 3);
    this.streams = option("streams", 100);
    this.events = option("events", 200);
    this.concurrency = option("concurrency", 50);
    this.maxSeconds = option("max-seconds", 300);
    this.warmupRuns = Integer.parseInt(options.getOrDefault("warmup-runs", "2"));
    this.nodeBin = options.getOrDefault("node", "node");
    this.peersSource = Path.of(options.getOrDefault("peers", "/work/shared/peers"));
  }

  int option(String name, int fallback) {
    return Integer.parseInt(options.getOrDefault(name, String.valueOf(fallback)));
  }

  static void main(String[] args, Map<String, String> options) throws Exception {
    PeersBench bench = new PeersBench(args, options);
    try {
      bench.run();
    } finally {
      bench.children.stopAll();
    }
  }

  void run() throws Exception {
    String loadAverage = Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
    preparePeers(selected("reference-memory") || selected("reference-file"));
    Files.createDirectories(logs);
    String version = PeersReport.referenceVersion(peersDir);
    List<Peer> peers = List.of(
        new Peer("reference-memory", "Durable Streams reference " + version + ", memory store", "no",
            () -> startReference(null)),
        new Peer("reference-file", "Durable Streams reference " + version + ", file store (fdatasync per append)", "yes",
            () -> startReference(Path.of("bench/target/peers-store"))),
        new Peer("ours", "Durable Sessions node, PostgreSQL journal", "yes (PostgreSQL commit)", this::startOurs));
    if (!"off".equals(options.getOrDefault("baseline", "on"))) { // the limit of the stack, right after ours
      peers = new ArrayList<>(peers);
      peers.add(new Peer(BASELINE, "Bare Pekko HTTP route asking a no-op sharded entity (baseline, stores nothing)",
          "no (stores nothing)", false, this::startBaseline));
    }
    peers = peers.stream().filter(p -> selected(p.key())).toList();
    System.out.printf("# peers: %d run(s) per server, %d streams x %d events, concurrency %d, %d cores, load average %s%n",
        runs, streams, events, concurrency, Runtime.getRuntime().availableProcessors(), loadAverage);
    List<PeerResult> results = new ArrayList<>();
    for (Peer peer : peers) results.add(measure(peer));
    PeersReport report = new PeersReport(this, results, loadAverage);
    report.printSummary();
    Path doc = docPath();
    if (doc != null) {
      report.writeSection(doc);
      System.out.println("# wrote the peers section of " + doc);
    }
  }

  /**
   * {@code --servers=ours,baseline}: only these (a short check); ours is always among them.
   * Without it, every server.
   */
  boolean selected(String key) {
    String servers = options.get("servers");
    return servers == null || key.equals("ours") || List.of(servers.split(",")).contains(key);
  }

  /** {@code --write-doc=PATH}; by default docs/PERFORMANCE.md when it exists and every server ran; {@code none} to skip. */
  Path docPath() {
    String value = options.get("write-doc");
    if (value == null) {
      if (options.containsKey("servers")) return null; // a partial run never replaces the section
      Path fallback = Path.of("docs/PERFORMANCE.md");
      return Files.isRegularFile(fallback) ? fallback : null;
    }
    return value.isBlank() || value.equals("none") || value.equals("false") ? null : Path.of(value);
  }

  /**
   * Copies the (read-only) peers folder next to the build output and installs its pinned
   * packages there; an install is reused until package.json changes.
   */
  void preparePeers(boolean reference) throws Exception {
    if (!Files.isRegularFile(peersSource.resolve("bench-ds.mjs"))) {
      throw new IllegalStateException("no bench-ds.mjs in " + peersSource + " (set --peers=)");
    }
    Files.createDirectories(peersDir);
    boolean packagesChanged = false;
    try (Stream<Path> files = Files.list(peersSource)) {
      for (Path source : files.filter(Files::isRegularFile).toList()) {
        Path target = peersDir.resolve(source.getFileName().toString());
        if (Files.isRegularFile(target) && Arrays.equals(Files.readAllBytes(source), Files.readAllBytes(target))) continue;
        Files.copy(source, target, StandardCopyOption.REPLACE_EXISTING);
        if (source.getFileName().toString().equals("package.json")) packagesChanged = true;
      }
    }
    if (!reference || !packagesChanged && Files.isDirectory(peersDir.resolve("node_modules/@durable-streams/server"))) return;
    System.out.println("# npm install in " + peersDir);
    ProcessBuilder npm = new ProcessBuilder("npm", "install", "--no-audit", "--no-fund")
        .directory(peersDir.toFile()).redirectErrorStream(true).redirectOutput(peersDir.resolve("npm-install.log").toFile());
    Process process = children.start(npm);
    if (!process.waitFor(10, TimeUnit.MINUTES)) ChildProcesses.stopTree(process);
    if (process.exitValue() != 0) {
      throw new IllegalStateException("npm install failed (exit " + process.exitValue() + "):\n"
          + tail(Files.readAllLines(peersDir.resolve("npm-install.log")), 20));
    }
  }

  /**
   * The reference server on a free port; {@code dataDir} null for its memory store. The file
   * store starts empty; it lives under target/ (the same disk as /tmp here, not a tmpfs, so
   * its fdatasync is real) so that a bench killed mid-run leaves nothing behind in /tmp.
   */
  Server startReference(Path dataDir) throws Exception {
    if (dataDir != null) {
      deleteTree(dataDir);
      Files.createDirectories(dataDir);
    }
    int port = NodeProcess.freePort();
    Path log = logs.resolve(dataDir == null ? "reference-memory.log" : "reference-file.log");
    ProcessBuilder builder = new ProcessBuilder(nodeBin, "start-ds.mjs", String.valueOf(port),
        dataDir == null ? "-" : dataDir.toAbsolutePath().toString())
        .directory(peersDir.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
    builder.environment().put("LONG_POLL_MS", "500"); // the same long-poll timeout as our node; the load never long-polls
    Process process = children.start(builder);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!listening(port)) {
      if (!process.isAlive() || System.nanoTime() > deadline) {
        ChildProcesses.stopTree(process);
        if (dataDir != null) deleteTree(dataDir);
        throw new IllegalStateException("reference server did not start:\n" + tail(Files.readAllLines(log), 15));
      }
      TimeUnit.MILLISECONDS.sleep(100);
    }
    // The reference serves the protocol under any path; /v1/stream gives it the same URLs as ours.
    String base = "http://127.0.0.1:" + port + "/v1/stream";
    return new Server() {
      public String base() {
        return base;
      }

      public void stop() throws IOException {
        ChildProcesses.stopTree(process);
        if (dataDir != null) deleteTree(dataDir);
      }
    };
  }

  /** Our node from the packaged jar, PostgreSQL journal; the protocol under /v1/stream. */
  Server startOurs() throws Exception {
    Path dir = Files.createDirectories(logs.resolve("ours")); // its config file and node.log
    NodeProcess node = new NodeProcess(dir, options.getOrDefault("pg-url", "jdbc:postgresql://127.0.0.1:5432/test"),
        options.getOrDefault("pg-user", "postgres"), Bench.SECRET);
    // As conformance runs use; harmless if the node does not read it (unknown keys are ignored).
    // The peers' load tool sends no tokens, so streams are opened as the conformance run does.
    node.extraConfig = "durable-sessions.streams.long-poll-timeout = 500ms\ndurable-sessions.streams.open = on\n";
    children.track(() -> node.process);
    try {
      node.start();
    } catch (Exception e) {
      String state = node.process == null ? "" : node.process.isAlive() ? " (still running, never healthy: stopped)"
          : " (exited with code " + node.process.exitValue() + ")";
      node.stop();
      Path log = dir.resolve("node.log");
      List<String> lines = Files.isRegularFile(log) ? Files.readAllLines(log) : List.of();
      throw new IllegalStateException(e.getMessage() + state + (lines.isEmpty() ? "; node.log is empty" : ":\n" + tail(lines, 15)));
    }
    return new Server() {
      public String base() {
        return node.base() + "/v1/stream";
      }

      public void stop() {
        if (node.process != null) ChildProcesses.stopTree(node.process);
      }
    };
  }

  /** The bare route and no-op sharded entity, in its own JVM with the node's flags; the protocol under /v1/stream. */
  Server startBaseline() throws Exception {
    BaselineProcess baseline = new BaselineProcess(BaselineProcess.APPENDS, logs.resolve("baseline.log"));
    children.track(() -> baseline.process);
    baseline.start();
    return new Server() {
      public String base() {
        return baseline.base() + "/v1/stream";
      }

      public void stop() {
        baseline.stop();
      }
    };
  }

  /** Starts the peer's server, runs the load against it {@code runs} times, stops it. */
  PeerResult measure(Peer peer) throws Exception {
    System.out.printf("# %s: %s%n", peer.key(), peer.label());
    List<Run> done = new ArrayList<>();
    Server server;
    try {
      server = peer.starter().start();
    } catch (Exception e) {
      String why = e.getMessage() == null ? e.toString() : e.getMessage();
      System.out.printf("%s FAILED to start:%n%s%n", peer.key(), indent(why));
      for (int i = 1; i <= runs; i++) done.add(new Run(i, -1, null, "server did not start: " + firstLine(why)));
      return new PeerResult(peer, done, null);
    }
    WrkFigures lean = null;
    try {
      System.out.println("# " + peer.key() + " serving " + server.base());
      for (int warm = 0; warm < warmupRuns; warm++) {
        Run w = load(peer, server.base(), 0, streams, events);
        if (w.figures() == null) {
          // The measured runs would fail the same way: report them failed without waiting on each.
          for (int i = 1; i <= runs; i++) done.add(new Run(i, w.exitCode(), null, "warm-up failed: " + w.failure()));
          return new PeerResult(peer, done, null);
        }
      }
      for (int i = 1; i <= runs; i++) done.add(load(peer, server.base(), i, streams, events));
      if (!"off".equals(options.getOrDefault("wrk", "on"))) lean = wrk(peer, server.base());
    } finally {
      server.stop();
    }
    return new PeerResult(peer, done, lean);
  }

  static final String WRK_SCRIPT = """
      -- Appends of ~40 bytes of JSON, spread over the streams in turn (per wrk thread).
      local prefix = os.getenv("WRK_PREFIX")
      local streams = tonumber(os.getenv("WRK_STREAMS"))
      local n = 0
      request = function()
        n = n + 1
        return wrk.format("POST", prefix .. (n % streams), {["Content-Type"] = "application/json"},
          '{"n":' .. n .. ',"text":"a token of about forty bytes"}')
      end
      """;
  static final Pattern WRK_RATE = Pattern.compile("^Requests/sec:\\s+([0-9.]+)");
  static final Pattern WRK_PERCENTILE = Pattern.compile("^\\s+(50|99)(?:\\.000)?%\\s+([0-9.]+)(us|ms|s)\\s*$");
  static final Pattern WRK_REQUESTS = Pattern.compile("^\\s+(\\d+) requests in ");
  static final Pattern WRK_NON_2XX = Pattern.compile("^\\s+Non-2xx or 3xx responses: (\\d+)");

  /**
   * Appends from wrk against a running server: creates {@link #streams} JSON streams, then
   * POSTs to them for {@code --wrk-seconds} over {@code --wrk-connections} connections on one
   * thread (one core's worth of client, as measured in MEASURED.md). A run with any answer other than 2xx or any socket
   * error is reported as such beside its figures.
   */
  WrkFigures wrk(Peer peer, String base) throws Exception {
    int seconds = option("wrk-seconds", 15);
    int connections = option("wrk-connections", 50);
    String run = Long.toString(System.currentTimeMillis(), 36);
    java.net.URI baseUri = java.net.URI.create(base);
    java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
    for (int i = 0; i < streams; i++) {
      var created = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/wrk/" + run + "/s" + i))
          .header("Content-Type", "application/json").PUT(java.net.http.HttpRequest.BodyPublishers.noBody()).build(),
          java.net.http.HttpResponse.BodyHandlers.discarding());
      if (created.statusCode() / 100 != 2) {
        System.out.printf("%s wrk FAILED: creating a stream answered %d%n", peer.key(), created.statusCode());
        return new WrkFigures(0, 0, 0, 0, 0, null, "creating a stream answered " + created.statusCode());
      }
    }
    Path script = logs.resolve("wrk-appends.lua");
    Files.writeString(script, WRK_SCRIPT);
    ProcessBuilder builder = new ProcessBuilder("wrk", "-t1", "-c" + connections, "-d" + seconds + "s", "--latency",
        "-s", script.toAbsolutePath().toString(), base).redirectErrorStream(true);
    builder.environment().put("WRK_PREFIX", baseUri.getPath() + "/wrk/" + run + "/s");
    builder.environment().put("WRK_STREAMS", String.valueOf(streams));
    Process process;
    try {
      process = children.start(builder);
    } catch (IOException e) {
      System.out.printf("%s wrk FAILED: %s (apt-get install wrk)%n", peer.key(), e.getMessage());
      return new WrkFigures(0, 0, 0, 0, 0, null, "wrk is not installed (apt-get install wrk)");
    }
    List<String> lines;
    try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      lines = in.lines().toList();
    }
    if (!process.waitFor(seconds + 60L, TimeUnit.SECONDS)) ChildProcesses.stopTree(process);
    double rate = -1;
    double p50 = -1;
    double p99 = -1;
    long requests = 0;
    long non2xx = 0;
    String socketErrors = null;
    for (String line : lines) {
      System.out.printf("  %s wrk | %s%n", peer.key(), line);
      Matcher m;
      if ((m = WRK_RATE.matcher(line)).find()) rate = Double.parseDouble(m.group(1));
      if ((m = WRK_REQUESTS.matcher(line)).find()) requests = Long.parseLong(m.group(1));
      if ((m = WRK_NON_2XX.matcher(line)).find()) non2xx = Long.parseLong(m.group(1));
      if (line.trim().startsWith("Socket errors:")) socketErrors = line.trim();
      if ((m = WRK_PERCENTILE.matcher(line)).find()) {
        double value = Double.parseDouble(m.group(2)) * switch (m.group(3)) {
          case "us" -> 0.001;
          case "s" -> 1000.0;
          default -> 1.0;
        };
        if (m.group(1).equals("50")) p50 = value;
        else p99 = value;
      }
    }
    if (rate < 0 || p99 < 0) {
      return new WrkFigures(0, 0, 0, 0, 0, null, "no figures from wrk (exit " + (process.isAlive() ? "none" : process.exitValue()) + ")");
    }
    WrkFigures figures = new WrkFigures(rate, p50, p99, requests, non2xx, socketErrors, null);
    System.out.printf("WRK %s appends_per_s=%.0f p50_ms=%.2f p99_ms=%.2f requests=%d non2xx=%d%s%n", peer.key(), rate, p50, p99,
        requests, non2xx, socketErrors == null ? "" : " " + socketErrors);
    return figures;
  }

  /** One bench-ds.mjs run, bounded by its own deadline and, behind it, a process timeout. */
  Run load(Peer peer, String base, int number, int streamCount, int eventCount) throws Exception {
    String name = number == 0 ? "warm-up" : "run " + number;
    ProcessBuilder builder = new ProcessBuilder(nodeBin, "bench-ds.mjs", base, "--streams", String.valueOf(streamCount),
        "--events", String.valueOf(eventCount), "--concurrency", String.valueOf(concurrency),
        "--max-seconds", String.valueOf(maxSeconds)).directory(peersDir.toFile()).redirectErrorStream(true);
    Process process;
    try {
      process = children.start(builder);
    } catch (IOException e) {
      System.out.printf("%s %s FAILED: %s%n", peer.key(), name, e.getMessage());
      return new Run(number, -1, null, "could not run bench-ds.mjs: " + e.getMessage());
    }
    List<String> output = Collections.synchronizedList(new ArrayList<>());
    Thread reader = new Thread(() -> {
      try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = in.readLine()) != null; ) output.add(line);
      } catch (IOException closed) {
        // the process was killed
      }
    }, "bench-ds-output");
    reader.start();
    boolean finished = process.waitFor(maxSeconds + 60L, TimeUnit.SECONDS);
    if (!finished) ChildProcesses.stopTree(process);
    reader.join(5_000);
    List<String> lines = List.copyOf(output);
    int exit = finished ? process.exitValue() : -1;

    Figures figures = null;
    for (String line : lines) {
      Matcher m = RESULT.matcher(line);
      if (m.find()) {
        figures = new Figures(Double.parseDouble(m.group(1)), Double.parseDouble(m.group(2)), Double.parseDouble(m.group(3)),
            Long.parseLong(m.group(4)), Long.parseLong(m.group(5)));
      }
    }
    if (figures != null) {
      for (String line : lines) if (!line.startsWith("RESULT")) System.out.printf("  %s %s | %s%n", peer.key(), name, line);
      if (number > 0) System.out.printf("%s %s exit=%d%n", peer.key(), lines.stream().filter(l -> l.startsWith("RESULT")).reduce((a, b) -> b).get(), exit);
      else System.out.printf("  %s warm-up done (not counted)%n", peer.key());
      // The baseline stores nothing, so its reads find every event lost (exit 1); only exit 2 (aborted) fails it.
      boolean failed = peer.stores() ? exit != 0 : exit != 0 && exit != 1;
      return new Run(number, exit, figures, failed ? "loss, duplicates, disorder or append errors (exit " + exit + ")" : null);
    }
    String failure = !finished ? "killed after " + (maxSeconds + 60) + " s"
        : lines.stream().filter(l -> l.startsWith("bench aborted")).findFirst().orElse("exit " + exit + ", no RESULT line");
    System.out.printf("%s %s FAILED (%s); last lines of bench-ds.mjs:%n%s%n", peer.key(), name, failure, indent(tail(lines, 15)));
    return new Run(number, exit, null, failure);
  }

  static boolean listening(int port) {
    try (java.net.Socket s = new java.net.Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 200);
      return true;
    } catch (IOException notYet) {
      return false;
    }
  }

  static String tail(List<String> lines, int n) {
    return String.join("\n", lines.subList(Math.max(0, lines.size() - n), lines.size()));
  }

  static String indent(String text) {
    return "  | " + text.replace("\n", "\n  | ");
  }

  static String firstLine(String text) {
    return text == null ? "" : text.lines().findFirst().orElse("");
  }

  static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) return;
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
    }
  }
}
