package dev.durablesessions.http.rest;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.durablesessions.http.ApiError;
import dev.durablesessions.http.Json;
import dev.durablesessions.http.auth.Identity;
import dev.durablesessions.session.ErasureReply;
import dev.durablesessions.session.ErrorCode;
import dev.durablesessions.session.Outcome;
import dev.durablesessions.session.Role;
import dev.durablesessions.session.SessionCommand;
import dev.durablesessions.session.SessionEntity;
import dev.durablesessions.session.erasure.ErasureReason;
import dev.durablesessions.session.erasure.ErasureRecord;
import dev.durablesessions.session.erasure.ErasureStore;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * Erasure for admins: {@code DELETE /v1/sessions/{id}} erases a session through its entity
 * (which writes the tombstone, cuts off its sockets, deletes its rows and records who did it),
 * and {@code GET /v1/erasures[/{id}]} reads those records. docs/PROTOCOL.md documents both.
 */
final class ErasureRoutes extends AllDirectives {
  private static final int MAX_PAGE = 1000;

  private final ClusterSharding sharding;
  private final ErasureStore store;
  private final Duration askTimeout;

  ErasureRoutes(ClusterSharding sharding, ErasureStore store, Duration askTimeout) {
    this.sharding = sharding;
    this.store = store;
    this.askTimeout = askTimeout;
  }

  /** {@code DELETE /v1/sessions/{id}}, after the token, id and session pattern checks. */
  Route erase(String sessionId, Identity identity) {
    if (identity.role() != Role.ADMIN) return complete(ApiError.response(ErrorCode.FORBIDDEN, "only admins erase sessions"));
    return onSuccess(
        sharding.entityRefFor(SessionEntity.TYPE_KEY, sessionId).<ErasureReply>ask(
            r -> new SessionCommand.Erase(identity.participant(), ErasureReason.ADMIN, r), askTimeout),
        reply -> {
          if (reply instanceof Outcome.Refused refused) return complete(ApiError.response(refused.code(), refused.message()));
          ErasureReply.Erased erased = (ErasureReply.Erased) reply;
          ObjectNode body = Json.MAPPER.valueToTree(erased.record());
          body.put("alreadyErased", erased.already());
          return complete(SessionRoutes.json(StatusCodes.OK, body));
        });
  }

  /** Under {@code /v1/erasures}. */
  Route routes(Identity identity) {
    if (identity.role() != Role.ADMIN) {
      return complete(ApiError.response(ErrorCode.FORBIDDEN, "only admins read erasure records"));
    }
    return concat(
        pathEndOrSingleSlash(() -> get(() -> list(identity))),
        path(PathMatchers.segment(), sessionId -> get(() -> find(sessionId, identity))));
  }

  private Route list(Identity identity) {
    return parameterOptional("limit", limitParam -> parameterOptional("before", beforeParam -> {
      int limit;
      Instant before;
      try {
        limit = limitParam.map(Integer::parseInt).orElse(100);
        before = beforeParam.map(Instant::parse).orElse(null);
      } catch (NumberFormatException | DateTimeParseException e) {
        return complete(ApiError.response(ErrorCode.INVALID_REQUEST,
            "limit is an integer, before an ISO-8601 instant like 2026-11-22T17:00:00Z"));
      }
      if (limit < 1 || limit > MAX_PAGE) return complete(ApiError.response(ErrorCode.INVALID_REQUEST, "limit must be 1.." + MAX_PAGE));
      return onSuccess(store.list(before, limit), records -> {
        // Like the session list: only what the token's session patterns cover.
        List<ErasureRecord> visible = records.stream().filter(r -> identity.mayJoin(r.sessionId())).toList();
        return complete(SessionRoutes.json(StatusCodes.OK, Map.of("erasures", visible)));
      });
    }));
  }

  private Route find(String sessionId, Identity identity) {
    if (!identity.mayJoin(sessionId)) {
      return complete(ApiError.response(ErrorCode.FORBIDDEN, identity.subject() + " may not join " + sessionId));
    }
    return onSuccess(store.find(sessionId), (Optional<ErasureRecord> record) -> record
        .map(r -> complete(SessionRoutes.json(StatusCodes.OK, r)))
        .orElseGet(() -> complete(ApiError.response(ErrorCode.SESSION_NOT_FOUND, "no erasure of session " + sessionId + " is recorded"))));
  }
}
