package dev.durablesessions.http.rest;

import com.fasterxml.jackson.databind.JsonNode;
import dev.durablesessions.http.ApiError;
import dev.durablesessions.http.Json;
import dev.durablesessions.http.auth.Identity;
import dev.durablesessions.http.limits.RateLimits;
import dev.durablesessions.session.ErrorCode;
import dev.durablesessions.session.Outcome;
import dev.durablesessions.session.SessionCommand;
import dev.durablesessions.session.SessionEntity;
import dev.durablesessions.session.transfer.Control;
import dev.durablesessions.session.transfer.ControlRequest;
import dev.durablesessions.session.transfer.HandoffNote;
import dev.durablesessions.session.transfer.QueueDirectory;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;

/**
 * Support tooling over HTTP: transfers (warm, cold), accept, cancel, claim, handback, close,
 * and the queues of sessions waiting for a human. Who may do what, in which phase, is the
 * session's decision ({@code ControlRules}); these routes only carry the caller's identity.
 */
final class ControlRoutes extends AllDirectives {
  private static final int MAX_CLAIM_ATTEMPTS = 10;

  private final ActorSystem<?> system;
  private final ClusterSharding sharding;
  private final Duration askTimeout;
  private final ActorRef<QueueDirectory.Command> queues;
  private final RateLimits limits;

  ControlRoutes(ActorSystem<?> system, ClusterSharding sharding, Duration askTimeout) {
    this.system = system;
    this.sharding = sharding;
    this.askTimeout = askTimeout;
    this.queues = QueueDirectory.init(system);
    this.limits = RateLimits.get(system);
  }

  /** Under /v1/sessions/{id}. */
  Route routes(String sessionId, Identity identity) {
    return concat(
        pathPrefix("transfers", () -> concat(
            pathEndOrSingleSlash(() -> post(() -> withBody(body -> transfer(sessionId, identity, body)))),
            path("accept", () -> post(() -> ignoringBody(() -> request(sessionId, identity, new ControlRequest.AcceptTransfer())))),
            path("cancel", () -> post(() -> withBody(body ->
                request(sessionId, identity, new ControlRequest.CancelTransfer(text(body, "reason")))))))),
        path("claim", () -> post(() -> ignoringBody(() -> request(sessionId, identity, new ControlRequest.Claim())))),
        path("handback", () -> post(() -> withBody(body -> {
          HandoffNote note;
          try {
            note = note(body);
          } catch (IllegalArgumentException e) {
            return complete(ApiError.response(ErrorCode.INVALID_REQUEST, e.getMessage()));
          }
          return request(sessionId, identity, new ControlRequest.HandBack(text(body, "agent"), note));
        }))),
        path("close", () -> post(() -> withBody(body ->
            request(sessionId, identity, new ControlRequest.Close(text(body, "reason")))))));
  }

  /** Under /v1/queues. */
  Route queueRoutes(Identity identity) {
    if (!identity.role().isOperator()) {
      return complete(ApiError.response(ErrorCode.FORBIDDEN, "queues are for human operators, support and admins"));
    }
    return concat(
        pathEndOrSingleSlash(() -> get(() -> onSuccess(listing(), l -> complete(SessionRoutes.json(StatusCodes.OK, visible(l, identity)))))),
        pathPrefix(PathMatchers.segment(), queue -> concat(
            pathEndOrSingleSlash(() -> get(() -> onSuccess(listing(), l -> complete(SessionRoutes.json(StatusCodes.OK,
                Map.of("queue", queue, "waiting", visible(l, identity).queues().getOrDefault(queue, List.of()))))))),
            path("claim", () -> post(() -> ignoringBody(() -> RateLimits.limited(limits.appends(), identity, "appends", () ->
                onSuccess(claimOldest(queue, identity), result ->
                    complete(result.refused() != null
                        ? ApiError.response(result.refused().code(), result.refused().message())
                        : SessionRoutes.json(StatusCodes.OK, result.claimed()))))))))));
  }

  private Route transfer(String sessionId, Identity identity, JsonNode body) {
    ControlRequest.Mode mode;
    try {
      mode = ControlRequest.Mode.valueOf(text(body, "mode").toUpperCase(java.util.Locale.ROOT));
    } catch (RuntimeException e) {
      return complete(ApiError.response(ErrorCode.INVALID_REQUEST, "mode is warm or cold"));
    }
    JsonNode to = body.path("to");
    Control.Invitee invitee = new Control.Invitee(text(to, "participant"), text(to, "queue"));
    HandoffNote note;
    try {
      note = note(body);
    } catch (IllegalArgumentException e) {
      return complete(ApiError.response(ErrorCode.INVALID_REQUEST, e.getMessage()));
    }
    return request(sessionId, identity, new ControlRequest.RequestTransfer(mode, invitee, note));
  }

  /** A control request is a write to the session: it counts against the caller's append limit. */
  private Route request(String sessionId, Identity identity, ControlRequest request) {
    return RateLimits.limited(limits.appends(), identity, "appends", () -> onSuccess(ask(sessionId, identity, request), outcome -> {
      if (outcome instanceof Outcome.Refused r) return complete(ApiError.response(r.code(), r.message()));
      return complete(SessionRoutes.json(StatusCodes.OK, Map.of("offset", ((Outcome.Accepted) outcome).offset())));
    }));
  }

  private CompletionStage<Outcome> ask(String sessionId, Identity identity, ControlRequest request) {
    return sharding.entityRefFor(SessionEntity.TYPE_KEY, sessionId)
        .ask(replyTo -> new SessionCommand.ChangeControl(identity.participant(), request, replyTo), askTimeout);
  }

  private CompletionStage<QueueDirectory.Listing> listing() {
    return AskPattern.ask(queues, QueueDirectory.GetListing::new, askTimeout, system.scheduler());
  }

  record Claimed(String sessionId, String queue, long offset, HandoffNote note) {}

  /** The session claimed, or why none was. */
  record ClaimResult(Claimed claimed, Outcome.Refused refused) {}

  /**
   * The first human to claim gets the oldest waiting session. The session decides: an entry
   * someone else claimed a moment ago is refused there and the next one is tried.
   */
  private CompletionStage<ClaimResult> claimOldest(String queue, Identity identity) {
    return listing().thenCompose(l -> tryClaim(visible(l, identity).queues().getOrDefault(queue, List.of()), 0, queue, identity));
  }

  private CompletionStage<ClaimResult> tryClaim(List<QueueDirectory.Entry> waiting, int i, String queue, Identity identity) {
    if (i >= waiting.size() || i >= MAX_CLAIM_ATTEMPTS) {
      return CompletableFuture.completedFuture(new ClaimResult(null,
          new Outcome.Refused(ErrorCode.NOT_QUEUED, "no session is waiting in queue " + queue)));
    }
    QueueDirectory.Entry entry = waiting.get(i);
    return ask(entry.sessionId(), identity, new ControlRequest.Claim()).thenCompose(outcome -> {
      if (outcome instanceof Outcome.Accepted a) {
        return CompletableFuture.completedFuture(new ClaimResult(new Claimed(entry.sessionId(), queue, a.offset(), entry.note()), null));
      }
      Outcome.Refused r = (Outcome.Refused) outcome;
      if (r.code() == ErrorCode.FORBIDDEN) return CompletableFuture.completedFuture(new ClaimResult(null, r));
      return tryClaim(waiting, i + 1, queue, identity);
    });
  }

  /** Only the sessions the caller's token may join. */
  private static QueueDirectory.Listing visible(QueueDirectory.Listing listing, Identity identity) {
    Map<String, List<QueueDirectory.Entry>> mine = new java.util.LinkedHashMap<>();
    listing.queues().forEach((q, entries) -> {
      List<QueueDirectory.Entry> allowed = entries.stream().filter(e -> identity.mayJoin(e.sessionId())).toList();
      if (!allowed.isEmpty()) mine.put(q, allowed);
    });
    return new QueueDirectory.Listing(mine);
  }

  /**
   * Reads a body the endpoint ignores before answering: an answer sent while the client is
   * still sending makes the server close the connection (and log an "early response" warning).
   */
  private Route ignoringBody(java.util.function.Supplier<Route> inner) {
    return entity(Unmarshaller.entityToString(), ignored -> inner.get());
  }

  private Route withBody(Function<JsonNode, Route> inner) {
    return entity(Unmarshaller.entityToString(), body -> {
      JsonNode json;
      try {
        json = body.isBlank() ? Json.MAPPER.createObjectNode() : Json.readClient(body);
      } catch (Exception e) {
        return complete(ApiError.response(ErrorCode.BAD_JSON, "body is not JSON"));
      }
      if (json == null || !json.isObject()) return complete(ApiError.response(ErrorCode.BAD_JSON, "body is a JSON object"));
      try {
        return inner.apply(json);
      } catch (IllegalArgumentException wrongType) {
        return complete(ApiError.response(ErrorCode.INVALID_REQUEST, wrongType.getMessage()));
      }
    });
  }

  /** A string field, or null when it is absent; a field of another type is refused (invalid_request), not turned into text. */
  private static String text(JsonNode body, String field) {
    if (!body.hasNonNull(field)) return null;
    if (!body.get(field).isTextual()) throw new IllegalArgumentException(field + " is a string");
    return body.get(field).textValue();
  }

  private static HandoffNote note(JsonNode body) {
    if (!body.hasNonNull("note")) return null;
    try {
      return Json.MAPPER.treeToValue(body.get("note"), HandoffNote.class);
    } catch (Exception e) {
      throw new IllegalArgumentException("note is {inProgress, decided:[{what, why}], next, canWait, waitingOn}, lists of strings");
    }
  }
}
