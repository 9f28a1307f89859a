package dev.durablesessions.http.socket;

/** One WebSocket message from the client, already bounded in size. */
public sealed interface Inbound {
  record Text(String text) implements Inbound {}

  record TooLarge(long bytes) implements Inbound {}

  record Binary() implements Inbound {}
}
