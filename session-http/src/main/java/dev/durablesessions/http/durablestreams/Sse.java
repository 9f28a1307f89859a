package dev.durablesessions.http.durablestreams;

import dev.durablesessions.durablestream.StreamMessage;
import dev.durablesessions.durablestream.StreamOffsets;
import dev.durablesessions.durablestream.StreamReply;
import java.nio.charset.StandardCharsets;
import dev.durablesessions.http.auth.Identity;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.apache.pekko.util.ByteStringBuilder;

/**
 * SSE framing of one read page. Each message is an {@code event: data} whose payload lines are
 * each prefixed with {@code data:} (a payload can never inject an event: CR, LF and CRLF all
 * split lines), followed by an {@code event: control} with the offset after it.
 */
final class Sse {
  final boolean json;
  final boolean base64;
  private final String cursor;

  Sse(boolean json, boolean base64, String cursor) {
    this.json = json;
    this.base64 = base64;
    this.cursor = cursor;
  }

  ByteString page(StreamReply.Page page) {
    StringBuilder b = new StringBuilder(256);
    int n = page.messages().size();
    boolean closed = page.closedAtTail();
    for (int i = 0; i < n; i++) {
      data(b, page.messages().get(i));
      long after = page.first() + i + 1;
      boolean last = i == n - 1;
      if (last && closed) closedControl(b, after);
      else control(b, after, last && page.upToDate());
    }
    if (n == 0) {
      if (closed) closedControl(b, page.next());
      else control(b, page.next(), page.upToDate());
    }
    return ByteString.fromString(b.toString(), StandardCharsets.UTF_8);
  }

  private void data(StringBuilder b, StreamMessage m) {
    b.append("event: data\n");
    if (base64) {
      b.append("data:").append(Base64.getEncoder().encodeToString(m.data())).append('\n');
    } else if (json) {
      b.append("data:[").append(new String(m.data(), StandardCharsets.UTF_8)).append("]\n");
    } else {
      String text = new String(m.data(), StandardCharsets.UTF_8);
      int start = 0;
      for (int i = 0; i < text.length(); i++) {
        char c = text.charAt(i);
        if (c == '\r' || c == '\n') {
          b.append("data:").append(text, start, i).append('\n');
          if (c == '\r' && i + 1 < text.length() && text.charAt(i + 1) == '\n') i++;
          start = i + 1;
        }
      }
      b.append("data:").append(text, start, text.length()).append('\n');
    }
    b.append('\n');
  }

  private void control(StringBuilder b, long offset, boolean upToDate) {
    control(b, offset, cursor, upToDate);
  }

  /** A control event with the offset after what was delivered; {@code upToDate} only when it reached the tail. */
  static void control(StringBuilder b, long offset, String cursor, boolean upToDate) {
    b.append("event: control\ndata:{\"streamNextOffset\":\"").append(StreamOffsets.format(offset))
        .append("\",\"streamCursor\":\"").append(Cursors.next(cursor)).append('"');
    if (upToDate) b.append(",\"upToDate\":true");
    b.append("}\n\n");
  }

  /**
   * An SSE response lives as long as the reader's token: at its {@code exp} a last
   * {@code closing} event ({@code token_expired}, resumable) goes out and the response ends; the
   * reader reconnects from its last offset with a fresh token (an expired one is refused with
   * {@code token_expired}). A response that ends on its own before that sends no such event.
   */
  static <M> Source<ByteString, M> untilTokenExpires(Source<ByteString, M> events, Identity identity) {
    if (identity == null || identity.expiresAt() == null) return events;
    Duration left = Duration.between(Instant.now(), identity.expiresAt());
    AtomicBoolean endedFirst = new AtomicBoolean();
    return events
        .concat(Source.lazySource(() -> {
          endedFirst.set(true);
          return Source.<ByteString>empty();
        }))
        .takeWithin(left.isNegative() ? Duration.ZERO : left)
        .concat(Source.lazySource(() -> endedFirst.get() ? Source.<ByteString>empty() : Source.single(TOKEN_EXPIRED)));
  }

  private static final ByteString TOKEN_EXPIRED = ByteString.fromString("event: closing\ndata:{\"code\":\"token_expired\","
      + "\"resumable\":true,\"message\":\"the token expired; reconnect with a fresh token from the last offset\"}\n\n",
      StandardCharsets.UTF_8);

  private static void closedControl(StringBuilder b, long offset) {
    b.append("event: control\ndata:{\"streamNextOffset\":\"").append(StreamOffsets.format(offset))
        .append("\",\"streamClosed\":true}\n\n");
  }
}
