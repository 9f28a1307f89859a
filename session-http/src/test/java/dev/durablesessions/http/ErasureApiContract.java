package dev.durablesessions.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.durablesessions.http.socket.ConnectionActor;
import dev.durablesessions.http.testing.TestServer;
import dev.durablesessions.http.testing.WsClient;
import dev.durablesessions.persistence.Database;
import dev.durablesessions.session.Role;
import dev.durablesessions.session.SessionCommand;
import dev.durablesessions.session.SessionEntity;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Erasure over HTTP and sockets: DELETE by admins only, the closing frame, what an erased session answers, the audit records. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class ErasureApiContract {
  abstract Database database();

  Database db;
  TestServer server;
  String ada;
  String sam;
  String bot;
  String root;

  @BeforeAll
  void start() {
    db = database();
    server = new TestServer(db, "durable-sessions.session.snapshot-every = 5");
    ada = server.token("ada", Role.USER);
    sam = server.token("sam", Role.SUPPORT);
    bot = server.token("bot", Role.AGENT);
    root = server.token("root", Role.ADMIN);
  }

  @AfterAll
  void stop() {
    server.close();
  }

  HttpResponse<String> call(String method, String path, String token, String body) {
    return server.call(method, path, token, body);
  }

  static JsonNode json(HttpResponse<String> response) {
    return SocketContract.json(response.body());
  }

  static void assertError(int status, String code, HttpResponse<String> response) {
    assertEquals(status, response.statusCode(), response.body());
    assertEquals(code, json(response).path("error").path("code").asText(), response.body());
  }

  String sessionWithMessages(int messages) {
    String id = "era-" + UUID.randomUUID();
    assertEquals(201, call("POST", "/v1/sessions", ada, "{\"id\":\"" + id + "\"}").statusCode());
    for (int i = 0; i < messages; i++) {
      assertEquals(201, call("POST", "/v1/sessions/" + id + "/messages", ada, "{\"text\":\"private " + i + "\"}").statusCode());
    }
    return id;
  }

  long head(String id) {
    HttpResponse<String> r = call("GET", "/v1/sessions/" + id, sam, null);
    assertEquals(200, r.statusCode(), r.body());
    return json(r).path("head").asLong();
  }

  long count(String sql, Object... args) {
    try (Connection c = db.connect(); PreparedStatement s = c.prepareStatement(sql)) {
      for (int i = 0; i < args.length; i++) s.setObject(i + 1, args[i]);
      try (ResultSet rs = s.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  long journalRows(String id) {
    return count("SELECT COUNT(*) FROM \"event_journal\" WHERE \"persistence_id\" = ?", SessionEntity.persistenceId(id).id());
  }

  long snapshotRows(String id) {
    return count("SELECT COUNT(*) FROM \"snapshot\" WHERE \"persistence_id\" = ?", SessionEntity.persistenceId(id).id());
  }

  @Test
  void anAdminErasesASessionItsSocketsCloseAndEveryRequestAnswersSessionErased() throws Exception {
    String id = sessionWithMessages(6);
    long head;
    JsonNode record;
    try (WsClient phone = WsClient.connect(server.ws(id, 0) + "&device=phone", ada)) {
      phone.nextOfType("attached");
      phone.nextOfType("participant.connected");
      head = head(id);
      assertTrue(snapshotRows(id) > 0);

      HttpResponse<String> erased = call("DELETE", "/v1/sessions/" + id, root, null);
      assertEquals(200, erased.statusCode(), erased.body());
      record = json(erased);
      assertEquals(id, record.path("sessionId").asText());
      assertEquals("root", record.path("erasedBy").asText());
      assertEquals("admin", record.path("role").asText());
      assertEquals("admin", record.path("reason").asText());
      assertEquals(head, record.path("head").asLong());
      assertEquals(head, record.path("events").asLong());
      assertTrue(record.path("snapshots").asLong() > 0);
      assertTrue(record.hasNonNull("erasedAt"));
      assertFalse(record.path("alreadyErased").asBoolean());

      // The socket is told, with a closing frame that says there is nothing to resume, and closed.
      phone.expectError("session_erased");
      JsonNode closing = phone.nextOfType("closing");
      assertEquals(ConnectionActor.CLOSE_SESSION_ERASED, closing.path("code").asInt(), closing.toString());
      assertEquals("session_erased", closing.path("reason").asText());
      assertFalse(closing.path("resumable").asBoolean());
      phone.closed.get(WsClient.WAIT.toSeconds(), TimeUnit.SECONDS);
    }
    assertEquals(1, journalRows(id), "only the tombstone is left");
    assertEquals(0, snapshotRows(id));

    String path = "/v1/sessions/" + id;
    assertError(410, "session_erased", call("GET", path, ada, null));
    assertError(410, "session_erased", call("GET", path + "/events", ada, null));
    assertError(410, "session_erased", call("GET", path + "/state", ada, null));
    assertError(410, "session_erased", call("GET", path + "/audit", sam, null));
    assertError(410, "session_erased", call("POST", path + "/messages", ada, "{\"text\":\"still there?\"}"));
    assertError(410, "session_erased", call("POST", path + "/close", sam, "{}"));
    assertError(410, "session_erased", call("POST", "/v1/sessions", ada, "{\"id\":\"" + id + "\"}"));

    // The audit record stays, for admins.
    JsonNode found = json(call("GET", "/v1/erasures/" + id, root, null));
    assertEquals(record.path("events").asLong(), found.path("events").asLong());
    assertEquals(record.path("erasedAt").asText(), found.path("erasedAt").asText());
    JsonNode listed = json(call("GET", "/v1/erasures?limit=1000", root, null)).path("erasures");
    boolean inList = false;
    for (JsonNode r : listed) inList |= id.equals(r.path("sessionId").asText());
    assertTrue(inList, listed.toString());

    // DELETE again: the same record; and a new incarnation of the session is just as erased.
    JsonNode again = json(call("DELETE", path, root, null));
    assertTrue(again.path("alreadyErased").asBoolean());
    assertEquals(record.path("events").asLong(), again.path("events").asLong());
    ClusterSharding.get(server.kit.system()).entityRefFor(SessionEntity.TYPE_KEY, id).tell(SessionCommand.Passivate.INSTANCE);
    assertError(410, "session_erased", callUntilAnswered("GET", path, ada));
    assertEquals(1, journalRows(id));
  }

  @Test
  void onlyAdminsEraseOrReadErasuresAndARefusalChangesNothing() {
    String id = sessionWithMessages(2);
    long head = head(id);
    for (String token : List.of(ada, sam, bot)) {
      assertError(403, "forbidden", call("DELETE", "/v1/sessions/" + id, token, null));
      assertError(403, "forbidden", call("GET", "/v1/erasures", token, null));
      assertError(403, "forbidden", call("GET", "/v1/erasures/" + id, token, null));
    }
    assertError(401, "unauthorized", call("DELETE", "/v1/sessions/" + id, null, null));
    // An admin's token limited to other sessions does not reach this one.
    String otherAdmin = server.tokens.issue("root-b", Role.ADMIN, List.of("other-*"), Duration.ofHours(1));
    assertError(403, "forbidden", call("DELETE", "/v1/sessions/" + id, otherAdmin, null));
    assertEquals(head, head(id));
    assertEquals(head, journalRows(id));
    assertEquals(head, json(call("GET", "/v1/sessions/" + id + "/events", ada, null)).path("events").size());
    assertError(404, "session_not_found", call("GET", "/v1/erasures/" + id, root, null));

    // A session that does not exist: not found, nothing recorded, and the id can still be created.
    String unknown = "era-unknown-" + UUID.randomUUID();
    assertError(404, "session_not_found", call("DELETE", "/v1/sessions/" + unknown, root, null));
    assertError(404, "session_not_found", call("GET", "/v1/erasures/" + unknown, root, null));
    assertEquals(201, call("POST", "/v1/sessions", ada, "{\"id\":\"" + unknown + "\"}").statusCode());
    assertError(400, "invalid_request", call("GET", "/v1/erasures?limit=0", root, null));
    assertError(400, "invalid_request", call("GET", "/v1/erasures?before=yesterday", root, null));
  }

  /** A request that reaches a stopping incarnation may time out (503): asked again until something else answers. */
  HttpResponse<String> callUntilAnswered(String method, String path, String token) {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    HttpResponse<String> r = call(method, path, token, null);
    while (r.statusCode() == 503 && System.nanoTime() < deadline) r = call(method, path, token, null);
    return r;
  }
}
