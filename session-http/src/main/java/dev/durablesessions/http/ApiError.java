package dev.durablesessions.http;

import dev.durablesessions.session.ErrorCode;
import java.util.Map;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;

/** The JSON error body every endpoint answers with: {@code {"error":{"code":..., "message":...}}}. */
public final class ApiError {
  private ApiError() {}

  public static HttpResponse response(ErrorCode code, String message) {
    return HttpResponse.create()
        .withStatus(StatusCodes.get(code.httpStatus()))
        .withEntity(ContentTypes.APPLICATION_JSON,
            Json.write(Map.of("error", Map.of("code", code.code(), "message", message))));
  }
}
