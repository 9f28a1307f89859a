package dev.durablesessions.http.durablestreams;

import static dev.durablesessions.http.durablestreams.StreamHeaders.*;

import dev.durablesessions.http.ApiError;
import dev.durablesessions.http.Failures;
import dev.durablesessions.http.Json;
import dev.durablesessions.http.auth.Identity;
import dev.durablesessions.session.ErrorCode;
import dev.durablesessions.session.Outcome;
import dev.durablesessions.session.SessionCommand;
import dev.durablesessions.session.SessionEntity;
import dev.durablesessions.session.SessionEvent;
import dev.durablesessions.session.SummaryReply;
import dev.durablesessions.session.resume.FollowerSettings;
import dev.durablesessions.session.resume.SessionFollower;
import dev.durablesessions.session.resume.SessionJournal;
import dev.durablesessions.durablestream.StreamOffsets;
import dev.durablesessions.durablestream.StreamSettings;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.OverflowStrategy;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.typed.javadsl.ActorSource;
import org.apache.pekko.util.ByteString;

/**
 * A session's event log through the read side of the Durable Streams protocol, so a Durable
 * Streams client can follow a session: {@code GET /v1/sessions/{id}/stream} with
 * {@code offset} (-1, now, or an offset), catch-up, {@code live=long-poll} and
 * {@code live=sse}; HEAD for the tail. The offset after event N is N. Each event is one JSON
 * value, exactly as the history endpoint shows it; events the caller may not see are left out
 * (offsets still move past them). Live reads follow the session through a
 * {@link SessionFollower}, so they survive the session moving between nodes.
 */
public final class SessionLogRoutes extends AllDirectives {
  private static final int PAGE = 500;
  private static final int LIVE_BUFFER = 256;

  private final ActorSystem<?> system;
  private final ClusterSharding sharding;
  private final SessionJournal journal;
  private final FollowerSettings followerSettings;
  private final Duration longPoll;
  private final Duration askTimeout;
  private final Materializer materializer;
  /** Ends every open read (and so its follower) when the node stops serving requests. */
  private final org.apache.pekko.stream.SharedKillSwitch readers;

  public SessionLogRoutes(ActorSystem<?> system, SessionJournal journal, FollowerSettings followerSettings,
      StreamSettings streamSettings, Duration askTimeout) {
    this.system = system;
    this.sharding = ClusterSharding.get(system);
    this.journal = journal;
    this.followerSettings = followerSettings;
    this.longPoll = streamSettings.longPollTimeout();
    this.askTimeout = askTimeout;
    this.materializer = Materializer.matFromSystem(system);
    this.readers = Readers.onShutdown(system, "session-log-readers");
  }

  public Route route(String sessionId, Identity identity) {
    return respondWithHeaders(GLOBAL, () -> extractRequest(request ->
        completeWithFuture(handle(request, sessionId, identity).exceptionally(e ->
            Failures.response(e, system.log(), "session log read", "the session")))));
  }

  private CompletionStage<HttpResponse> handle(HttpRequest request, String sessionId, Identity identity) {
    boolean head = request.method().equals(HttpMethods.HEAD);
    if (!head && !request.method().equals(HttpMethods.GET)) {
      return done(ApiError.response(ErrorCode.METHOD_NOT_ALLOWED, "a session log is read with GET or HEAD"));
    }
    ReadQuery parsed = ReadQuery.of(request);
    if (parsed instanceof ReadQuery.Problem problem) return done(refused(problem));
    ReadQuery.Read read = (ReadQuery.Read) parsed;
    long from = read.from();
    String live = read.live();
    String cursor = read.cursor();
    return sharding.entityRefFor(SessionEntity.TYPE_KEY, sessionId).<SummaryReply>ask(SessionCommand.GetSummary::new, askTimeout)
        .thenCompose(reply -> {
          if (reply instanceof Outcome.Refused refused) return done(ApiError.response(refused.code(), refused.message()));
          long tail = ((SummaryReply.Summary) reply).head();
          long start = from == StreamOffsets.NOW ? tail : from == StreamOffsets.FROM_START ? 0 : from;
          if (start > tail) {
            return done(ApiError.response(ErrorCode.OFFSET_BEYOND_HEAD, "offset is beyond the session's head " + tail));
          }
          if (head) {
            return done(HttpResponse.create().withStatus(200)
                .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, new byte[0]))
                .addHeader(RawHeader.create(NEXT_OFFSET, StreamOffsets.format(tail)))
                .addHeader(RawHeader.create("Cache-Control", "no-store")));
          }
          if ("sse".equals(live)) return done(sse(sessionId, identity, start, tail, cursor));
          if (start < tail || live == null) return catchUp(sessionId, identity, start, tail, live != null, cursor, from == StreamOffsets.NOW);
          return longPoll(sessionId, identity, start, cursor);
        });
  }

  /** A read's query problem in the session API's terms: its error codes, and one wording for a repeated parameter. */
  private static HttpResponse refused(ReadQuery.Problem problem) {
    switch (problem) {
      case MALFORMED:
      case LIVE_UNKNOWN:
        return ApiError.response(ErrorCode.INVALID_REQUEST, problem.message);
      case OFFSET_REPEATED:
      case LIVE_REPEATED:
        return ApiError.response(ErrorCode.INVALID_REQUEST, "offset and live are given once");
      case LIVE_WITHOUT_OFFSET:
      case OFFSET_UNKNOWN:
        return ApiError.response(ErrorCode.INVALID_OFFSET, problem.message);
      default:
        throw new IllegalStateException("unhandled read query problem " + problem);
    }
  }

  private CompletionStage<HttpResponse> catchUp(String sessionId, Identity identity, long start, long tail, boolean live,
      String cursor, boolean now) {
    long to = Math.min(tail, start + PAGE);
    CompletionStage<List<SessionEvent>> page = start == tail ? CompletableFuture.completedFuture(List.of())
        : journal.read(sessionId, start + 1, to);
    return page.thenApply(events -> {
      long next = events.isEmpty() ? start : events.get(events.size() - 1).offset();
      List<HttpHeader> headers = new ArrayList<>();
      headers.add(RawHeader.create(NEXT_OFFSET, StreamOffsets.format(next)));
      if (next >= tail) headers.add(RawHeader.create(UP_TO_DATE, "true"));
      if (live) headers.add(RawHeader.create(CURSOR, Cursors.next(cursor)));
      if (now) headers.add(RawHeader.create("Cache-Control", "no-store"));
      return HttpResponse.create().withStatus(200).addHeaders(headers)
          .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, jsonArray(visible(events, identity))));
    });
  }

  /** At the head: wait up to the long-poll timeout for the next events this caller may see. */
  private CompletionStage<HttpResponse> longPoll(String sessionId, Identity identity, long start, String cursor) {
    Pair<ActorRef<SessionFollower.Delivery>, Source<SessionFollower.Delivery, ?>> feed = follow(sessionId, identity, start);
    return feed.second()
        .filter(d -> d instanceof SessionFollower.Deliver deliver && !visible(deliver.events(), identity).isEmpty())
        .takeWithin(longPoll)
        .runWith(Sink.headOption(), materializer)
        .thenApply(first -> {
          List<HttpHeader> headers = new ArrayList<>();
          headers.add(RawHeader.create(UP_TO_DATE, "true"));
          headers.add(RawHeader.create(CURSOR, Cursors.next(cursor)));
          if (first.isEmpty()) {
            headers.add(RawHeader.create(NEXT_OFFSET, StreamOffsets.format(start)));
            return HttpResponse.create().withStatus(204).addHeaders(headers);
          }
          List<SessionEvent> events = ((SessionFollower.Deliver) first.get()).events();
          headers.add(RawHeader.create(NEXT_OFFSET, StreamOffsets.format(events.get(events.size() - 1).offset())));
          return HttpResponse.create().withStatus(200).addHeaders(headers)
              .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, jsonArray(visible(events, identity))));
        });
  }

  /**
   * SSE: a control event first (where the reader starts), then each batch of events as a data
   * event (a JSON array) followed by a control event with the offset after it, and a keep-alive
   * control event every long-poll timeout.
   */
  private HttpResponse sse(String sessionId, Identity identity, long start, long tail, String cursor) {
    Pair<ActorRef<SessionFollower.Delivery>, Source<SessionFollower.Delivery, ?>> feed = follow(sessionId, identity, start);
    AtomicLong delivered = new AtomicLong(start);
    Source<ByteString, ?> events = feed.second().map(d -> {
      StringBuilder b = new StringBuilder();
      if (d instanceof SessionFollower.Deliver deliver && !deliver.events().isEmpty()) {
        long next = deliver.events().get(deliver.events().size() - 1).offset();
        delivered.set(next);
        List<SessionEvent> shown = visible(deliver.events(), identity);
        if (!shown.isEmpty()) b.append("event: data\ndata:").append(jsonArray(shown).utf8String()).append("\n\n");
        Sse.control(b, next, cursor, !deliver.wantsReady());
      } else if (d instanceof SessionFollower.Attached attached) {
        Sse.control(b, start, cursor, start >= attached.head());
      }
      return ByteString.fromString(b.toString(), StandardCharsets.UTF_8);
    }).filter(bytes -> !bytes.isEmpty());
    Source<ByteString, ?> keepAlive = Source.tick(longPoll, longPoll, "tick").map(t -> {
      StringBuilder b = new StringBuilder();
      Sse.control(b, delivered.get(), cursor, true);
      return ByteString.fromString(b.toString(), StandardCharsets.UTF_8);
    });
    return HttpResponse.create().withStatus(200)
        .withEntity(HttpEntities.createChunked(MediaTypes.TEXT_EVENT_STREAM.toContentType(),
            Sse.untilTokenExpires(events.merge(keepAlive, true), identity)))
        .addHeader(RawHeader.create("Cache-Control", "no-cache"));
  }

  /**
   * A follower of the session from {@code after}, delivering into the returned source. It is
   * stopped when the source completes or is cancelled (the client went away).
   */
  private Pair<ActorRef<SessionFollower.Delivery>, Source<SessionFollower.Delivery, ?>> follow(
      String sessionId, Identity identity, long after) {
    Source<SessionFollower.Delivery, ActorRef<SessionFollower.Delivery>> source = ActorSource.actorRef(
        d -> false,
        d -> d instanceof SessionFollower.Failed f ? Optional.of(new IllegalStateException(f.message())) : Optional.empty(),
        LIVE_BUFFER, OverflowStrategy.fail());
    // However the source ends (completed, cancelled by the client, ended at shutdown, or never
    // subscribed and timed out), the follower is stopped with it.
    CompletableFuture<org.apache.pekko.Done> ended = new CompletableFuture<>();
    Pair<ActorRef<SessionFollower.Delivery>, Source<SessionFollower.Delivery, org.apache.pekko.NotUsed>> pre = source
        .watchTermination((ref, done) -> {
          done.whenComplete((ok, failure) -> ended.complete(org.apache.pekko.Done.getInstance()));
          return ref;
        })
        .preMaterialize(materializer);
    ActorRef<SessionFollower.Command> follower = system.systemActorOf(
        SessionFollower.create(sharding, journal, followerSettings, sessionId,
            new SessionCommand.Attach(identity.participant(), "ds-reader-" + UUID.randomUUID(), false), after, pre.first()),
        "ds-log-" + UUID.randomUUID(), Props.empty());
    ended.whenComplete((ok, failure) -> follower.tell(new SessionFollower.Stop("reader_closed")));
    Source<SessionFollower.Delivery, ?> paced = pre.second()
        .via(readers.flow())
        .map(d -> {
          if (d instanceof SessionFollower.Deliver deliver && deliver.wantsReady()) follower.tell(SessionFollower.Ready.INSTANCE);
          return d;
        });
    return Pair.create(pre.first(), paced);
  }

  private static List<SessionEvent> visible(List<SessionEvent> events, Identity identity) {
    return events.stream().filter(e -> e.visibleTo(identity.participant())).toList();
  }

  private static ByteString jsonArray(List<SessionEvent> events) {
    StringBuilder b = new StringBuilder(events.size() * 128).append('[');
    for (int i = 0; i < events.size(); i++) {
      if (i > 0) b.append(',');
      b.append(Json.writeEvent(events.get(i)));
    }
    return ByteString.fromString(b.append(']').toString(), StandardCharsets.UTF_8);
  }

  private static CompletionStage<HttpResponse> done(HttpResponse response) {
    return CompletableFuture.completedFuture(response);
  }
}
