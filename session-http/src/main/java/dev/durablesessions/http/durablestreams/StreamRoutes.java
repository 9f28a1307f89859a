package dev.durablesessions.http.durablestreams;

import static dev.durablesessions.http.durablestreams.StreamHeaders.*;
import static dev.durablesessions.http.durablestreams.StreamRequests.PREFIX;
import static dev.durablesessions.http.durablestreams.StreamResponses.refused;
import static dev.durablesessions.http.durablestreams.StreamResponses.text;

import dev.durablesessions.durablestream.StreamCommand;
import dev.durablesessions.durablestream.StreamCreation;
import dev.durablesessions.durablestream.StreamEntity;
import dev.durablesessions.durablestream.StreamMessage;
import dev.durablesessions.durablestream.StreamMessages;
import dev.durablesessions.durablestream.StreamOffsets;
import dev.durablesessions.durablestream.StreamReader;
import dev.durablesessions.durablestream.StreamReply;
import dev.durablesessions.durablestream.StreamReply.Meta;
import dev.durablesessions.durablestream.StreamRules;
import dev.durablesessions.durablestream.StreamSettings;
import dev.durablesessions.http.Failures;
import dev.durablesessions.http.auth.BearerToken;
import dev.durablesessions.http.auth.Identity;
import dev.durablesessions.http.auth.Tokens;
import dev.durablesessions.http.limits.RateLimits;
import dev.durablesessions.http.limits.SubjectRate;
import dev.durablesessions.session.ErrorCode;
import dev.durablesessions.session.metrics.SessionMetrics;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.SharedKillSwitch;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * The Durable Streams HTTP protocol under {@code /v1/stream/{name}}: create (PUT, forks included),
 * append and close (POST), catch-up, long-poll and SSE reads (GET), metadata (HEAD), delete and
 * CORS preflight; docs/PROTOCOL.md describes it and every status code. This class checks the
 * token and the rate limits and passes each request on: {@link StreamRequests} reads it,
 * {@link StreamCreation}, {@link AppendLanes} and {@link StreamReader} take it to the stream's
 * entity (where everything that must be atomic happens), {@link StreamResponses} and
 * {@link Sse} write the answer.
 */
public final class StreamRoutes extends AllDirectives {
  private static final int MAX_NAME = 200;

  private final ClusterSharding sharding;
  /** Verifies bearer tokens unless streams are open. */
  private final Tokens tokens;
  /** No token is asked for: {@code durable-sessions.streams.open}, or dev mode. */
  private final boolean open;
  private final StreamSettings settings;
  private final Materializer materializer;
  private final Duration askTimeout;
  private final StreamReader reader;
  private final StreamCreation creation;
  private final AppendLanes lanes;
  private final StreamResponses responses = new StreamResponses();
  private final RateLimits limits;
  /** Ends every open SSE response when the node stops serving requests. */
  private final SharedKillSwitch readers;
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
      return refuse(request, text(400, "stream names are 1-" + MAX_NAME + " printable characters"));
    }
    if (request.method().equals(HttpMethods.OPTIONS)) return done(HttpResponse.create().withStatus(204));
    if (open) return dispatch(request, name, null);
    Optional<String> token = BearerToken.fromHeaderOrQuery(request);
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

  /** Answers without reading the body: it is drained, so the connection stays usable. */
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
    if (method.equals(HttpMethods.HEAD)) {
      return this.<StreamReply.DescribeReply>ask(name, r -> new StreamCommand.Describe(false, r)).thenApply(responses::described);
    }
    if (method.equals(HttpMethods.DELETE)) {
      return this.<StreamReply.DeleteReply>ask(name, StreamCommand.Delete::new).thenApply(responses::deleted);
    }
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

  /** PUT: create a stream or a fork (whose source the caller must be allowed to read). */
  private CompletionStage<HttpResponse> put(HttpRequest request, String name, Identity identity) {
    StreamRequests.CreateHeaders headers = StreamRequests.create(request);
    if (headers instanceof StreamRequests.Invalid invalid) return refuse(request, text(400, invalid.problem()));
    StreamRequests.Create create = (StreamRequests.Create) headers;
    String source = create.config().forkedFrom();
    if (identity != null && source != null && !identity.mayJoin(source)) {
      return refuse(request, text(403, identity.subject() + " may not read the fork source " + source));
    }
    String location = StreamRequests.location(request);
    return StreamRequests.body(request, settings.maxAppendBytes(), materializer).thenCompose(body -> {
      if (body.tooLarge()) return done(StreamResponses.tooLarge());
      return creation.create(name, create.config(), create.requestType(), body.bytes().toArrayUnsafe())
          .thenApply(reply -> responses.created(reply, location));
    });
  }

  /** POST: append (with a body), close (Stream-Closed: true), or both; batched per stream by {@link AppendLanes}. */
  private CompletionStage<HttpResponse> post(HttpRequest request, String name) {
    StreamRequests.AppendHeaders headers = StreamRequests.append(request);
    if (headers instanceof StreamRequests.Invalid invalid) return refuse(request, text(400, invalid.problem()));
    StreamRequests.Append append = (StreamRequests.Append) headers;
    String requestType = append.requestType();
    return StreamRequests.body(request, settings.maxAppendBytes(), materializer).thenCompose(body -> {
      if (body.tooLarge()) return done(StreamResponses.tooLarge());
      StreamMessage message = null;
      if (body.bytes().isEmpty()) {
        if (!append.close()) return done(text(400, "an append needs a body (or Stream-Closed: true to close)"));
      } else {
        if (requestType == null) return done(text(400, "an append needs a Content-Type"));
        StreamMessages.Parsed parsed = StreamMessages.body(body.bytes().toArrayUnsafe(), StreamRules.isJson(requestType), false);
        if (parsed instanceof StreamMessages.Invalid invalid) return done(text(400, invalid.problem()));
        message = ((StreamMessages.Message) parsed).message();
      }
      StreamCommand.AppendItem item = new StreamCommand.AppendItem(message, append.close(), StreamRules.normalise(requestType),
          append.producer(), append.streamSeq());
      return lanes.append(name, item).thenApply(responses::appended);
    });
  }

  /** GET: a catch-up read, a long-poll, or SSE. */
  private CompletionStage<HttpResponse> get(HttpRequest request, String name, Identity identity) {
    ReadQuery query = ReadQuery.of(request);
    if (query instanceof ReadQuery.Problem problem) return done(text(400, problem.message));
    ReadQuery.Read read = (ReadQuery.Read) query;
    if (read.sse()) return sse(name, read, identity);
    boolean longPoll = read.live() != null;
    long wait = longPoll ? settings.longPollTimeout().toMillis() : 0;
    Optional<String> ifNoneMatch = StreamRequests.header(request, "If-None-Match");
    return reader.read(name, read.from(), StreamOffsets.BEYOND, wait, settings.maxReadBytes(), true, false)
        .thenApply(reply -> responses.page(reply, read, longPoll, ifNoneMatch));
  }

  /**
   * Server-sent events: every message is a {@code data} event followed by a {@code control}
   * event carrying the offset after it; at the tail a control event says {@code upToDate}, and
   * after each long-poll timeout another one keeps the connection alive. A closed stream ends
   * with a final control event carrying {@code streamClosed} and the response completes.
   */
  private CompletionStage<HttpResponse> sse(String name, ReadQuery.Read read, Identity identity) {
    return reader.read(name, read.from(), StreamOffsets.BEYOND, 0, settings.maxReadBytes(), true, false).thenApply(reply -> {
      if (!(reply instanceof StreamReply.Page first)) return refused(reply);
      Meta m = first.meta();
      Sse framing = new Sse(StreamRules.isJson(m.contentType()), StreamRules.isBinary(m.contentType()), read.cursor());
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

  private <R extends StreamReply> CompletionStage<R> ask(String name, Function<ActorRef<R>, StreamCommand> command) {
    return sharding.entityRefFor(StreamEntity.TYPE_KEY, name).ask(command::apply, askTimeout);
  }

  private static CompletionStage<HttpResponse> done(HttpResponse response) {
    return CompletableFuture.completedFuture(response);
  }
}
