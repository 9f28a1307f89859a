package dev.durablesessions.sessionctl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.durablesessions.http.testing.TestServer;
import dev.durablesessions.session.Role;
import dev.durablesessions.testing.TestDatabases;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** sessionctl against a real server: every command, its output and its exit code. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SessionctlTest {
  TestServer server;
  String sam;
  String ada;

  @BeforeAll
  void start() {
    server = new TestServer(TestDatabases.h2(), "");
    sam = server.token("sam", Role.SUPPORT);
    ada = server.token("ada", Role.USER);
  }

  @AfterAll
  void stop() {
    server.close();
  }

  record Run(int exit, String out, String err) {}

  Run ctl(String token, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    java.util.List<String> all = new java.util.ArrayList<>();
    all.add(args[0]);
    all.add("--url=" + server.http());
    all.add("--token=" + token);
    all.addAll(java.util.Arrays.asList(args).subList(1, args.length));
    String[] trimmed = all.toArray(String[]::new);
    int exit = Sessionctl.run(trimmed, new PrintWriter(out, true), new PrintWriter(err, true));
    return new Run(exit, out.toString(), err.toString());
  }

  String newSession() throws Exception {
    String id = "ctl-" + UUID.randomUUID();
    HttpClient http = HttpClient.newHttpClient();
    assertEquals(201, http.send(HttpRequest.newBuilder(URI.create(server.http() + "/v1/sessions"))
        .header("Authorization", "Bearer " + ada).POST(HttpRequest.BodyPublishers.ofString("{\"id\":\"" + id + "\"}")).build(),
        HttpResponse.BodyHandlers.ofString()).statusCode());
    say(id, "my parcel arrived broken");
    return id;
  }

  void say(String id, String text) throws Exception {
    HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(server.http() + "/v1/sessions/" + id + "/messages"))
        .header("Authorization", "Bearer " + ada).POST(HttpRequest.BodyPublishers.ofString("{\"text\":\"" + text + "\"}")).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void poolsListsTheWaitingSessionsAndTheWorkers() throws Exception {
    String id = "ctl-" + UUID.randomUUID();
    HttpClient http = HttpClient.newHttpClient();
    assertEquals(201, http.send(HttpRequest.newBuilder(URI.create(server.http() + "/v1/sessions"))
        .header("Authorization", "Bearer " + ada).POST(HttpRequest.BodyPublishers.ofString("{\"id\":\"" + id + "\"}")).build(),
        HttpResponse.BodyHandlers.ofString()).statusCode());
    // no worker serves the default pool here: the new session waits for one
    assertTrue(awaitOutput(() -> ctl(sam, "pools").out(), "waiting " + id), "the session should be listed as waiting");
    Run run = ctl(sam, "pools", "default");
    assertEquals(0, run.exit(), run.err());
    assertTrue(run.out().startsWith("default (workers, lease timeout 5000 ms): 0 workers, "), run.out());
    assertTrue(run.out().contains("(needs_agent)"), run.out());
    assertEquals("", ctl(sam, "pools", "no-such-pool").out());
  }

  @Test
  void onlySupportAndAdminTokensMayUseIt() {
    Run run = ctl(ada, "queues");
    assertEquals(2, run.exit());
    assertTrue(run.err().contains("for support staff"), run.err());
    assertEquals(2, ctl(sam, "transfer", "x").exit(), "missing --warm/--cold and target");
  }

  @Test
  void showTailAndEveryTransferCommandWorkAgainstTheServer() throws Exception {
    String id = newSession();
    Run show = ctl(sam, "show", id);
    assertEquals(0, show.exit(), show.err());
    assertTrue(show.out().contains("control  agent_in_control"), show.out());
    assertTrue(show.out().contains("ada (user) offline"), show.out());

    Run tail = ctl(sam, "tail", id, "--from", "2");
    assertEquals(0, tail.exit(), tail.err());
    String[] lines = tail.out().strip().split("\n");
    assertEquals(1, lines.length, tail.out());
    assertTrue(lines[0].contains("\"offset\":3") && lines[0].contains("my parcel arrived broken"), lines[0]);

    assertTrue(ctl(sam, "sessions").out().contains(id));

    String queue = "billing-" + UUID.randomUUID();
    Run cold = ctl(sam, "transfer", id, "--cold", "--to-queue", queue, "--decided", "refund=damaged in transit", "--next", "confirm address");
    assertEquals(0, cold.exit(), cold.err());
    assertTrue(awaitOutput(() -> ctl(sam, "queues", queue).out(), id), "the session should be listed in " + queue);

    Run claim = ctl(sam, "claim", "--queue", queue);
    assertEquals(0, claim.exit(), claim.err());
    assertTrue(claim.out().contains("claimed " + id), claim.out());
    Run shown = ctl(sam, "show", id);
    assertTrue(shown.out().contains("human_in_control  human sam"), shown.out());
    assertTrue(shown.out().contains("damaged in transit"), shown.out());
    Run said = ctl(sam, "say", id, "Hello, I am Sam from support");
    assertEquals(0, said.exit(), said.err());
    assertTrue(ctl(sam, "tail", id, "--from", "3").out().contains("Hello, I am Sam from support"));

    assertEquals(0, ctl(sam, "handback", id, "--agent", "bot", "--next", "ship the replacement").exit());
    assertTrue(ctl(sam, "show", id).out().contains("agent_in_control  agent bot"));
    Run closedLater = ctl(sam, "say", id, "support may speak whoever has the floor");
    assertEquals(0, closedLater.exit(), closedLater.err());
    assertEquals(0, ctl(sam, "transfer", id, "--warm", "--to-human", "alice", "--in-progress", "replacement").exit());
    assertTrue(ctl(sam, "show", id).out().contains("transfer_pending"));
    Run notInvited = ctl(sam, "accept", id);
    assertEquals(1, notInvited.exit());
    assertTrue(notInvited.err().contains("not_invited"), notInvited.err());
    assertEquals(0, ctl(sam, "cancel", id, "--reason", "alice is away").exit());
    assertEquals(0, ctl(sam, "close", id, "--reason", "resolved").exit());
    Run again = ctl(sam, "close", id);
    assertEquals(1, again.exit());
    assertTrue(again.err().contains("session_closed"), again.err());
    Run toAClosedSession = ctl(sam, "say", id, "anyone there?");
    assertEquals(1, toAClosedSession.exit());
    assertTrue(toAClosedSession.err().contains("session_closed"), toAClosedSession.err());
  }

  @Test
  void tailFollowPrintsLiveEventsAfterTheBacklog() throws Exception {
    String id = newSession();
    StringWriter out = new StringWriter();
    Thread follower = new Thread(() -> Sessionctl.run(
        new String[] {"tail", "--url=" + server.http(), "--token=" + sam, id, "--from", "3", "--follow"},
        new PrintWriter(out, true), new PrintWriter(new StringWriter(), true)));
    follower.setDaemon(true);
    follower.start();
    assertTrue(awaitOutput(out::toString, "participant.connected"), out.toString());
    say(id, "are you there?");
    assertTrue(awaitOutput(out::toString, "are you there?"), out.toString());
    assertTrue(!out.toString().contains("my parcel arrived broken"), "offsets up to 3 were not asked for");
  }

  static boolean awaitOutput(java.util.function.Supplier<String> output, String expected) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      if (output.get().contains(expected)) return true;
      TimeUnit.MILLISECONDS.sleep(20); // polling command output: nothing else to await on
    }
    return false;
  }
}
