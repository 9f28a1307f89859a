package dev.durablesessions.cluster.tools;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * A minimal terminal client for the README tour (only a JDK needed): connects a device to a
 * session's socket, prints every frame it receives on its own line, sends every line typed on
 * stdin as a frame, and sends a heartbeat frame every 10 seconds.
 *
 * <pre>java -cp session-cluster/target/session-cluster.jar dev.durablesessions.cluster.tools.Connect SESSION [OFFSET [DEVICE]]</pre>
 *
 * Reads DS_TOKEN (required) and DS_URL (default http://localhost:8080).
 */
public final class Connect {
  private Connect() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 1) {
      System.err.println("usage: Connect SESSION [OFFSET [DEVICE]]   (env: DS_TOKEN, DS_URL)");
      System.exit(2);
    }
    String token = System.getenv("DS_TOKEN");
    if (token == null || token.isBlank()) {
      System.err.println("set DS_TOKEN (a dev-mode node prints one at start)");
      System.exit(2);
    }
    String base = System.getenv().getOrDefault("DS_URL", "http://localhost:8080").replaceFirst("^http", "ws");
    String offset = args.length > 1 ? args[1] : "0";
    String device = args.length > 2 ? "&device=" + URLEncoder.encode(args[2], StandardCharsets.UTF_8) : "";
    URI uri = URI.create(base + "/v1/sessions/" + URLEncoder.encode(args[0], StandardCharsets.UTF_8) + "/ws?offset=" + offset + device);
    CompletableFuture<Void> closed = new CompletableFuture<>();
    WebSocket socket = HttpClient.newHttpClient().newWebSocketBuilder()
        .header("Authorization", "Bearer " + token)
        .buildAsync(uri, new WebSocket.Listener() {
          private final StringBuilder partial = new StringBuilder();

          @Override
          public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
              System.out.println(partial);
              partial.setLength(0);
            }
            ws.request(1);
            return null;
          }

          @Override
          public CompletionStage<?> onClose(WebSocket ws, int status, String reason) {
            System.err.println("closed: " + status + " " + reason);
            closed.complete(null);
            return null;
          }

          @Override
          public void onError(WebSocket ws, Throwable error) {
            System.err.println("error: " + error);
            closed.complete(null);
          }
        })
        .exceptionally(e -> {
          System.err.println("could not connect to " + uri + " (set DS_URL, e.g. DS_URL=http://127.0.0.1:8081 for the local cluster): " + e.getCause());
          System.exit(1);
          return null;
        })
        .join();
    Thread input = new Thread(() -> {
      try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
        for (String line; (line = in.readLine()) != null; ) {
          if (!line.isBlank()) socket.sendText(line, true).join();
        }
      } catch (Exception e) {
        closed.complete(null);
      }
    }, "stdin");
    input.setDaemon(true);
    input.start();
    // The server closes sockets that send nothing for its heartbeat timeout (30 s by default).
    java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "heartbeat");
      t.setDaemon(true);
      return t;
    }).scheduleAtFixedRate(() -> socket.sendText("{\"type\":\"heartbeat\"}", true), 10, 10, java.util.concurrent.TimeUnit.SECONDS);
    closed.join();
  }
}
