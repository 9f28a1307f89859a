package dev.durablesessions.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.ConfigFactory;
import dev.durablesessions.session.ErrorCode;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.LoggingTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.pattern.AskTimeoutException;
import org.apache.pekko.pattern.CircuitBreakerOpenException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import scala.concurrent.duration.FiniteDuration;

/**
 * Failures are answered as what they are: an ask that timed out is {@code timeout}, a failing
 * database is {@code unavailable} (both 503 with Retry-After), anything else is {@code internal}
 * (500) and logged with its stack trace. Provoked for real behind a real HTTP server; the
 * journal outage itself is {@link JournalOutageTest}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FailureAnswersTest extends AllDirectives {
  ActorTestKit kit;
  String base;
  final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  void start() {
    kit = ActorTestKit.create("failures", ConfigFactory.parseString("pekko.actor.provider = local").withFallback(ConfigFactory.load()));
    ActorRef<ActorRef<String>> silent = kit.spawn(Behaviors.<ActorRef<String>>ignore(), "silent");
    Route routes = concat(
        path("timeout", () -> onSuccess(
            AskPattern.<ActorRef<String>, String>ask(silent, r -> r, Duration.ofMillis(100), kit.system().scheduler()),
            answer -> complete(answer))),
        path("database", () -> onSuccess(CompletableFuture.supplyAsync(FailureAnswersTest::connectToNothing), ok -> complete("connected"))),
        path("bug", () -> onSuccess(CompletableFuture.supplyAsync(() -> {
          throw new IllegalStateException("a bug");
        }), ok -> complete("never"))));
    int port = HttpServer.start(kit.system(), routes, "127.0.0.1", 0).toCompletableFuture().join().localAddress().getPort();
    base = "http://127.0.0.1:" + port;
  }

  @AfterAll
  void stop() {
    kit.shutdownTestKit();
  }

  @Test
  void anAskThatTimesOutIsATimeoutWithRetryAfter() throws Exception {
    HttpResponse<String> r = get("/timeout");
    assertEquals(503, r.statusCode());
    assertEquals("timeout", code(r));
    assertEquals("2", r.headers().firstValue("Retry-After").orElse(null), "durable-sessions.http.retry-after");
  }

  @Test
  void aDatabaseThatCannotBeReachedIsUnavailableWithRetryAfter() throws Exception {
    HttpResponse<String> r = get("/database");
    assertEquals(503, r.statusCode());
    assertEquals("unavailable", code(r));
    assertTrue(r.headers().firstValue("Retry-After").isPresent());
  }

  @Test
  void anythingElseIsInternalAndLoggedWithItsStackTrace() {
    HttpResponse<String> r = LoggingTestKit.error("request failed").withCause(IllegalStateException.class)
        .expect(kit.system(), () -> get("/bug"));
    assertEquals(500, r.statusCode());
    assertEquals("internal", code(r));
    assertFalse(r.headers().firstValue("Retry-After").isPresent());
    assertEquals("internal error", body(r).path("error").path("message").asText(), "the cause stays in the log");
  }

  @Test
  void failuresAreClassifiedThroughTheWrappersAroundThem() {
    assertEquals(ErrorCode.TIMEOUT, Failures.classify(new CompletionException(new AskTimeoutException("no answer"))));
    assertEquals(ErrorCode.UNAVAILABLE, Failures.classify(
        new CompletionException(new RuntimeException(new SQLTransientConnectionException("pool timed out")))));
    assertEquals(ErrorCode.UNAVAILABLE, Failures.classify(new CircuitBreakerOpenException(
        FiniteDuration.create(1, "s"), "open")));
    assertEquals(ErrorCode.INTERNAL, Failures.classify(new CompletionException(new IllegalArgumentException("bug"))));
  }

  /** A real JDBC connection to a port nobody listens on. */
  static String connectToNothing() {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
    try (var c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/none?connectTimeout=2", "x", "")) {
      return "connected";
    } catch (SQLException e) {
      throw new CompletionException(e);
    }
  }

  HttpResponse<String> get(String path) {
    try {
      return http.send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10)).build(),
          HttpResponse.BodyHandlers.ofString());
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  static JsonNode body(HttpResponse<String> r) {
    try {
      return Json.MAPPER.readTree(r.body());
    } catch (Exception e) {
      throw new AssertionError(r.body(), e);
    }
  }

  static String code(HttpResponse<String> r) {
    return body(r).path("error").path("code").asText(r.body());
  }
}
