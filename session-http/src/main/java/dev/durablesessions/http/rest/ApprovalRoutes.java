package dev.durablesessions.http.rest;

import com.fasterxml.jackson.databind.JsonNode;
import dev.durablesessions.http.ApiError;
import dev.durablesessions.http.Json;
import dev.durablesessions.http.auth.Identity;
import dev.durablesessions.http.limits.RateLimits;
import dev.durablesessions.session.AppendBody;
import dev.durablesessions.session.ErrorCode;
import dev.durablesessions.session.Outcome;
import dev.durablesessions.session.SessionCommand;
import dev.durablesessions.session.SessionEntity;
import dev.durablesessions.session.approval.ApprovalRules;
import dev.durablesessions.session.producer.ProducerStamp;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;

/**
 * {@code POST /v1/sessions/{id}/approvals/{approvalId}}: the answer to a tool approval, for a
 * client without a socket. It is the {@code tool.approval.answer} frame over HTTP: the same
 * append, judged by the same rules in the session, answered like a REST message.
 */
final class ApprovalRoutes extends AllDirectives {
  private final ClusterSharding sharding;
  private final Duration askTimeout;
  private final RateLimits limits;

  ApprovalRoutes(ClusterSharding sharding, Duration askTimeout, RateLimits limits) {
    this.sharding = sharding;
    this.askTimeout = askTimeout;
    this.limits = limits;
  }

  /** Under /v1/sessions/{id}. */
  Route routes(String sessionId, Identity identity) {
    return pathPrefix("approvals", () -> path(PathMatchers.segment(), approvalId -> post(() ->
        RateLimits.limited(limits.appends(), identity, "appends", () -> answer(sessionId, identity, approvalId)))));
  }

  private Route answer(String sessionId, Identity identity, String approvalId) {
    if (approvalId.isBlank() || approvalId.length() > ApprovalRules.MAX_APPROVAL_ID) {
      return complete(ApiError.response(ErrorCode.INVALID_REQUEST, "an approvalId is 1-" + ApprovalRules.MAX_APPROVAL_ID + " characters"));
    }
    return entity(Unmarshaller.entityToString(), body -> {
      JsonNode json;
      try {
        json = Json.readClient(body);
      } catch (Exception e) {
        return complete(ApiError.response(ErrorCode.BAD_JSON, "body is not JSON"));
      }
      if (json == null || !json.isObject() || !json.path("approved").isBoolean()) {
        return complete(ApiError.response(ErrorCode.INVALID_REQUEST, "body needs a boolean \"approved\""));
      }
      if (json.hasNonNull("reason") && !json.get("reason").isTextual()) {
        return complete(ApiError.response(ErrorCode.INVALID_REQUEST, "reason is a string"));
      }
      String reason = json.hasNonNull("reason") ? json.get("reason").textValue() : null;
      AppendBody decision = new AppendBody.AnswerApproval(approvalId, json.get("approved").booleanValue(), reason);
      return RestAppends.withProducer(json, stamp -> onSuccess(
          sharding.entityRefFor(SessionEntity.TYPE_KEY, sessionId).<Outcome>ask(
              replyTo -> new SessionCommand.Append(identity.participant(), decision, stamp, replyTo), askTimeout),
          outcome -> complete(RestAppends.answer(outcome))));
    });
  }
}
