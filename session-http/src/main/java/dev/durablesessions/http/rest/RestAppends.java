package dev.durablesessions.http.rest;

import com.fasterxml.jackson.databind.JsonNode;
import dev.durablesessions.http.ApiError;
import dev.durablesessions.http.Json;
import dev.durablesessions.session.ErrorCode;
import dev.durablesessions.session.Outcome;
import dev.durablesessions.session.producer.ProducerStamp;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.Directives;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * What every REST append (a message, an approval's answer) shares: the producer stamp its body
 * may carry for exactly-once retries, and the answer to the session's outcome.
 */
final class RestAppends {
  private RestAppends() {}

  /**
   * Hands {@code inner} the body's {@code "producer": {"id", "epoch", "seq"}} stamp, or null
   * when there is none; a malformed stamp is refused with invalid_request.
   */
  static Route withProducer(JsonNode body, Function<ProducerStamp, Route> inner) {
    ProducerStamp stamp = null;
    if (body.hasNonNull("producer")) {
      try {
        stamp = Json.MAPPER.treeToValue(body.get("producer"), ProducerStamp.class);
      } catch (Exception e) {
        return Directives.complete(ApiError.response(ErrorCode.INVALID_REQUEST, "producer is {\"id\", \"epoch\", \"seq\"}"));
      }
    }
    return inner.apply(stamp);
  }

  /** 201 with the new offset (and the producer's seq); 200 for a duplicate of an earlier append; a refusal as its error. */
  static HttpResponse answer(Outcome outcome) {
    if (outcome instanceof Outcome.Refused refused) return ApiError.response(refused.code(), refused.message());
    Outcome.Accepted accepted = (Outcome.Accepted) outcome;
    Map<String, Object> reply = new LinkedHashMap<>();
    if (accepted.offset() >= 0) reply.put("offset", accepted.offset());
    if (accepted.seq() != null) reply.put("seq", accepted.seq());
    reply.put("duplicate", accepted.duplicate());
    return SessionRoutes.json(accepted.duplicate() ? StatusCodes.OK : StatusCodes.CREATED, reply);
  }
}
