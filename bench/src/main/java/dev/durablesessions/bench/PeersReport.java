package dev.durablesessions.bench;

import dev.durablesessions.bench.PeersBench.Figures;
import dev.durablesessions.bench.PeersBench.PeerResult;
import dev.durablesessions.bench.PeersBench.Run;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The outcome of the peers scenario: a summary on the console and, on request, a section of
 * docs/PERFORMANCE.md between two marker lines, replaced as a whole on every run so the
 * rest of the file stays as written by hand.
 */
final class PeersReport {
  static final String BEGIN = "<!-- peers-bench:begin -->";
  static final String END = "<!-- peers-bench:end -->";

  final PeersBench bench;
  final List<PeerResult> results;
  final String loadAverage;
  final PeerResult ours;
  final PeerResult referenceMemory;
  /** The no-op sharded baseline, or null when run with --baseline=off. */
  final PeerResult baseline;

  PeersReport(PeersBench bench, List<PeerResult> results, String loadAverage) {
    this.bench = bench;
    this.results = results;
    this.loadAverage = loadAverage;
    this.ours = find(results, "ours");
    this.referenceMemory = results.stream().filter(r -> r.peer().key().equals("reference-memory")).findFirst().orElse(null);
    this.baseline = results.stream().filter(r -> r.peer().key().equals(PeersBench.BASELINE)).findFirst().orElse(null);
  }

  static PeerResult find(List<PeerResult> results, String key) {
    return results.stream().filter(r -> r.peer().key().equals(key)).findFirst().orElseThrow();
  }

  void printSummary() {
    System.out.printf("# summary: medians of %d run(s) per server (%d streams x %d events, concurrency %d)%n",
        bench.runs, bench.streams, bench.events, bench.concurrency);
    System.out.printf("%-18s %12s %10s %16s %6s %6s %9s%n", "server", "appends/s", "p99 ms", "read events/s", "lost", "dup", "clean");
    for (PeerResult r : results) {
      boolean reads = r.peer().stores() && !r.figures().isEmpty();
      System.out.printf("%-18s %12s %10s %16s %6s %6s %9s%n", r.peer().key(), number(r.median(Figures::appendsPerS)),
          millis(r.median(Figures::p99Ms)), r.peer().stores() ? number(r.median(Figures::readEventsPerS)) : "n/a",
          reads ? r.lost() : "-", reads ? r.dup() : "-", r.clean() + "/" + r.runs().size());
    }
    for (PeerResult peer : results) {
      if (peer == ours) continue;
      System.out.printf("# ours / %s: appends/s %s, p99 %s, read %s%n", peer.peer().key(),
          ratio(ours, peer, Figures::appendsPerS), ratio(ours, peer, Figures::p99Ms), readRatio(peer));
    }
    if (baseline != null) {
      System.out.printf("RESULT appends node %s/s | baseline %s/s | ratio %s%n", number(ours.median(Figures::appendsPerS)),
          number(baseline.median(Figures::appendsPerS)), ratio(ours, baseline, Figures::appendsPerS));
      System.out.printf("RESULT appends node p99 %s ms | baseline p99 %s ms | ratio %s%n", millis(ours.median(Figures::p99Ms)),
          millis(baseline.median(Figures::p99Ms)), ratio(ours, baseline, Figures::p99Ms));
    }
    if (ours.wrk() != null) {
      for (PeerResult r : results) {
        if (r.wrk() == null) continue;
        System.out.printf("# wrk %s: %s appends/s, p50 %s ms, p99 %s ms%s%n", r.peer().key(), wrkCell(r, w -> w.requestsPerS(), false),
            wrkCell(r, w -> w.p50Ms(), true), wrkCell(r, w -> w.p99Ms(), true), r.wrk().clean() ? "" : " (" + wrkTrouble(r.wrk()) + ")");
      }
    }
    for (String target : targets()) System.out.println("# target: " + target.replace("**", ""));
  }

  static String wrkCell(PeerResult r, ToDoubleFunction<PeersBench.WrkFigures> metric, boolean millis) {
    if (r.wrk() == null || r.wrk().failure() != null) return "-";
    return millis ? String.format(Locale.ROOT, "%.1f", metric.applyAsDouble(r.wrk())) : number(metric.applyAsDouble(r.wrk()));
  }

  static String wrkTrouble(PeersBench.WrkFigures w) {
    if (w.failure() != null) return w.failure();
    List<String> trouble = new ArrayList<>();
    if (w.non2xx() > 0) trouble.add(w.non2xx() + " answers not 2xx");
    if (w.socketErrors() != null) trouble.add(w.socketErrors());
    return String.join(", ", trouble);
  }

  /** ours / peer for a wrk figure, or null when either did not run clean. */
  Double wrkQuotient(PeerResult peer, ToDoubleFunction<PeersBench.WrkFigures> metric) {
    if (peer == null || ours.wrk() == null || peer.wrk() == null || ours.wrk().failure() != null || peer.wrk().failure() != null) return null;
    return metric.applyAsDouble(ours.wrk()) / metric.applyAsDouble(peer.wrk());
  }

  /** The issue-5 targets, each with MET or NOT MET and the figure that decides it. */
  List<String> targets() {
    Double appends = quotient(ours, referenceMemory, Figures::appendsPerS);
    Double p99 = quotient(ours, referenceMemory, Figures::p99Ms);
    Double read = quotient(ours, referenceMemory, Figures::readEventsPerS);
    boolean everyRunClean = ours.clean() == ours.runs().size() && !ours.runs().isEmpty();
    List<String> targets = new ArrayList<>();
    if (referenceMemory != null) targets.addAll(List.of(
        "appends/s >= 2x the reference memory store's: " + verdict(appends != null && appends >= 2) + " (" + evidence(appends) + ")",
        "append p99 <= the reference memory store's: " + verdict(p99 != null && p99 <= 1) + " (" + evidence(p99) + ")",
        "catch-up read events/s >= the reference memory store's: " + verdict(read != null && read >= 1) + " (" + evidence(read) + ")",
        "lost=0 dup=0 in every run: " + verdict(everyRunClean)
            + " (" + ours.clean() + " of " + ours.runs().size() + " runs completed clean)"));
    else targets.add("lost=0 dup=0 in every run: " + verdict(everyRunClean) + " (" + ours.clean() + " of " + ours.runs().size() + " runs completed clean)");
    if (ours.wrk() != null) {
      Double appendsWrk = wrkQuotient(referenceMemory, PeersBench.WrkFigures::requestsPerS);
      Double p99Wrk = wrkQuotient(referenceMemory, PeersBench.WrkFigures::p99Ms);
      Double baselineWrk = wrkQuotient(baseline, PeersBench.WrkFigures::requestsPerS);
      if (referenceMemory != null) {
        targets.add("with wrk, appends/s >= the reference memory store's (issue 15): " + verdict(appendsWrk != null && appendsWrk >= 1)
            + " (" + evidence(appendsWrk) + ")");
        targets.add("with wrk, append p99 <= the reference memory store's (issue 15): " + verdict(p99Wrk != null && p99Wrk <= 1)
            + " (" + evidence(p99Wrk) + ")");
      }
      if (baseline != null) {
        targets.add("with wrk, appends/s >= 80% of the no-op sharded baseline's (issue 15): "
            + verdict(baselineWrk != null && baselineWrk >= 0.8) + " (" + evidence(baselineWrk) + ")");
      }
      targets.add("with wrk, every append answered 2xx without socket errors: " + verdict(ours.wrk().clean())
          + (ours.wrk().clean() ? "" : " (" + wrkTrouble(ours.wrk()) + ")"));
    }
    if (baseline != null) {
      Double ofBaseline = quotient(ours, baseline, Figures::appendsPerS);
      targets.add("appends/s >= 80% of the no-op sharded baseline's (issue 15): " + verdict(ofBaseline != null && ofBaseline >= 0.8)
          + " (" + (ofBaseline != null ? times(ofBaseline) : baseline.figures().isEmpty() ? "no run of the baseline completed" : evidence(null)) + ")");
    }
    return targets;
  }

  /** Ours / a peer for catch-up reads; none against the baseline, which stores nothing to read. */
  String readRatio(PeerResult peer) {
    return peer.peer().stores() ? ratio(ours, peer, Figures::readEventsPerS) : "n/a";
  }

  void writeSection(Path doc) throws Exception {
    String section = section();
    String text = Files.isRegularFile(doc) ? Files.readString(doc) : "";
    int begin = text.indexOf(BEGIN);
    int end = begin < 0 ? -1 : text.indexOf(END, begin);
    if (begin >= 0 && end >= 0) {
      text = text.substring(0, begin) + section + text.substring(end + END.length());
    } else {
      text = text + (text.isEmpty() || text.endsWith("\n\n") ? "" : text.endsWith("\n") ? "\n" : "\n\n") + section + "\n";
    }
    Files.writeString(doc, text);
  }

  String section() {
    StringBuilder md = new StringBuilder();
    md.append(BEGIN).append('\n');
    md.append("## Durable Streams protocol, side by side with the peers\n\n");
    md.append("Command: `java -jar bench/target/bench.jar ").append(String.join(" ", bench.args)).append("`, run on ")
        .append(ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'")))
        .append(" (this section is written by that command).\n\n");
    md.append("Machine: ").append(machine()).append("; 1-minute load average at the start: ").append(loadAverage).append(".\n\n");
    md.append("Workload: the peers' own load script `bench-ds.mjs` (`").append(bench.peersSource).append("`), ")
        .append(bench.streams).append(" JSON streams x ").append(bench.events).append(" appends of ~40 bytes (")
        .append(String.format(Locale.ROOT, "%,d", (long) bench.streams * bench.events)).append(" appends), one ordered producer per stream, ")
        .append(bench.concurrency).append(" appends in flight; then a catch-up read of every stream from the start and a resume ")
        .append("from its middle, checked for loss, duplicates and order. One server at a time, each stopped before the next ")
        .append("starts; the load client runs on the same cores. Each server gets ")
        .append(bench.warmupRuns > 0 ? bench.warmupRuns + " unmeasured warm-up run(s) of the same size (the JVM compiles its hot paths over the first tens of thousands of requests), then " : "")
        .append(bench.runs).append(" measured run(s), each bounded to ").append(bench.maxSeconds).append(" s. ")
        .append("Base URL `http://127.0.0.1:PORT/v1/stream` for every server (the reference serves the protocol under any path); ")
        .append("the reference file store writes under `bench/target/peers-store`").append(filesystem("bench/target")).append(".\n\n");

    md.append("Medians:\n\n");
    md.append("| server | appends/s | append p99 | catch-up read events/s | lost | dup | runs clean | durable |\n");
    md.append("|---|---|---|---|---|---|---|---|\n");
    for (PeerResult r : results) {
      boolean reads = r.peer().stores() && !r.figures().isEmpty();
      md.append("| ").append(r.peer().label()).append(" | ").append(bold(r, number(r.median(Figures::appendsPerS))))
          .append(" | ").append(bold(r, milliseconds(r.median(Figures::p99Ms)))).append(" | ")
          .append(r.peer().stores() ? bold(r, number(r.median(Figures::readEventsPerS))) : "n/a").append(" | ")
          .append(reads ? r.lost() : "-").append(" | ").append(reads ? r.dup() : "-")
          .append(" | ").append(r.clean()).append(" of ").append(r.runs().size()).append(" | ").append(r.peer().durable()).append(" |\n");
    }

    md.append("\nEvery run:\n\n");
    md.append("| server | run | appends/s | append p99 | catch-up read events/s | lost | dup | outcome |\n");
    md.append("|---|---|---|---|---|---|---|---|\n");
    for (PeerResult r : results) {
      for (Run run : r.runs()) {
        Figures f = run.figures();
        md.append("| ").append(r.peer().key()).append(" | ").append(run.number()).append(" | ");
        if (f == null) {
          md.append("- | - | - | - | - | ");
        } else {
          boolean reads = r.peer().stores();
          md.append(number(f.appendsPerS())).append(" | ").append(milliseconds(f.p99Ms())).append(" | ")
              .append(reads ? number(f.readEventsPerS()) : "n/a").append(" | ").append(reads ? f.lost() : "-").append(" | ")
              .append(reads ? f.dup() : "-").append(" | ");
        }
        md.append(run.failure() == null ? "ok" : "failed: " + cell(run.failure())).append(" |\n");
      }
    }

    md.append("\nOurs relative to each peer (ours / peer: above 1 is better for appends and reads, below 1 is better for p99):\n\n");
    md.append("| ours / | appends/s | append p99 | catch-up read |\n|---|---|---|---|\n");
    for (PeerResult peer : results) {
      if (peer == ours) continue;
      md.append("| ").append(peer.peer().label()).append(" | ").append(ratio(ours, peer, Figures::appendsPerS)).append(" | ")
          .append(ratio(ours, peer, Figures::p99Ms)).append(" | ").append(readRatio(peer)).append(" |\n");
    }

    if (baseline != null) {
      md.append("\nThe baseline is the bare stack under the same client: a Pekko HTTP route that asks a no-op entity ")
          .append("through Cluster Sharding on a one-node cluster (`dev.durablesessions.bench.baseline.BareAppends`, its own JVM ")
          .append("with the node's flags), answering each append at once and storing nothing, so its reads find nothing and ")
          .append("are not compared.\n");
    }
    if (ours.wrk() != null) {
      md.append("\nAppends from `wrk` (a C client: ").append(bench.option("wrk-connections", 50)).append(" connections, one thread, ")
          .append(bench.option("wrk-seconds", 15)).append(" s per server, right after its runs above, so warm; ~40-byte JSON appends ")
          .append("spread over ").append(bench.streams).append(" new streams in turn, without producer headers):\n\n");
      md.append("| server | appends/s | p50 | p99 | appends | trouble |\n|---|---|---|---|---|---|\n");
      for (PeerResult r : results) {
        if (r.wrk() == null) continue;
        md.append("| ").append(r.peer().label()).append(" | ").append(wrkCell(r, PeersBench.WrkFigures::requestsPerS, false))
            .append(" | ").append(wrkCell(r, PeersBench.WrkFigures::p50Ms, true)).append(" ms | ")
            .append(wrkCell(r, PeersBench.WrkFigures::p99Ms, true)).append(" ms | ")
            .append(r.wrk().failure() == null ? String.format(Locale.ROOT, "%,d", r.wrk().requests()) : "-").append(" | ")
            .append(r.wrk().clean() ? "none" : cell(wrkTrouble(r.wrk()))).append(" |\n");
      }
    }
    md.append("\nTargets (issues 5 and 15), against the reference memory store and the baseline measured in the same run:\n\n");
    for (String target : targets()) md.append("- ").append(target).append('\n');
    md.append(END);
    return md.toString();
  }

  /** Cores, CPU, memory, JDK, Node and PostgreSQL of this machine, each from the machine itself. */
  String machine() {
    List<String> parts = new ArrayList<>();
    String cores = command(5, "nproc");
    parts.add((cores.isBlank() ? String.valueOf(Runtime.getRuntime().availableProcessors()) : cores.trim()) + " cores");
    String cpu = firstMatch(read("/proc/cpuinfo"), "(?m)^model name\\s*:\\s*(.+)$");
    if (cpu != null) parts.add(cpu.trim());
    String memKb = firstMatch(read("/proc/meminfo"), "(?m)^MemTotal:\\s*(\\d+) kB");
    if (memKb != null) parts.add(String.format(Locale.ROOT, "%.1f GiB", Long.parseLong(memKb) / 1024.0 / 1024.0));
    parts.add("Java " + Runtime.version() + " (node JVM -Xmx2g, ParallelGC)");
    String node = command(5, bench.nodeBin, "--version").trim();
    if (!node.isEmpty()) parts.add("Node " + node);
    String pg = postgres();
    if (pg != null) parts.add("PostgreSQL " + pg + " on the same machine");
    return String.join(", ", parts);
  }

  /** " (ext4)": the file system a path is on, so a tmpfs (where fdatasync costs nothing) shows. */
  static String filesystem(String path) {
    List<String> lines = command(5, "df", "--output=fstype", path).lines().toList();
    return lines.size() < 2 ? "" : " (" + lines.get(1).trim() + ")";
  }

  /** Server version and the two settings that decide what a commit costs, via psql if installed. */
  String postgres() {
    if (!onPath("psql")) return null;
    Matcher m = Pattern.compile("//([^:/]+)(?::(\\d+))?/([^?]+)").matcher(bench.options.getOrDefault("pg-url", "jdbc:postgresql://127.0.0.1:5432/test"));
    boolean parsed = m.find();
    String host = parsed ? m.group(1) : "127.0.0.1";
    String port = parsed && m.group(2) != null ? m.group(2) : "5432";
    String db = parsed ? m.group(3) : "test";
    String out = command(10, "psql", "-h", host, "-p", port, "-U", bench.options.getOrDefault("pg-user", "postgres"), "-d", db, "-tAc",
        "select current_setting('server_version') || ' (fsync ' || current_setting('fsync') || ', synchronous_commit '"
            + " || current_setting('synchronous_commit') || ')'").trim();
    return out.isEmpty() ? null : out.lines().findFirst().orElse(null);
  }

  /** The installed {@code @durable-streams/server} version, from its package.json. */
  static String referenceVersion(Path peersDir) {
    try {
      return Bench.JSON.readTree(peersDir.resolve("node_modules/@durable-streams/server/package.json").toFile()).path("version").asText("?");
    } catch (Exception e) {
      return "?";
    }
  }

  // ---- formatting -------------------------------------------------------------------------

  /** Medians of our node are bold, as the other tables of PERFORMANCE.md bold the figure that matters. */
  String bold(PeerResult r, String value) {
    return r == ours && !value.startsWith("-") ? "**" + value + "**" : value;
  }

  /** a / b of the metric's medians; null when either server did not run or has no figures. */
  static Double quotient(PeerResult a, PeerResult b, ToDoubleFunction<Figures> metric) {
    if (a == null || b == null) return null;
    Double x = a.median(metric);
    Double y = b.median(metric);
    return x == null || y == null || y == 0 ? null : x / y;
  }

  static String ratio(PeerResult a, PeerResult b, ToDoubleFunction<Figures> metric) {
    return times(quotient(a, b, metric));
  }

  static String times(Double q) {
    return q == null ? "n/a" : String.format(Locale.ROOT, "%.2fx", q);
  }

  /** What a target's verdict rests on: the ratio, or why there is none. */
  String evidence(Double q) {
    if (q != null) return times(q);
    return ours.figures().isEmpty() ? "no run of ours completed" : "no run of the reference memory store completed";
  }

  static String verdict(boolean met) {
    return met ? "**MET**" : "**NOT MET**";
  }

  static String number(Double v) {
    return v == null ? "-" : String.format(Locale.ROOT, "%,.0f", v);
  }

  static String millis(Double v) {
    return v == null ? "-" : String.format(Locale.ROOT, "%.1f", v);
  }

  static String milliseconds(Double v) {
    return v == null ? "-" : millis(v) + " ms";
  }

  static String cell(String text) {
    String oneLine = text.replace("\n", " ").replace("|", "\\|");
    return oneLine.length() > 160 ? oneLine.substring(0, 157) + "..." : oneLine;
  }

  static String firstMatch(String text, String regex) {
    Matcher m = Pattern.compile(regex).matcher(text);
    return m.find() ? m.group(1) : null;
  }

  static String read(String file) {
    try {
      return Files.readString(Path.of(file));
    } catch (Exception e) {
      return "";
    }
  }

  static boolean onPath(String program) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      if (Files.isExecutable(Path.of(dir, program))) return true;
    }
    return false;
  }

  /** A short command's stdout, or "" if it fails or outlives its timeout. */
  static String command(int timeoutSeconds, String... command) {
    try {
      Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
      if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        ChildProcesses.stopTree(p);
        return "";
      }
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      return p.exitValue() == 0 ? out : "";
    } catch (Exception e) {
      return "";
    }
  }
}
