package dev.durablesessions.sessionctl;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * The command line for support staff: list sessions and queues, show a session, tail its
 * events from an offset, and run every transfer operation. Exit codes: 0 done, 1 refused by
 * the server (or unreachable), 2 bad usage. Only support and admin tokens may use it.
 */
@Command(
    name = "sessionctl",
    mixinStandardHelpOptions = true,
    version = "sessionctl 0.1.0",
    description = "Support tooling for Durable Sessions.",
    subcommands = {
      Sessionctl.Sessions.class, Sessionctl.Queues.class, Sessionctl.Pools.class, Sessionctl.Show.class, Sessionctl.Tail.class,
      Sessionctl.Transfer.class, Sessionctl.Accept.class, Sessionctl.Cancel.class, Sessionctl.Claim.class,
      Sessionctl.Say.class, Sessionctl.Handback.class, Sessionctl.Close.class
    })
public final class Sessionctl implements Runnable {
  @Spec CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
  }

  public static int run(String[] args, PrintWriter out, PrintWriter err) {
    CommandLine cli = new CommandLine(new Sessionctl());
    cli.setOut(out);
    cli.setErr(err);
    cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
      if (e instanceof Api.Refused r) {
        cmd.getErr().println("refused: " + r.code + ": " + r.getMessage());
        return 1;
      }
      if (e instanceof CommandLine.ParameterException p) {
        cmd.getErr().println(p.getMessage());
        return 2;
      }
      throw e;
    });
    return cli.execute(args);
  }

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "name a command (sessionctl --help lists them)");
  }

  /** Where and as whom. */
  static final class Connection {
    @Option(names = "--url", description = "server URL (env DS_URL, default http://localhost:8080)")
    String url = System.getenv().getOrDefault("DS_URL", "http://localhost:8080");

    /** The support token a dev-mode node prints as DS_SUPPORT_TOKEN; DS_TOKEN for scripts that set only that. */
    @Option(names = "--token", description = "support or admin JWT (env DS_SUPPORT_TOKEN, else DS_TOKEN)")
    String token = System.getenv("DS_SUPPORT_TOKEN") != null ? System.getenv("DS_SUPPORT_TOKEN") : System.getenv("DS_TOKEN");

    @Spec(Spec.Target.MIXEE) CommandLine.Model.CommandSpec spec;

    Api api() {
      if (token == null || token.isBlank()) {
        throw new CommandLine.ParameterException(spec.commandLine(), "a token is needed: --token, DS_SUPPORT_TOKEN or DS_TOKEN (a dev-mode node prints DS_SUPPORT_TOKEN at start)");
      }
      String role = Api.roleOf(token);
      if (!role.equals("support") && !role.equals("admin")) {
        throw new CommandLine.ParameterException(spec.commandLine(),
            "sessionctl is for support staff: the token's role is '" + role + "', not support or admin");
      }
      return new Api(url, token);
    }
  }

  /** The structured handoff note. */
  static final class NoteOptions {
    @Option(names = "--in-progress", description = "what is in progress (repeatable)") List<String> inProgress = new ArrayList<>();

    @Option(names = "--decided", description = "a decision as WHAT=WHY (repeatable)") List<String> decided = new ArrayList<>();

    @Option(names = "--next", description = "what needs attention next (repeatable)") List<String> next = new ArrayList<>();

    @Option(names = "--can-wait", description = "what can safely wait (repeatable)") List<String> canWait = new ArrayList<>();

    @Option(names = "--waiting-on", description = "whom we are waiting on (repeatable)") List<String> waitingOn = new ArrayList<>();

    Map<String, Object> note() {
      if (inProgress.isEmpty() && decided.isEmpty() && next.isEmpty() && canWait.isEmpty() && waitingOn.isEmpty()) return null;
      List<Map<String, String>> decisions = new ArrayList<>();
      for (String d : decided) {
        int eq = d.indexOf('=');
        decisions.add(eq < 0 ? Map.of("what", d) : Map.of("what", d.substring(0, eq), "why", d.substring(eq + 1)));
      }
      Map<String, Object> note = new LinkedHashMap<>();
      note.put("inProgress", inProgress);
      note.put("decided", decisions);
      note.put("next", next);
      note.put("canWait", canWait);
      note.put("waitingOn", waitingOn);
      return note;
    }
  }

  static String path(String sessionId) {
    return "/v1/sessions/" + URLEncoder.encode(sessionId, StandardCharsets.UTF_8);
  }

  @Command(name = "sessions", description = "List sessions.")
  static final class Sessions implements java.util.concurrent.Callable<Integer> {
    @Mixin Connection connection;
    @Spec CommandLine.Model.CommandSpec spec;
    @Option(names = "--limit", defaultValue = "100") int limit;

    public Integer call() throws Api.Refused {
      for (JsonNode id : connection.api().get("/v1/sessions?limit=" + limit).path("sessions")) spec.commandLine().getOut().println(id.asText());
      return 0;
    }
  }

  @Command(name = "queues", description = "List the sessions waiting for a human, by queue (oldest first).")
  static final class Queues implements java.util.concurrent.Callable<Integer> {
    @Mixin Connection connection;
    @Spec CommandLine.Model.CommandSpec spec;
    @Parameters(arity = "0..1", description = "one queue only") String queue;

    public Integer call() throws Api.Refused {
      JsonNode queues = connection.api().get("/v1/queues").path("queues");
      PrintWriter out = spec.commandLine().getOut();
      queues.fields().forEachRemaining(q -> {
        if (queue != null && !queue.equals(q.getKey())) return;
        out.println(q.getKey() + " (" + q.getValue().size() + " waiting)");
        for (JsonNode e : q.getValue()) out.println("  " + e.path("sessionId").asText() + "  since " + e.path("since").asText());
      });
      return 0;
    }
  }

  @Command(name = "pools", description = "Agent pools: the connected workers (capacity, sessions held) and the sessions waiting for an agent (oldest first).")
  static final class Pools implements java.util.concurrent.Callable<Integer> {
    @Mixin Connection connection;
    @Spec CommandLine.Model.CommandSpec spec;
    @Parameters(arity = "0..1", description = "one pool only") String pool;

    public Integer call() throws Api.Refused {
      PrintWriter out = spec.commandLine().getOut();
      for (JsonNode p : connection.api().get("/v1/pools").path("pools")) {
        if (pool != null && !pool.equals(p.path("name").asText())) continue;
        out.println(p.path("name").asText() + " (" + p.path("mode").asText() + ", lease timeout " + p.path("leaseTimeoutMs").asLong()
            + " ms): " + p.path("workers").size() + " workers, " + p.path("waiting").size() + " waiting");
        for (JsonNode w : p.path("workers")) {
          out.println("  worker " + w.path("worker").asText() + "  " + w.path("holding").asInt() + "/" + w.path("capacity").asInt()
              + (w.path("connected").asBoolean() ? "" : "  disconnected") + "  last seen " + w.path("lastSeen").asText());
        }
        for (JsonNode w : p.path("waiting")) {
          out.println("  waiting " + w.path("sessionId").asText() + "  since " + w.path("since").asText() + "  (" + w.path("reason").asText() + ")");
        }
      }
      return 0;
    }
  }

  @Command(name = "show", description = "Show a session: head, control, participants with presence, the latest handoff note.")
  static final class Show implements java.util.concurrent.Callable<Integer> {
    @Mixin Connection connection;
    @Spec CommandLine.Model.CommandSpec spec;
    @Parameters(description = "session id") String session;

    public Integer call() throws Exception {
      JsonNode s = connection.api().get(path(session));
      PrintWriter out = spec.commandLine().getOut();
      out.println("session  " + s.path("sessionId").asText() + "  head " + s.path("head").asLong());
      JsonNode control = s.path("control");
      out.println("control  " + control.path("phase").asText() + describe(control));
      for (JsonNode p : s.path("participants")) {
        JsonNode presence = p.path("presence");
        out.println("  " + p.path("participant").path("id").asText() + " (" + p.path("participant").path("role").asText() + ") "
            + presence.path("status").asText() + (p.hasNonNull("status") ? ", " + p.path("status").asText() : "")
            + (p.path("devices").isEmpty() ? "" : ", devices " + devices(p.path("devices"))));
      }
      if (s.path("openStreams").size() > 0) out.println("streams  " + s.path("openStreams"));
      if (s.path("stalled").size() > 0) out.println("stalled  " + s.path("stalled"));
      if (s.hasNonNull("latestNote")) out.println("note     " + Api.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(s.path("latestNote")));
      return 0;
    }

    private static String describe(JsonNode control) {
      StringBuilder b = new StringBuilder();
      for (String f : List.of("agent", "human", "queue", "reason")) {
        if (control.hasNonNull(f)) b.append("  ").append(f).append(' ').append(control.path(f).asText());
      }
      if (control.hasNonNull("invited")) b.append("  invited ").append(control.path("invited"));
      return b.toString();
    }

    private static String devices(JsonNode devices) {
      List<String> names = new ArrayList<>();
      for (JsonNode d : devices) names.add(d.path("device").asText() + "@" + d.path("delivered").asLong());
      return String.join(" ", names);
    }
  }

  @Command(name = "tail", description = "Print a session's events after an offset, one JSON line each; --follow keeps printing live.")
  static final class Tail implements java.util.concurrent.Callable<Integer> {
    @Mixin Connection connection;
    @Spec CommandLine.Model.CommandSpec spec;
    @Parameters(description = "session id") String session;
    @Option(names = "--from", defaultValue = "0", description = "print events after this offset") long from;
    @Option(names = {"-f", "--follow"}, description = "keep following live events") boolean follow;

    public Integer call() throws Exception {
      Api api = connection.api();
      PrintWriter out = spec.commandLine().getOut();
      long after = from;
      JsonNode page;
      do {
        page = api.get(path(session) + "/events?after=" + after + "&limit=1000");
        for (JsonNode e : page.path("events")) out.println(e);
        after = page.path("next").asLong(after);
      } while (page.path("hasMore").asBoolean());
      out.flush();
      return follow ? follow(api, after, out) : 0;
    }

    private int follow(Api api, long after, PrintWriter out) {
      CompletableFuture<Integer> done = new CompletableFuture<>();
      String uri = api.webSocket(path(session) + "/ws?offset=" + after + "&device=sessionctl-" + ProcessHandle.current().pid());
      WebSocket socket = HttpClient.newHttpClient().newWebSocketBuilder()
          .header("Authorization", "Bearer " + api.token)
          .buildAsync(URI.create(uri), new WebSocket.Listener() {
            private final StringBuilder partial = new StringBuilder();

            @Override
            public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
              partial.append(data);
              if (last) {
                try {
                  JsonNode f = Api.JSON.readTree(partial.toString());
                  if (f.has("offset") && !"ack".equals(f.path("type").asText())) {
                    out.println(f);
                    out.flush();
                  }
                } catch (Exception ignored) {
                  // not JSON: nothing to print
                }
                partial.setLength(0);
              }
              ws.request(1);
              return null;
            }

            @Override
            public CompletionStage<?> onClose(WebSocket ws, int status, String reason) {
              done.complete(0);
              return null;
            }

            @Override
            public void onError(WebSocket ws, Throwable error) {
              done.complete(1);
            }
          }).join();
      ScheduledExecutorService heartbeat = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "heartbeat");
        t.setDaemon(true);
        return t;
      });
      heartbeat.scheduleAtFixedRate(() -> socket.sendText("{\"type\":\"heartbeat\"}", true), 5, 5, TimeUnit.SECONDS);
      try {
        return done.join();
      } finally {
        heartbeat.shutdownNow();
      }
    }
  }

  @Command(name = "transfer", description = "Warm transfer (invite a human or queue; the agent keeps the floor until accepted) or cold transfer (queue now).")
  static final class Transfer implements java.util.concurrent.Callable<Integer> {
    @Mixin Connection connection;
    @Mixin NoteOptions note;
    @Spec CommandLine.Model.CommandSpec spec;
    @Parameters(description = "session id") String session;

    @CommandLine.ArgGroup(exclusive = true, multiplicity = "1") ModeChoice mode;

    static final class ModeChoice {
      @Option(names = "--warm", required = true) boolean warm;
      @Option(names = "--cold", required = true) boolean cold;
    }

    @CommandLine.ArgGroup(exclusive = true, multiplicity = "1") Target to;

    static final class Target {
      @Option(names = "--to-human", required = true, description = "participant id of the human") String human;
      @Option(names = "--to-queue", required = true, description = "queue name") String queue;
    }

    public Integer call() throws Api.Refused {
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("mode", mode.warm ? "warm" : "cold");
      body.put("to", to.human != null ? Map.of("participant", to.human) : Map.of("queue", to.queue));
      if (note.note() != null) body.put("note", note.note());
      JsonNode r = connection.api().post(path(session) + "/transfers", body);
      spec.commandLine().getOut().println((mode.warm ? "warm" : "cold") + " transfer recorded at offset " + r.path("offset").asLong());
      return 0;
    }
  }

  @Command(name = "accept", description = "Accept a warm transfer offered to you (or your queue).")
  static final class Accept implements java.util.concurrent.Callable<Integer> {
    @Mixin Connection connection;
    @Spec CommandLine.Model.CommandSpec spec;
    @Parameters(description = "session id") String session;

    public Integer call() throws Api.Refused {
      JsonNode r = connection.api().post(path(session) + "/transfers/accept", null);
      spec.commandLine().getOut().println("you have the floor (offset " + r.path("offset").asLong() + ")");
      return 0;
    }
  }

  @Command(name = "say", description = "Post a message to the session as yourself (support staff may speak whoever has the floor).")
  static final class Say implements java.util.concurrent.Callable<Integer> {
    @Mixin Connection connection;
    @Spec CommandLine.Model.CommandSpec spec;
    @Parameters(index = "0", description = "session id") String session;
    @Parameters(index = "1", description = "the message") String text;

    public Integer call() throws Api.Refused {
      JsonNode r = connection.api().post(path(session) + "/messages", Map.of("text", text));
      spec.commandLine().getOut().println("said at offset " + r.path("offset").asLong());
      return 0;
    }
  }

  @Command(name = "cancel", description = "Cancel a pending warm transfer.")
  static final class Cancel implements java.util.concurrent.Callable<Integer> {
    @Mixin Connection connection;
    @Spec CommandLine.Model.CommandSpec spec;
    @Parameters(description = "session id") String session;
    @Option(names = "--reason") String reason;

    public Integer call() throws Api.Refused {
      Map<String, Object> body = new LinkedHashMap<>();
      if (reason != null) body.put("reason", reason);
      JsonNode r = connection.api().post(path(session) + "/transfers/cancel", body);
      spec.commandLine().getOut().println("transfer cancelled (offset " + r.path("offset").asLong() + ")");
      return 0;
    }
  }

  @Command(name = "claim", description = "Claim a queued session, or the oldest one waiting in --queue.")
  static final class Claim implements java.util.concurrent.Callable<Integer> {
    @Mixin Connection connection;
    @Spec CommandLine.Model.CommandSpec spec;
    @Parameters(arity = "0..1", description = "session id") String session;
    @Option(names = "--queue", description = "claim the oldest session waiting in this queue") String queue;

    public Integer call() throws Api.Refused {
      if ((session == null) == (queue == null)) {
        throw new CommandLine.ParameterException(spec.commandLine(), "name a session or --queue, not both");
      }
      PrintWriter out = spec.commandLine().getOut();
      if (queue != null) {
        JsonNode r = connection.api().post("/v1/queues/" + URLEncoder.encode(queue, StandardCharsets.UTF_8) + "/claim", null);
        out.println("claimed " + r.path("sessionId").asText() + " from " + queue + " (offset " + r.path("offset").asLong() + ")");
      } else {
        JsonNode r = connection.api().post(path(session) + "/claim", null);
        out.println("claimed " + session + " (offset " + r.path("offset").asLong() + ")");
      }
      return 0;
    }
  }

  @Command(name = "handback", description = "Return the floor to an agent (the previous one unless --agent), with a note.")
  static final class Handback implements java.util.concurrent.Callable<Integer> {
    @Mixin Connection connection;
    @Mixin NoteOptions note;
    @Spec CommandLine.Model.CommandSpec spec;
    @Parameters(description = "session id") String session;
    @Option(names = "--agent", description = "participant id of the agent to hand back to") String agent;

    public Integer call() throws Api.Refused {
      Map<String, Object> body = new LinkedHashMap<>();
      if (agent != null) body.put("agent", agent);
      if (note.note() != null) body.put("note", note.note());
      JsonNode r = connection.api().post(path(session) + "/handback", body);
      spec.commandLine().getOut().println("handed back (offset " + r.path("offset").asLong() + ")");
      return 0;
    }
  }

  @Command(name = "close", description = "Close a session: nothing more may be appended.")
  static final class Close implements java.util.concurrent.Callable<Integer> {
    @Mixin Connection connection;
    @Spec CommandLine.Model.CommandSpec spec;
    @Parameters(description = "session id") String session;
    @Option(names = "--reason") String reason;

    public Integer call() throws Api.Refused {
      Map<String, Object> body = new LinkedHashMap<>();
      if (reason != null) body.put("reason", reason);
      JsonNode r = connection.api().post(path(session) + "/close", body);
      spec.commandLine().getOut().println("closed (offset " + r.path("offset").asLong() + ")");
      return 0;
    }
  }
}
