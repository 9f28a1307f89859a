package dev.durablesessions.http.fuzz;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * An HTTP/1.1 client on one kept-alive socket that writes requests byte for byte: any header
 * value or body bytes (invalid UTF-8 included) reach the server as given, which the JDK client
 * does not allow. It answers with the whole response, or, for a stream that does not end (SSE),
 * with its status, headers and first chunk, after which the connection is dropped. A response
 * that does not come within {@link #HANG} is a hang. Requests are answered one at a time: a
 * property's shrinking that jqwik stops at its time bound may still be running a try on another
 * thread while the test goes on, and two exchanges must not interleave on the one socket.
 */
public final class RawHttp implements AutoCloseable {
  public static final int HANG = 15_000;

  public record Response(int status, Map<String, List<String>> headers, byte[] body) {
    public String header(String name) {
      List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
      return values == null || values.isEmpty() ? null : values.get(0);
    }

    public String text() {
      return new String(body, StandardCharsets.UTF_8);
    }
  }

  /** A request header; the value is written as the given bytes. */
  public record Header(String name, byte[] value) {
    public static Header of(String name, String value) {
      return new Header(name, value.getBytes(StandardCharsets.UTF_8));
    }
  }

  private final int port;
  private Socket socket;
  private InputStream in;
  private OutputStream out;
  /** The last exchanges on this client, newest last: what a misread answer is explained by. */
  private final java.util.ArrayDeque<String> recent = new java.util.ArrayDeque<>();

  public RawHttp(int port) {
    this.port = port;
  }

  public synchronized Response send(String method, String target, List<Header> headers, byte[] body) {
    try {
      return exchange(method, target, headers, body);
    } catch (EOFException | java.net.SocketException closedWhileIdle) {
      // The server closed the kept-alive connection before this request was read: send it again on a new one.
      drop();
      try {
        return exchange(method, target, headers, body);
      } catch (IOException e) {
        throw new UncheckedIOException(method + " " + target, e);
      }
    } catch (SocketTimeoutException e) {
      drop();
      throw new AssertionError("no response within " + HANG + " ms (a hang): " + method + " " + abbreviate(target), e);
    } catch (IOException e) {
      drop();
      throw new UncheckedIOException(method + " " + target, e);
    }
  }

  private Response exchange(String method, String target, List<Header> headers, byte[] body) throws IOException {
    if (socket == null) {
      socket = new Socket();
      socket.connect(new InetSocketAddress("127.0.0.1", port), HANG);
      socket.setSoTimeout(HANG);
      socket.setTcpNoDelay(true);
      in = new java.io.BufferedInputStream(socket.getInputStream(), 64 * 1024);
      out = new java.io.BufferedOutputStream(socket.getOutputStream(), 64 * 1024);
    }
    ByteArrayOutputStream request = new ByteArrayOutputStream();
    request.writeBytes((method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
    boolean upgrade = false;
    for (Header h : headers) {
      request.writeBytes((h.name() + ": ").getBytes(StandardCharsets.ISO_8859_1));
      request.writeBytes(h.value());
      request.writeBytes(new byte[] {'\r', '\n'});
      upgrade |= h.name().equalsIgnoreCase("Upgrade");
    }
    if (body != null) request.writeBytes(("Content-Length: " + body.length + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
    request.writeBytes(new byte[] {'\r', '\n'});
    if (body != null) request.writeBytes(body);
    IOException writeFailed = null;
    try {
      out.write(request.toByteArray());
      out.flush();
    } catch (IOException e) {
      // the server may have answered (413) and closed before taking the whole body: read its answer
      writeFailed = e;
    }
    String statusLine;
    try {
      statusLine = line();
    } catch (IOException e) {
      if (writeFailed != null) throw writeFailed;
      throw e;
    }
    if (statusLine == null) throw new EOFException("connection closed before the response");
    if (!statusLine.matches("HTTP/1\\.1 \\d{3}( .*)?")) {
      drop();
      throw new AssertionError("not an HTTP status line (the previous response was read wrong?): " + abbreviate(statusLine)
          + "; request " + method + " " + abbreviate(target) + "; before it: " + recent());
    }
    int status = Integer.parseInt(statusLine.split(" ")[1]);
    Map<String, List<String>> responseHeaders = new LinkedHashMap<>();
    for (String l = line(); l != null && !l.isEmpty(); l = line()) {
      int colon = l.indexOf(':');
      responseHeaders.computeIfAbsent(l.substring(0, colon).trim().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
          .add(l.substring(colon + 1).trim());
    }
    Response head = new Response(status, responseHeaders, new byte[0]);
    if (status == 101 || (upgrade && status < 300)) {
      remember(method + " " + abbreviate(target) + " " + headerNames(headers) + " -> " + statusLine + ", upgraded, connection dropped");
      drop(); // a WebSocket was opened: close it, this client speaks HTTP only
      return head;
    }
    byte[] content;
    boolean keep = !"close".equalsIgnoreCase(head.header("Connection"));
    if (method.equals("HEAD") || status == 204 || status == 304 || status < 200) {
      content = new byte[0];
    } else if (head.header("Content-Length") != null) {
      content = in.readNBytes(Integer.parseInt(head.header("Content-Length")));
    } else if ("chunked".equalsIgnoreCase(head.header("Transfer-Encoding"))) {
      boolean endless = String.valueOf(head.header("Content-Type")).startsWith("text/event-stream");
      content = chunks(endless);
      if (endless) keep = false;
    } else {
      content = in.readAllBytes();
      keep = false;
    }
    if (!keep) drop();
    remember(method + " " + abbreviate(target) + " " + headerNames(headers) + " -> " + statusLine + " " + responseHeaders
        + " body " + content.length + " bytes" + (keep ? "" : ", connection dropped"));
    return new Response(status, responseHeaders, content);
  }

  /** The chunked body; of an endless one (SSE) only the first chunk. */
  private byte[] chunks(boolean firstOnly) throws IOException {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    while (true) {
      String size = line();
      if (size == null) throw new EOFException("connection closed inside a chunked body");
      int n = Integer.parseInt(size.split(";")[0].trim(), 16);
      if (n == 0) {
        for (String l = line(); l != null && !l.isEmpty(); l = line()) { /* trailers */ }
        return body.toByteArray();
      }
      body.writeBytes(in.readNBytes(n));
      line();
      if (firstOnly) return body.toByteArray();
    }
  }

  private String line() throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int c;
    while ((c = in.read()) != -1) {
      if (c == '\n') break;
      if (c != '\r') b.write(c);
    }
    if (c == -1 && b.size() == 0) return null;
    return b.toString(StandardCharsets.ISO_8859_1);
  }

  private void remember(String exchange) {
    if (recent.size() == 6) recent.removeFirst();
    recent.addLast(exchange);
  }

  /** The last few exchanges, oldest first, for failure messages. */
  public synchronized String recent() {
    return String.join("\n  ", recent);
  }

  private static List<String> headerNames(List<Header> headers) {
    return headers.stream().map(h -> h.name().equalsIgnoreCase("Authorization") ? h.name() : h.name() + "=" + abbreviate(new String(h.value(), StandardCharsets.UTF_8))).toList();
  }

  private void drop() {
    if (socket != null) {
      try {
        socket.close();
      } catch (IOException ignored) {
        // closing anyway
      }
    }
    socket = null;
  }

  static String abbreviate(String s) {
    return s.length() > 300 ? s.substring(0, 300) + "...(" + s.length() + " chars)" : s;
  }

  @Override
  public synchronized void close() {
    drop();
  }
}
