package dev.durablesessions.http.rest;

import com.fasterxml.jackson.databind.JsonNode;
import dev.durablesessions.http.ApiError;
import dev.durablesessions.http.Json;
import dev.durablesessions.http.auth.Identity;
import dev.durablesessions.http.auth.Tokens;
import dev.durablesessions.http.limits.RateLimits;
import dev.durablesessions.http.socket.ConnectionActor;
import dev.durablesessions.http.socket.Connections;
import dev.durablesessions.session.AppendBody;
import dev.durablesessions.session.ErrorCode;
import dev.durablesessions.session.Outcome;
import dev.durablesessions.session.SessionCommand;
import dev.durablesessions.session.SessionEntity;
import dev.durablesessions.session.SessionEvent;
import dev.durablesessions.session.SummaryReply;
import dev.durablesessions.session.dispatch.Pool;
import dev.durablesessions.session.dispatch.Pools;
import dev.durablesessions.session.producer.ProducerStamp;
import dev.durablesessions.session.resume.SessionJournal;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;

/**
 * The session API over HTTP: create, summary, history pages, append a message, and the
 * participant WebSocket. Every request carries a bearer JWT (header, or {@code access_token}
 * query parameter where a browser cannot set headers). docs/PROTOCOL.md documents each route.
 */
public final class SessionRoutes extends AllDirectives {
  private static final Pattern SESSION_ID = Pattern.compile("[A-Za-z0-9._:-]{1,128}");

  /** Whether {@code id} has the syntax of a session id (1-128 of A-Z a-z 0-9 . _ : -). */
  public static boolean isSessionId(String id) {
    return id != null && SESSION_ID.matcher(id).matches();
  }

  /** What the session API and the MCP tools read and write, as answers. */
  public SessionQueries queries() {
    return queries;
  }
  private static final int MAX_PAGE = 1000;

  private final ActorSystem<?> system;
  private final ClusterSharding sharding;
  private final SessionJournal journal;
  private final Tokens tokens;
  private final dev.durablesessions.http.auth.Authenticated authenticated;
  private final dev.durablesessions.http.worker.WorkerRoutes workers;
  private final ActorRef<Connections.Command> connections;
  private final Duration askTimeout;
  private final ControlRoutes control;
  private final StateRoutes state;
  private final SessionQueries queries;
  private final dev.durablesessions.http.mcp.SessionMcp mcp;
  private final dev.durablesessions.http.durablestreams.SessionLogRoutes log;
  private final RateLimits limits;
  private final ErasureRoutes erasures;
  private final ApprovalRoutes approvals;
  private final Pools pools;

  public SessionRoutes(ActorSystem<?> system, SessionJournal journal, Tokens tokens, ActorRef<Connections.Command> connections) {
    this.system = system;
    this.sharding = ClusterSharding.get(system);
    this.journal = journal;
    this.tokens = tokens;
    this.authenticated = new dev.durablesessions.http.auth.Authenticated(tokens);
    this.connections = connections;
    this.askTimeout = system.settings().config().getDuration("durable-sessions.http.ask-timeout");
    this.limits = RateLimits.get(system);
    this.pools = Pools.fromConfig(system.settings().config());
    this.control = new ControlRoutes(system, sharding, askTimeout);
    this.approvals = new ApprovalRoutes(sharding, askTimeout, limits);
    this.queries = new SessionQueries(sharding, journal, askTimeout, views(system, journal));
    this.workers = new dev.durablesessions.http.worker.WorkerRoutes(system, queries, askTimeout);
    this.state = new StateRoutes(journal, queries);
    this.mcp = new dev.durablesessions.http.mcp.SessionMcp(system, tokens, queries);
    this.log = new dev.durablesessions.http.durablestreams.SessionLogRoutes(system, journal,
        dev.durablesessions.session.resume.FollowerSettings.fromConfig(system.settings().config()),
        dev.durablesessions.durablestream.StreamSettings.fromConfig(system.settings().config()), askTimeout);
    this.erasures = new ErasureRoutes(sharding, dev.durablesessions.session.erasure.ErasureStore.forJournal(system),
        system.settings().config().getDuration("durable-sessions.erasure.ask-timeout"));
  }

  /** The read side's views, with the resume package bounded as configured ({@code durable-sessions.http.resume}). */
  public static dev.durablesessions.session.views.SessionViews views(ActorSystem<?> system, SessionJournal journal) {
    com.typesafe.config.Config config = system.settings().config();
    return new dev.durablesessions.session.views.SessionViews(ClusterSharding.get(system), journal,
        config.getDuration("durable-sessions.http.ask-timeout"),
        config.getInt("durable-sessions.http.resume.window"), config.getInt("durable-sessions.http.resume.max-events"));
  }

  public Route routes() {
    return concat(
        path("health", () -> get(() -> complete(json(StatusCodes.OK, Map.of("status", "ok"))))),
        path("metrics", () -> get(() -> complete(dev.durablesessions.http.Metrics.scrape()))),
        new dev.durablesessions.http.web.WebRoutes().routes(),
        mcp.route(),
        pathPrefix("v1", () -> concat(
            pathPrefix("sessions", () -> authenticated(this::sessionRoutes)),
            pathPrefix("queues", () -> authenticated(control::queueRoutes)),
            pathPrefix("erasures", () -> authenticated(erasures::routes)),
            pathPrefix("workers", () -> authenticated(workers::workers)),
            pathPrefix("pools", () -> authenticated(workers::pools)))));
  }

  private Route sessionRoutes(Identity identity) {
    return concat(
        pathEndOrSingleSlash(() -> concat(
            post(() -> RateLimits.limited(limits.sessionCreations(), identity, "session creations", () -> createSession(identity))),
            get(() -> listSessions(identity)))),
        pathPrefix(PathMatchers.segment(), sessionId -> validSession(sessionId, identity, () -> concat(
            pathEndOrSingleSlash(() -> concat(get(() -> summary(sessionId)), delete(() -> erasures.erase(sessionId, identity)))),
            path("events", () -> get(() -> history(sessionId, identity))),
            path("messages", () -> post(() -> RateLimits.limited(limits.appends(), identity, "appends",
                () -> appendMessage(sessionId, identity)))),
            path("ws", () -> get(() -> socket(sessionId, identity))),
            path("stream", () -> log.route(sessionId, identity)),
            control.routes(sessionId, identity),
            approvals.routes(sessionId, identity),
            state.routes(sessionId, identity)))));
  }

  // ---------------------------------------------------------------- identity

  private Route authenticated(Function<Identity, Route> inner) {
    return authenticated.identity(inner);
  }

  private Route validSession(String sessionId, Identity identity, java.util.function.Supplier<Route> inner) {
    if (!SESSION_ID.matcher(sessionId).matches()) {
      return complete(ApiError.response(ErrorCode.INVALID_REQUEST, "a session id is 1-128 of A-Z a-z 0-9 . _ : -"));
    }
    if (!identity.mayJoin(sessionId)) {
      return complete(ApiError.response(ErrorCode.FORBIDDEN, identity.subject() + " may not join " + sessionId));
    }
    return inner.get();
  }

  // ---------------------------------------------------------------- endpoints

  private Route createSession(Identity identity) {
    return entity(Unmarshaller.entityToString(), body -> {
      JsonNode json;
      try {
        json = body.isBlank() ? Json.MAPPER.createObjectNode() : Json.readClient(body);
      } catch (Exception e) {
        return complete(ApiError.response(ErrorCode.BAD_JSON, "body is not JSON"));
      }
      if (!json.isObject()) return complete(ApiError.response(ErrorCode.BAD_JSON, "body is a JSON object"));
      if (json.hasNonNull("id") && !json.get("id").isTextual()) return complete(ApiError.response(ErrorCode.INVALID_REQUEST, "id is a string"));
      String id = json.hasNonNull("id") ? json.get("id").textValue() : null;
      if (json.hasNonNull("pool") && !json.get("pool").isTextual()) {
        return complete(ApiError.response(ErrorCode.INVALID_REQUEST, "pool is a string"));
      }
      // Recorded by name in session.created: an unknown pool would leave the session without agents for good.
      Pool pool = json.hasNonNull("pool") ? pools.get(json.get("pool").textValue()) : pools.defaultPool();
      if (pool == null) {
        return complete(ApiError.response(ErrorCode.UNKNOWN_POOL,
            "no pool " + json.get("pool").textValue() + "; pools: " + pools.all().stream().map(Pool::name).toList()));
      }
      if (id == null) {
        if (!identity.mayJoinAny()) {
          return complete(ApiError.response(ErrorCode.FORBIDDEN, "name the session: your token is limited to some sessions"));
        }
        id = UUID.randomUUID().toString();
      }
      String sessionId = id;
      return validSession(sessionId, identity, () -> onSuccess(
          ask(sessionId, (ActorRef<Outcome> r) -> new SessionCommand.Create(identity.participant(), pool.name(), r)),
          outcome -> outcome instanceof Outcome.Refused refused
              ? complete(ApiError.response(refused.code(), refused.message()))
              : complete(json(StatusCodes.CREATED, created(sessionId, ((Outcome.Accepted) outcome).offset(), pool)))));
    });
  }

  private static Map<String, Object> created(String sessionId, long head, Pool pool) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("sessionId", sessionId);
    body.put("head", head);
    body.put("pool", pool.name());
    return body;
  }

  /** Support and admins list sessions (ids from the journal), for tooling. */
  private Route listSessions(Identity identity) {
    if (identity.role() != dev.durablesessions.session.Role.SUPPORT && identity.role() != dev.durablesessions.session.Role.ADMIN) {
      return complete(ApiError.response(ErrorCode.FORBIDDEN, "only support and admins list sessions"));
    }
    return parameterOptional("limit", limitParam -> {
      int limit;
      try {
        limit = limitParam.map(Integer::parseInt).orElse(100);
      } catch (NumberFormatException e) {
        return complete(ApiError.response(ErrorCode.INVALID_REQUEST, "limit is an integer"));
      }
      if (limit < 1 || limit > MAX_PAGE) return complete(ApiError.response(ErrorCode.INVALID_REQUEST, "limit must be 1.." + MAX_PAGE));
      return StateRoutes.answer(queries.sessionIds(identity, limit));
    });
  }

  private Route summary(String sessionId) {
    return onSuccess(askSummary(sessionId), reply -> {
      if (reply instanceof Outcome.Refused refused) return complete(ApiError.response(refused.code(), refused.message()));
      return complete(json(StatusCodes.OK, reply));
    });
  }

  private Route history(String sessionId, Identity identity) {
    return parameterOptional("after", afterParam -> parameterOptional("limit", limitParam -> {
      long after;
      int limit;
      try {
        after = afterParam.map(Long::parseLong).orElse(0L);
        limit = limitParam.map(Integer::parseInt).orElse(100);
      } catch (NumberFormatException e) {
        return complete(ApiError.response(afterParam.map(SessionRoutes::notALong).orElse(false)
            ? ErrorCode.INVALID_OFFSET : ErrorCode.INVALID_REQUEST, "after and limit are integers"));
      }
      if (after < 0) return complete(ApiError.response(ErrorCode.INVALID_OFFSET, "after must be >= 0"));
      if (limit < 1 || limit > MAX_PAGE) {
        return complete(ApiError.response(ErrorCode.INVALID_REQUEST, "limit must be 1.." + MAX_PAGE));
      }
      return StateRoutes.answer(queries.history(sessionId, identity, after, limit));
    }));
  }

  private Route appendMessage(String sessionId, Identity identity) {
    return entity(Unmarshaller.entityToString(), body -> {
      JsonNode json;
      try {
        json = Json.readClient(body);
      } catch (Exception e) {
        return complete(ApiError.response(ErrorCode.BAD_JSON, "body is not JSON"));
      }
      if (json == null || !json.isObject() || !json.hasNonNull("text") || !json.get("text").isTextual()) {
        return complete(ApiError.response(ErrorCode.INVALID_REQUEST, "body needs a string \"text\""));
      }
      return RestAppends.withProducer(json, producer -> {
        if (json.hasNonNull("messageId") && !json.get("messageId").isTextual()) {
          return complete(ApiError.response(ErrorCode.INVALID_REQUEST, "messageId is a string"));
        }
        String messageId = json.hasNonNull("messageId") ? json.get("messageId").textValue() : null;
        AppendBody message = new AppendBody.PostMessage(messageId, json.get("text").asText());
        return onSuccess(
            ask(sessionId, (ActorRef<Outcome> r) -> new SessionCommand.Append(identity.participant(), message, producer, r)),
            outcome -> complete(RestAppends.answer(outcome)));
      });
    });
  }

  private Route socket(String sessionId, Identity identity) {
    // Only a real upgrade request gets as far as a connection actor.
    return extractWebSocketUpgrade(upgrade -> parameterOptional("device", deviceParam -> parameterOptional("offset", offsetParam ->
        parameterOptional("lease", leaseParam -> parameterOptional("batch", batchParam -> {
      String device = deviceParam.filter(d -> !d.isBlank()).orElse("conn-" + UUID.randomUUID());
      if (device.length() > 128) return complete(ApiError.response(ErrorCode.INVALID_REQUEST, "device is at most 128 characters"));
      Long lease;
      try {
        lease = leaseParam.map(Long::parseLong).orElse(null);
      } catch (NumberFormatException e) {
        return complete(ApiError.response(ErrorCode.INVALID_REQUEST, "lease is an integer"));
      }
      if (lease != null && lease < 1) return complete(ApiError.response(ErrorCode.INVALID_REQUEST, "lease must be >= 1"));
      String batchText = batchParam.orElse("false");
      if (!batchText.equals("true") && !batchText.equals("false")) {
        return complete(ApiError.response(ErrorCode.INVALID_REQUEST, "batch is true or false"));
      }
      ConnectionActor.Opening opening;
      long after;
      try {
        after = offsetParam.map(Long::parseLong).orElse(0L);
      } catch (NumberFormatException e) {
        return complete(ApiError.response(ErrorCode.INVALID_OFFSET, "offset is an integer"));
      }
      if (after < 0) return complete(ApiError.response(ErrorCode.INVALID_OFFSET, "offset must be >= 0"));
      opening = new ConnectionActor.Opening(after, lease, batchText.equals("true"));
      return onSuccess(askSummary(sessionId), reply -> {
        if (reply instanceof Outcome.Refused refused) return complete(ApiError.response(refused.code(), refused.message()));
        long head = ((SummaryReply.Summary) reply).head();
        if (after > head) {
          return complete(ApiError.response(ErrorCode.OFFSET_BEYOND_HEAD, "offset " + after + " is beyond the head " + head));
        }
        CompletionStage<Connections.Opened> opened = AskPattern.ask(connections,
            r -> new Connections.Open(sessionId, identity, tokens, device, opening, r), askTimeout, system.scheduler());
        return onSuccess(opened, o -> o instanceof Connections.Socket socket
            ? complete(upgrade.handleMessagesWith(socket.flow()))
            : complete(RateLimits.tooManyRequests(identity.subject() + " holds " + ((Connections.TooManySockets) o).limit()
                + " open sockets on this node, the most allowed; close one first", RateLimits.SOCKET_RETRY_AFTER_SECONDS)));
      });
    })))));
  }

  // ---------------------------------------------------------------- helpers

  private EntityRef<SessionCommand> session(String sessionId) {
    return sharding.entityRefFor(SessionEntity.TYPE_KEY, sessionId);
  }

  private CompletionStage<Outcome> ask(String sessionId, Function<ActorRef<Outcome>, SessionCommand> command) {
    return session(sessionId).ask(command::apply, askTimeout);
  }

  private CompletionStage<SummaryReply> askSummary(String sessionId) {
    return session(sessionId).ask(SessionCommand.GetSummary::new, askTimeout);
  }

  private static boolean notALong(String s) {
    try {
      Long.parseLong(s);
      return false;
    } catch (NumberFormatException e) {
      return true;
    }
  }

  /** Events as a JSON array whose elements carry their {@code type} (a declared element type does that). */
  record Events(@com.fasterxml.jackson.annotation.JsonValue List<SessionEvent> events) {}

  /** A page of history; the declared element type makes every event carry its {@code type}. */
  record HistoryPage(String sessionId, long head, List<SessionEvent> events, long next, boolean hasMore) {}

  public static HttpResponse json(StatusCode status, Object body) {
    return HttpResponse.create().withStatus(status).withEntity(ContentTypes.APPLICATION_JSON, Json.write(body));
  }
}
