package dev.durablesessions.http.durablestreams;

import static dev.durablesessions.http.durablestreams.StreamHeaders.*;

import dev.durablesessions.http.Failures;
import dev.durablesessions.http.auth.Identity;
import dev.durablesessions.http.auth.Tokens;
import dev.durablesessions.http.limits.RateLimits;
import dev.durablesessions.http.limits.SubjectRate;
import dev.durablesessions.session.ErrorCode;
import dev.durablesessions.session.metrics.SessionMetrics;
import dev.durablesessions.durablestream.StreamCommand;
import dev.durablesessions.durablestream.StreamConfig;
import dev.durablesessions.durablestream.StreamCreation;
import dev.durablesessions.durablestream.StreamEntity;
import dev.durablesessions.durablestream.StreamEvent.ProducerStamp;
import dev.durablesessions.durablestream.StreamMessage;
import dev.durablesessions.durablestream.StreamMessages;
import dev.durablesessions.durablestream.StreamReader;
import dev.durablesessions.durablestream.StreamOffsets;
import dev.durablesessions.durablestream.StreamReply;
import dev.durablesessions.durablestream.StreamReply.Meta;
import dev.durablesessions.durablestream.StreamRules;
import dev.durablesessions.durablestream.StreamSettings;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.RequestEntity;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.apache.pekko.util.ByteStringBuilder;

/**
 * The Durable Streams HTTP protocol under {@code /v1/stream/{name}}: create (PUT, forks included),
 * append and close (POST), catch-up, long-poll and SSE reads (GET), metadata (HEAD), delete and
 * CORS preflight. Everything that must be atomic happens in the stream's entity; fork creation
 * and reads through forks are {@link StreamCreation} and {@link StreamReader}; this class
 * validates the request and writes responses.
 * docs/PROTOCOL.md describes the protocol and every status code.
 */
public final class StreamRoutes extends AllDirectives {
  static final String PREFIX = "/v1/stream/";
  private static final Pattern TTL_VALUE = Pattern.compile("0|[1-9][0-9]{0,11}");
  private static final Pattern SUB_OFFSET = Pattern.compile("0|[1-9][0-9]{0,17}");
  private static final Pattern PRODUCER_NUMBER = Pattern.compile("[0-9]{1,16}");
  private static final long MAX_SAFE_INTEGER = (1L << 53) - 1;
  private static final int MAX_NAME = 200;
  /** What Pekko HTTP gives a request entity without a Content-Type header (this very instance). */
  private static final Object ABSENT_CONTENT_TYPE =
      org.apache.pekko.http.scaladsl.model.ContentTypes.application$divoctet$minusstream();
  private static final ByteString EMPTY_JSON_ARRAY = ByteString.fromString("[]");

  private final ClusterSharding sharding;
  /** Verifies bearer tokens unless streams are open. */
  private final Tokens tokens;
  /** No token is asked for: {@code durable-sessions.streams.open}, or dev mode. */
  private final boolean open;
  private final StreamSettings settings;
  private final Materializer materializer;
  private final ConcurrentHashMap<String, ContentType> contentTypes = new ConcurrentHashMap<>();
  private final Duration askTimeout;
  private final StreamReader reader;
  private final StreamCreation creation;
  private final AppendLanes lanes;
  private final RateLimits limits;
  /** Ends every open SSE response when the node stops serving requests. */
  private final org.apache.pekko.stream.SharedKillSwitch readers;
  private final org.slf4j.Logger log;

  public StreamRoutes(ActorSystem<?> system, StreamSettings settings, Tokens tokens) {
    this.tokens = tokens;
    this.sharding = ClusterSharding.get(system);
    this.settings = settings;
    this.materializer = Materializer.matFromSystem(system);
    this.askTimeout = settings.askTimeout();
    this.reader = new StreamReader(sharding, settings);
    this.creation = new StreamCreation(sharding, settings, reader);
    this.readers = Readers.onShutdown(system, "stream-sse-readers");
    this.lanes = new AppendLanes(sharding, askTimeout);
    this.log = system.log();
    this.limits = RateLimits.get(system);
    this.open = open(settings, system.settings().config());
    if (settings.open()) system.log().warn("Durable Streams under {} are open (durable-sessions.streams.open): no token is asked for", PREFIX);
  }

  /**
   * Streams need a token unless an operator opens them ({@code durable-sessions.streams.open})
   * or dev mode is on (its secret is public, so a token proves nothing there anyway).
   */
  static boolean open(StreamSettings settings, com.typesafe.config.Config config) {
    return settings.open() || config.getBoolean("durable-sessions.auth.dev-mode");
  }

  public Route routes() {
    return pathPrefix("v1", () -> pathPrefix("stream", () -> respondWithHeaders(GLOBAL, () ->
        extractRequest(request -> completeWithFuture(counted(request, handle(request).exceptionally(this::failed)))))));
  }

  private static CompletionStage<HttpResponse> counted(HttpRequest request, CompletionStage<HttpResponse> response) {
    String method = request.method().value();
    return response.thenApply(r -> {
      SessionMetrics.STREAM_REQUESTS.labelValues(method, Integer.toString(r.status().intValue())).inc();
      return r;
    });
  }

  /** A stream that did not answer in time, a journal that failed (both 503, retry), or a bug (500, logged). */
  private HttpResponse failed(Throwable e) {
    ErrorCode code = Failures.classify(e, log, "Durable Streams request");
    return text(code.httpStatus(), Failures.message(code, "the stream"));
  }

  CompletionStage<HttpResponse> handle(HttpRequest request) {
    String path = request.getUri().path();
    if (!path.startsWith(PREFIX) || path.length() == PREFIX.length()) return done(text(404, "no stream name in the path"));
    String name = path.substring(PREFIX.length());
    if (name.length() > MAX_NAME || name.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
      request.discardEntityBytes(materializer);
      return done(text(400, "stream names are 1-" + MAX_NAME + " printable characters"));
    }
    var method = request.method();
    if (method.equals(HttpMethods.OPTIONS)) return done(HttpResponse.create().withStatus(204));
    if (open) return dispatch(request, name, null);
    Optional<String> token = bearer(request);
    if (token.isEmpty()) return refuse(request, unauthorized("a bearer token is required"));
    return tokens.verify(token.get()).thenCompose(identity -> {
      if (identity.isEmpty()) {
        return refuse(request, unauthorized(Tokens.looksExpired(token.get())
            ? "token_expired: the token has expired; get a fresh one and resume from your last offset"
            : "invalid or expired token"));
      }
      if (!identity.get().mayJoin(name)) return refuse(request, text(403, identity.get().subject() + " may not use stream " + name));
      return dispatch(request, name, identity.get());
    });
  }

  private CompletionStage<HttpResponse> refuse(HttpRequest request, HttpResponse response) {
    request.discardEntityBytes(materializer);
    return done(response);
  }

  private static HttpResponse unauthorized(String why) {
    return text(401, why).addHeader(RawHeader.create("WWW-Authenticate", "Bearer"));
  }

  /** The request, once its token (if streams need one) is checked; {@code identity} is null when streams are open. */
  private CompletionStage<HttpResponse> dispatch(HttpRequest request, String name, Identity identity) {
    var method = request.method();
    if (identity != null && (method.equals(HttpMethods.PUT) || method.equals(HttpMethods.POST))) {
      Optional<HttpResponse> limited = limited(method.equals(HttpMethods.PUT), identity);
      if (limited.isPresent()) return refuse(request, limited.get());
    }
    if (method.equals(HttpMethods.PUT)) return put(request, name, identity);
    if (method.equals(HttpMethods.POST)) return post(request, name);
    if (method.equals(HttpMethods.GET)) return get(request, name, identity);
    request.discardEntityBytes(materializer);
    if (method.equals(HttpMethods.HEAD)) return head(name);
    if (method.equals(HttpMethods.DELETE)) return delete(name);
    return done(text(405, "method not allowed").addHeader(RawHeader.create("Allow", "GET, POST, PUT, DELETE, HEAD, OPTIONS")));
  }

  /**
   * A create counts against the subject's session creations, an append (or close) against its
   * appends; over the limit: 429 with Retry-After, and nothing reaches the stream.
   */
  private Optional<HttpResponse> limited(boolean create, Identity identity) {
    SubjectRate rate = create ? limits.sessionCreations() : limits.appends();
    long wait = rate.take(identity.subject());
    if (wait == 0) return Optional.empty();
    return Optional.of(text(429, RateLimits.message(identity.subject(), rate.rate(), create ? "creations" : "appends", wait))
        .addHeader(RawHeader.create("Retry-After", Long.toString(RateLimits.retryAfterSeconds(wait)))));
  }

  // ---- PUT: create, fork ----

  private CompletionStage<HttpResponse> put(HttpRequest request, String name, Identity identity) {
    Optional<String> ttlHeader = header(request, TTL);
    Optional<String> expiresHeader = header(request, EXPIRES_AT);
    Optional<String> forkedFrom = header(request, FORKED_FROM);
    Optional<String> forkOffsetHeader = header(request, FORK_OFFSET);
    Optional<String> subOffsetHeader = header(request, FORK_SUB_OFFSET);
    String problem = null;
    Long ttl = null;
    Long expiresAt = null;
    Long forkOffset = null;
    long subOffset = 0;
    if (ttlHeader.isPresent() && expiresHeader.isPresent()) {
      problem = "Stream-TTL and Stream-Expires-At cannot both be given";
    } else if (ttlHeader.isPresent()) {
      if (TTL_VALUE.matcher(ttlHeader.get()).matches()) ttl = Long.parseLong(ttlHeader.get());
      else problem = "Stream-TTL must be a whole number of seconds";
    } else if (expiresHeader.isPresent()) {
      expiresAt = parseTimestamp(expiresHeader.get());
      if (expiresAt == null) problem = "Stream-Expires-At must be an RFC 3339 timestamp";
    }
    if (problem == null && forkOffsetHeader.isPresent()) {
      if (!StreamOffsets.wellFormed(forkOffsetHeader.get())) problem = "Stream-Fork-Offset is not an offset";
      else forkOffset = StreamOffsets.parse(forkOffsetHeader.get());
    }
    if (problem == null && subOffsetHeader.isPresent()) {
      if (forkedFrom.isEmpty()) problem = "Stream-Fork-Sub-Offset needs Stream-Forked-From";
      else if (!SUB_OFFSET.matcher(subOffsetHeader.get()).matches()) problem = "Stream-Fork-Sub-Offset must be a whole number";
      else subOffset = Long.parseLong(subOffsetHeader.get());
    }
    if (problem == null && forkOffsetHeader.isPresent() && forkedFrom.isEmpty()) problem = "Stream-Fork-Offset needs Stream-Forked-From";
    String source = forkedFrom.map(StreamRoutes::streamName).orElse(null);
    if (problem == null && forkedFrom.isPresent() && (source == null || source.isEmpty())) problem = "Stream-Forked-From names no stream";
    if (problem != null) {
      request.discardEntityBytes(materializer);
      return done(text(400, problem));
    }
    if (identity != null && source != null && !identity.mayJoin(source)) {
      request.discardEntityBytes(materializer);
      return done(text(403, identity.subject() + " may not read the fork source " + source));
    }
    String requestType = requestContentType(request);
    StreamConfig config = new StreamConfig(StreamRules.normalise(requestType), ttl, expiresAt, closedHeader(request),
        source, forkOffset, subOffset);
    String location = location(request, name);
    return body(request).thenCompose(body -> {
      if (body.tooLarge()) return done(tooLarge());
      return creation.create(name, config, requestType, body.bytes().toArrayUnsafe()).thenApply(reply -> created(reply, location));
    });
  }

  private HttpResponse created(StreamReply.CreateReply reply, String location) {
    Meta m;
    if (reply instanceof StreamReply.Created c) m = c.meta();
    else if (reply instanceof StreamReply.Exists e) m = e.meta();
    else return status(reply);
    HttpResponse response = HttpResponse.create().withStatus(reply instanceof StreamReply.Created ? 201 : 200)
        .withEntity(HttpEntities.create(contentType(m.contentType()), new byte[0]))
        .addHeader(RawHeader.create(NEXT_OFFSET, StreamOffsets.format(m.tail())));
    if (reply instanceof StreamReply.Created) response = response.addHeader(RawHeader.create("Location", location));
    if (m.closed()) response = response.addHeader(RawHeader.create(CLOSED, "true"));
    return response;
  }

  // ---- POST: append, close ----

  private CompletionStage<HttpResponse> post(HttpRequest request, String name) {
    Optional<String> id = header(request, PRODUCER_ID);
    Optional<String> epoch = header(request, PRODUCER_EPOCH);
    Optional<String> seq = header(request, PRODUCER_SEQ);
    ProducerStamp producer = null;
    if (id.isPresent() || epoch.isPresent() || seq.isPresent()) {
      String problem = null;
      if (id.isEmpty() || epoch.isEmpty() || seq.isEmpty()) problem = "Producer-Id, Producer-Epoch and Producer-Seq go together";
      else if (id.get().isEmpty()) problem = "Producer-Id must not be empty";
      else if (!safeInteger(epoch.get()) || !safeInteger(seq.get())) problem = "Producer-Epoch and Producer-Seq are whole numbers";
      if (problem != null) {
        request.discardEntityBytes(materializer);
        return done(text(400, problem));
      }
      producer = new ProducerStamp(id.get(), Long.parseLong(epoch.get()), Long.parseLong(seq.get()));
    }
    boolean close = closedHeader(request);
    String streamSeq = header(request, SEQ).orElse(null);
    String requestType = requestContentType(request);
    ProducerStamp stamp = producer;
    return body(request).thenCompose(body -> {
      if (body.tooLarge()) return done(tooLarge());
      StreamMessage message = null;
      if (body.bytes().isEmpty()) {
        if (!close) return done(text(400, "an append needs a body (or Stream-Closed: true to close)"));
      } else {
        if (requestType == null) return done(text(400, "an append needs a Content-Type"));
        StreamMessages.Parsed parsed = StreamMessages.body(body.bytes().toArrayUnsafe(), StreamRules.isJson(requestType), false);
        if (parsed instanceof StreamMessages.Invalid invalid) return done(text(400, invalid.problem()));
        message = ((StreamMessages.Message) parsed).message();
      }
      return lanes.append(name, new StreamCommand.AppendItem(message, close, StreamRules.normalise(requestType), stamp, streamSeq))
          .thenApply(this::appended);
    });
  }

  /** Written (200 for a producer's data, else 204), or a producer's retry (204); anything else is a refusal. */
  private HttpResponse appended(StreamReply.AppendReply reply) {
    if (reply instanceof StreamReply.Appended a) return appended(204, a.meta());
    if (reply instanceof StreamReply.ProducerAppended a) return withProducer(appended(200, a.meta()), a.epoch(), a.seq());
    if (reply instanceof StreamReply.ProducerClosed a) return withProducer(appended(204, a.meta()), a.epoch(), a.seq());
    if (reply instanceof StreamReply.Duplicate a) return withProducer(appended(204, a.meta()), a.epoch(), a.seq());
    return status(reply);
  }

  private static HttpResponse appended(int status, Meta m) {
    HttpResponse response = HttpResponse.create().withStatus(status).addHeader(RawHeader.create(NEXT_OFFSET, StreamOffsets.format(m.tail())));
    return m.closed() ? response.addHeader(RawHeader.create(CLOSED, "true")) : response;
  }

  private static HttpResponse withProducer(HttpResponse response, long epoch, long seq) {
    return response.addHeader(RawHeader.create(PRODUCER_EPOCH, Long.toString(epoch)))
        .addHeader(RawHeader.create(PRODUCER_SEQ, Long.toString(seq)));
  }

  // ---- HEAD, DELETE ----

  private CompletionStage<HttpResponse> head(String name) {
    return this.<StreamReply.DescribeReply>ask(name, r -> new StreamCommand.Describe(false, r)).thenApply(reply -> {
      if (!(reply instanceof StreamReply.Described described)) return HttpResponse.create().withStatus(httpStatus(reply));
      Meta m = described.meta();
      HttpResponse response = HttpResponse.create().withStatus(200)
          .withEntity(HttpEntities.create(contentType(m.contentType()), new byte[0]))
          .addHeader(RawHeader.create(NEXT_OFFSET, StreamOffsets.format(m.tail())))
          .addHeader(RawHeader.create("Cache-Control", "no-store"))
          .addHeader(RawHeader.create("ETag", etag(m, "-1", m.tail(), m.closed())));
      if (m.closed()) response = response.addHeader(RawHeader.create(CLOSED, "true"));
      if (m.ttlSeconds() != null) response = response.addHeader(RawHeader.create(TTL, Long.toString(m.ttlSeconds())));
      if (m.expiresAt() != null) {
        response = response.addHeader(RawHeader.create(EXPIRES_AT, Instant.ofEpochMilli(m.expiresAt()).toString()));
      }
      return response;
    });
  }

  private CompletionStage<HttpResponse> delete(String name) {
    return this.<StreamReply.DeleteReply>ask(name, StreamCommand.Delete::new)
        .thenApply(reply -> reply instanceof StreamReply.Deleted ? HttpResponse.create().withStatus(204) : status(reply));
  }

  // ---- GET: catch-up, long-poll, SSE ----

  private CompletionStage<HttpResponse> get(HttpRequest request, String name, Identity identity) {
    Query query;
    try {
      query = Query.parse(request.getUri().rawQueryString().orElse(""));
    } catch (IllegalArgumentException e) {
      return done(text(400, "malformed query string"));
    }
    List<String> offsets = query.all("offset");
    List<String> lives = query.all("live");
    if (offsets.size() > 1) return done(text(400, "offset given more than once"));
    if (lives.size() > 1) return done(text(400, "live given more than once"));
    String live = lives.isEmpty() ? null : lives.get(0);
    if (live != null && !live.equals("long-poll") && !live.equals("sse")) return done(text(400, "live is long-poll or sse"));
    if (live != null && offsets.isEmpty()) return done(text(400, "a live read needs an offset"));
    String offsetText = offsets.isEmpty() ? "-1" : offsets.get(0);
    Long from = StreamOffsets.parseQuery(offsetText);
    if (from == null) return done(text(400, "offset must be -1, now or an offset this server returned"));
    String cursor = query.all("cursor").stream().findFirst().orElse(null);
    if ("sse".equals(live)) return sse(name, from, cursor, identity);
    boolean longPoll = live != null;
    long wait = longPoll ? settings.longPollTimeout().toMillis() : 0;
    Optional<String> ifNoneMatch = header(request, "If-None-Match");
    return reader.read(name, from, StreamOffsets.BEYOND, wait, settings.maxReadBytes(), true, false).thenApply(reply -> {
      if (!(reply instanceof StreamReply.Page page)) return status(reply);
      Meta m = page.meta();
      boolean closedAtTail = page.closedAtTail();
      List<HttpHeader> headers = new ArrayList<>(6);
      headers.add(RawHeader.create(NEXT_OFFSET, StreamOffsets.format(page.next())));
      if (page.upToDate()) headers.add(RawHeader.create(UP_TO_DATE, "true"));
      if (closedAtTail) headers.add(RawHeader.create(CLOSED, "true"));
      if (longPoll) headers.add(RawHeader.create(CURSOR, Cursors.next(cursor)));
      if (from == StreamOffsets.NOW) headers.add(RawHeader.create("Cache-Control", "no-store"));
      if (longPoll && page.messages().isEmpty()) return HttpResponse.create().withStatus(204).addHeaders(headers);
      String etag = etag(m, offsetText, page.next(), closedAtTail);
      headers.add(RawHeader.create("ETag", etag));
      if (ifNoneMatch.isPresent() && matches(ifNoneMatch.get(), etag)) {
        return HttpResponse.create().withStatus(304).addHeaders(headers);
      }
      return HttpResponse.create().withStatus(200).addHeaders(headers)
          .withEntity(HttpEntities.create(contentType(m.contentType()), body(page.messages(), StreamRules.isJson(m.contentType()))));
    });
  }

  /**
   * Server-sent events: every message is a {@code data} event followed by a {@code control}
   * event carrying the offset after it; at the tail a control event says {@code upToDate}, and
   * after each long-poll timeout another one keeps the connection alive. A closed stream ends
   * with a final control event carrying {@code streamClosed} and the response completes.
   */
  private CompletionStage<HttpResponse> sse(String name, long from, String cursor, Identity identity) {
    return reader.read(name, from, StreamOffsets.BEYOND, 0, settings.maxReadBytes(), true, false).thenApply(reply -> {
      if (!(reply instanceof StreamReply.Page first)) return status(reply);
      Meta m = first.meta();
      Sse framing = new Sse(StreamRules.isJson(m.contentType()), StreamRules.isBinary(m.contentType()), cursor);
      long wait = settings.longPollTimeout().toMillis();
      Source<ByteString, ?> rest = Source.unfoldAsync(first.closedAtTail() ? -1L : first.next(), offset -> {
        if (offset < 0) return CompletableFuture.completedFuture(Optional.<Pair<Long, ByteString>>empty());
        return reader.read(name, offset, StreamOffsets.BEYOND, wait, settings.maxReadBytes(), true, false).thenApply(next -> {
          if (!(next instanceof StreamReply.Page page)) return Optional.<Pair<Long, ByteString>>empty();
          return Optional.of(Pair.create(page.closedAtTail() ? -1L : page.next(), framing.page(page)));
        });
      });
      Source<ByteString, ?> events = Sse.untilTokenExpires(Source.single(framing.page(first)).concat(rest), identity).via(readers.flow());
      HttpResponse response = HttpResponse.create().withStatus(200)
          .withEntity(HttpEntities.createChunked(MediaTypes.TEXT_EVENT_STREAM.toContentType(), events))
          .addHeader(RawHeader.create("Cache-Control", "no-cache"));
      if (framing.base64) response = response.addHeader(RawHeader.create(SSE_ENCODING, "base64"));
      return response;
    });
  }

  // ---- helpers ----

  private <R extends StreamReply> CompletionStage<R> ask(String name, Function<ActorRef<R>, StreamCommand> command) {
    return sharding.entityRefFor(StreamEntity.TYPE_KEY, name).ask(command::apply, askTimeout);
  }

  private static ByteString body(List<StreamMessage> messages, boolean json) {
    if (json) {
      if (messages.isEmpty()) return EMPTY_JSON_ARRAY;
      ByteStringBuilder b = ByteString.createBuilder();
      b.putByte((byte) '[');
      for (int i = 0; i < messages.size(); i++) {
        if (i > 0) b.putByte((byte) ',');
        b.putBytes(messages.get(i).data());
      }
      b.putByte((byte) ']');
      return b.result();
    }
    if (messages.size() == 1) return ByteString.fromArrayUnsafe(messages.get(0).data());
    ByteStringBuilder b = ByteString.createBuilder();
    for (StreamMessage m : messages) b.putBytes(m.data());
    return b.result();
  }

  record Body(ByteString bytes, boolean tooLarge) {}

  /** The whole body, or {@code tooLarge} (after reading and dropping the rest, so the client sees the answer). */
  private CompletionStage<Body> body(HttpRequest request) {
    RequestEntity entity = request.entity();
    int max = settings.maxAppendBytes();
    if (entity instanceof HttpEntity.Strict strict) {
      ByteString data = strict.getData();
      return CompletableFuture.completedFuture(data.size() > max ? new Body(ByteString.emptyByteString(), true) : new Body(data, false));
    }
    return entity.withoutSizeLimit().getDataBytes().runFold(new Body(ByteString.emptyByteString(), false), (acc, chunk) -> {
      if (acc.tooLarge() || acc.bytes().size() + chunk.size() > max) return new Body(ByteString.emptyByteString(), true);
      return new Body(acc.bytes().concat(chunk), false);
    }, materializer);
  }

  /**
   * The request's Content-Type, or null when it had none. Pekko HTTP gives a request without
   * the header its shared application/octet-stream constant; a parsed header is never that
   * instance.
   */
  static String requestContentType(HttpRequest request) {
    ContentType type = request.entity().getContentType();
    if (type == ContentTypes.NO_CONTENT_TYPE || type == ABSENT_CONTENT_TYPE) return null;
    return type.toString();
  }

  private ContentType contentType(String value) {
    ContentType cached = contentTypes.get(value);
    if (cached != null) return cached;
    ContentType parsed;
    try {
      parsed = ContentTypes.parse(value);
    } catch (RuntimeException e) {
      parsed = ContentTypes.APPLICATION_OCTET_STREAM;
    }
    if (contentTypes.size() < 1000) contentTypes.put(value, parsed);
    return parsed;
  }

  /** A bearer token from {@code Authorization}, or {@code access_token} where a browser cannot set headers (EventSource). */
  private static Optional<String> bearer(HttpRequest request) {
    Optional<String> header = header(request, "Authorization")
        .filter(v -> v.regionMatches(true, 0, "Bearer ", 0, 7))
        .map(v -> v.substring(7).trim());
    if (header.isPresent()) return header;
    try {
      return Query.parse(request.getUri().rawQueryString().orElse("")).all("access_token").stream().findFirst();
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  private static Optional<String> header(HttpRequest request, String name) {
    return request.getHeader(name).map(HttpHeader::value);
  }

  private static boolean closedHeader(HttpRequest request) {
    return header(request, CLOSED).map(v -> v.trim().equalsIgnoreCase("true")).orElse(false);
  }

  private static boolean safeInteger(String s) {
    return PRODUCER_NUMBER.matcher(s).matches() && Long.parseLong(s) <= MAX_SAFE_INTEGER;
  }

  /** Epoch milliseconds, or null for what is no RFC 3339 timestamp or lies beyond what they hold (the year 292278994). */
  private static Long parseTimestamp(String value) {
    try {
      return OffsetDateTime.parse(value.trim()).toInstant().toEpochMilli();
    } catch (DateTimeParseException | ArithmeticException e) {
      try {
        return Instant.parse(value.trim()).toEpochMilli();
      } catch (DateTimeParseException | ArithmeticException e2) {
        return null;
      }
    }
  }

  /** {@code Stream-Forked-From}: the source's path ({@code /v1/stream/name}), a full URL, or a bare name. */
  static String streamName(String value) {
    String v = value.trim();
    if (v.startsWith("http://") || v.startsWith("https://")) {
      try {
        v = URI.create(v).getPath();
      } catch (IllegalArgumentException e) {
        return null;
      }
    }
    if (v.startsWith(PREFIX)) v = v.substring(PREFIX.length());
    try {
      return URLDecoder.decode(v.replace("+", "%2B"), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private static String location(HttpRequest request, String name) {
    String host = request.getHeader("Host").map(HttpHeader::value).orElse("localhost");
    return "http://" + host + request.getUri().path();
  }

  static String etag(Meta m, String requestedOffset, long next, boolean closed) {
    return "\"" + m.incarnation() + ":" + requestedOffset + ":" + StreamOffsets.format(next) + (closed ? ":c" : "") + "\"";
  }

  private static boolean matches(String ifNoneMatch, String etag) {
    for (String candidate : ifNoneMatch.split(",")) {
      String c = candidate.trim();
      if (c.startsWith("W/")) c = c.substring(2);
      if (c.equals(etag) || c.equals("*")) return true;
    }
    return false;
  }

  /** A refusal as its status, message and the headers its kind carries; any other reply here is a bug. */
  private static HttpResponse status(StreamReply reply) {
    if (!(reply instanceof StreamReply.Refusal refusal)) throw new IllegalStateException("not a refusal: " + reply);
    HttpResponse response = text(httpStatus(refusal), refusal.message());
    if (refusal instanceof StreamReply.Closed c) {
      return response.addHeader(RawHeader.create(CLOSED, "true")).addHeader(RawHeader.create(NEXT_OFFSET, StreamOffsets.format(c.meta().tail())));
    }
    if (refusal instanceof StreamReply.StaleEpoch e) return response.addHeader(RawHeader.create(PRODUCER_EPOCH, Long.toString(e.epoch())));
    if (refusal instanceof StreamReply.SeqGap g) {
      return response.addHeader(RawHeader.create(PRODUCER_EXPECTED_SEQ, Long.toString(g.expected())))
          .addHeader(RawHeader.create(PRODUCER_RECEIVED_SEQ, Long.toString(g.received())));
    }
    return response;
  }

  static int httpStatus(StreamReply reply) {
    if (reply instanceof StreamReply.NotFound) return 404;
    if (reply instanceof StreamReply.Gone) return 410;
    if (reply instanceof StreamReply.Conflict || reply instanceof StreamReply.Closed || reply instanceof StreamReply.SeqGap) return 409;
    if (reply instanceof StreamReply.StaleEpoch) return 403;
    if (reply instanceof StreamReply.BadRequest) return 400;
    if (reply instanceof StreamReply.Unavailable) return 503;
    throw new IllegalStateException("not a refusal: " + reply);
  }

  private static HttpResponse tooLarge() {
    return text(413, "the body is larger than durable-sessions.streams.max-append-bytes");
  }

  static HttpResponse text(int status, String message) {
    return HttpResponse.create().withStatus(status).withEntity(ContentTypes.TEXT_PLAIN_UTF8, message);
  }

  private static CompletionStage<HttpResponse> done(HttpResponse response) {
    return CompletableFuture.completedFuture(response);
  }

  /** Query parameters, keeping repeats and telling "absent" from "empty". */
  record Query(List<Pair<String, String>> pairs) {
    static Query parse(String raw) {
      List<Pair<String, String>> pairs = new ArrayList<>();
      if (!raw.isEmpty()) {
        for (String part : raw.split("&", -1)) {
          if (part.isEmpty()) continue;
          int eq = part.indexOf('=');
          String key = URLDecoder.decode(eq < 0 ? part : part.substring(0, eq), StandardCharsets.UTF_8);
          String value = eq < 0 ? "" : URLDecoder.decode(part.substring(eq + 1), StandardCharsets.UTF_8);
          pairs.add(Pair.create(key, value));
        }
      }
      return new Query(pairs);
    }

    List<String> all(String key) {
      List<String> out = new ArrayList<>(1);
      for (Pair<String, String> p : pairs) if (p.first().equals(key)) out.add(p.second());
      return out;
    }
  }
}
