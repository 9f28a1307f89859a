package dev.durablesessions.http.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A real WebSocket client (the JDK's) that queues every frame it receives. With
 * {@code reading = false} it asks for no frames at all: a consumer that stopped reading.
 */
public final class WsClient implements WebSocket.Listener, AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  public static final Duration WAIT = Duration.ofSeconds(15);

  public final BlockingQueue<JsonNode> frames = new LinkedBlockingQueue<>();
  public final CompletableFuture<Integer> closed = new CompletableFuture<>();
  private final StringBuilder partial = new StringBuilder();
  private final boolean reading;
  public WebSocket socket;

  private WsClient(boolean reading) {
    this.reading = reading;
  }

  public static WsClient connect(String uri, String token) {
    return connect(uri, token, true);
  }

  public static WsClient connect(String uri, String token, boolean reading) {
    return connect(uri, token, reading, java.util.Map.of());
  }

  /** With more headers on the opening handshake (an {@code Origin}, say). */
  public static WsClient connect(String uri, String token, boolean reading, java.util.Map<String, String> headers) {
    WsClient client = new WsClient(reading);
    WebSocket.Builder builder = HttpClient.newHttpClient().newWebSocketBuilder().header("Authorization", "Bearer " + token);
    headers.forEach(builder::header);
    client.socket = builder.buildAsync(URI.create(uri), client).join();
    return client;
  }

  @Override
  public void onOpen(WebSocket webSocket) {
    if (reading) webSocket.request(1);
  }

  @Override
  public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
    partial.append(data);
    if (last) {
      try {
        frames.add(JSON.readTree(partial.toString()));
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
      partial.setLength(0);
    }
    webSocket.request(1);
    return null;
  }

  @Override
  public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
    closed.complete(statusCode);
    return null;
  }

  @Override
  public void onError(WebSocket webSocket, Throwable error) {
    closed.complete(-1);
  }

  /** Starts reading (for a client created with {@code reading = false}). */
  public void resume() {
    socket.request(1);
  }

  /** The JDK client allows one send at a time: sends from several threads (a heartbeat timer, the test) take turns. */
  public synchronized void send(String json) {
    socket.sendText(json, true).join();
  }

  /** A send that may find the socket closed already (heartbeats after a test aborted it). */
  public synchronized void trySend(String json) {
    if (socket.isOutputClosed()) return;
    try {
      socket.sendText(json, true).join();
    } catch (java.util.concurrent.CompletionException closedMeanwhile) {
      // the socket went away: nothing to keep alive
    }
  }

  /**
   * The next frame. Fails at once (naming the close code and the last frames seen) when the
   * socket has closed and nothing is left to read, rather than waiting out {@link #WAIT}.
   */
  public JsonNode next() {
    try {
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (true) {
        JsonNode frame = frames.poll(100, TimeUnit.MILLISECONDS);
        if (frame != null) {
          String shown = frame.toString();
          synchronized (recent) {
            recent.addLast(shown.length() > 200 ? shown.substring(0, 200) + "..." : shown);
            if (recent.size() > 5) recent.removeFirst();
          }
          return frame;
        }
        if (closed.isDone() && frames.isEmpty()) {
          throw new AssertionError("the socket closed (code " + closed.getNow(null) + ") with no frame left; last frames: " + recent);
        }
        if (System.nanoTime() > deadline) {
          assertNotNull(null, "no frame within " + WAIT + "; last frames: " + recent);
        }
      }
    } catch (InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The last few frames returned, shortened: named when a wait fails. */
  private final java.util.ArrayDeque<String> recent = new java.util.ArrayDeque<>();

  /** The next frame matching, skipping others. */
  public JsonNode next(Predicate<JsonNode> wanted) {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      JsonNode frame = next();
      if (wanted.test(frame)) return frame;
    }
    throw new AssertionError("no matching frame within " + WAIT);
  }

  public JsonNode nextOfType(String type) {
    return next(f -> type.equals(f.path("type").asText()));
  }

  public JsonNode expectError(String code) {
    JsonNode error = nextOfType("error");
    assertEquals(code, error.path("code").asText(), error.toString());
    return error;
  }

  public static boolean isEvent(JsonNode frame) {
    return frame.has("offset") && !"ack".equals(frame.path("type").asText());
  }

  @Override
  public void close() {
    if (socket != null && !socket.isOutputClosed()) socket.abort();
  }
}
