package dev.durablesessions.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

/** A WebSocket client (the JDK's) that hands each whole text frame to a callback. */
final class Socket implements WebSocket.Listener {
  private final StringBuilder partial = new StringBuilder();
  private final Consumer<String> onFrame;
  final WebSocket ws;

  Socket(HttpClient http, String uri, Consumer<String> onFrame) {
    this.onFrame = onFrame;
    this.ws = http.newWebSocketBuilder().buildAsync(URI.create(uri), this).join();
  }

  @Override
  public void onOpen(WebSocket w) {
    w.request(Long.MAX_VALUE); // a bench client reads as fast as frames come: no per-frame demand round trip
  }

  @Override
  public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
    partial.append(data);
    if (last) {
      onFrame.accept(partial.toString());
      partial.setLength(0);
    }
    return null;
  }

  void send(String frame) {
    ws.sendText(frame, true).join();
  }

  void close() {
    ws.abort();
  }
}
