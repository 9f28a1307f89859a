package dev.durablesessions.http;

import dev.durablesessions.http.cors.Cors;
import dev.durablesessions.http.cors.CorsSettings;
import dev.durablesessions.session.ErrorCode;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.ExceptionHandler;
import org.apache.pekko.http.javadsl.server.MethodRejection;
import org.apache.pekko.http.javadsl.server.RejectionHandler;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * Binds the routes and unbinds them in coordinated shutdown. Anything a route does not handle
 * is answered with the same JSON error body as everything else; the session API's CORS policy
 * ({@link Cors}) wraps it all, so refusals carry it too.
 */
public final class HttpServer {
  private HttpServer() {}

  public static CompletionStage<ServerBinding> start(ActorSystem<?> system, Route routes, String host, int port) {
    // Built once: the inner parts of a directive run on every request, so nothing is constructed inside them.
    ExceptionHandler exceptionHandler = exceptions(system);
    RejectionHandler rejectionHandler = rejections();
    HttpHeader retryAfter = RawHeader.create("Retry-After",
        Long.toString(retryAfterSeconds(system.settings().config().getDuration("durable-sessions.http.retry-after"))));
    CorsSettings corsSettings = CorsSettings.fromConfig(system.settings().config());
    Cors cors = new Cors(corsSettings);
    Route sealed = new AllDirectives() {
      Route wrap() {
        return cors.around(() -> mapResponse(response -> withRetryAfter(response, retryAfter),
            () -> handleExceptions(exceptionHandler, () -> handleRejections(rejectionHandler, () -> routes))));
      }
    }.wrap();
    Duration hardDeadline = system.settings().config().getDuration("durable-sessions.http.shutdown-deadline");
    return Http.get(system).newServerAt(host, port).bind(sealed)
        .thenApply(binding -> {
          binding.addToCoordinatedShutdown(hardDeadline, system);
          system.log().info("Durable Sessions HTTP listening on http://{}:{}", binding.localAddress().getHostString(),
              binding.localAddress().getPort());
          system.log().info("Browsers may call the session API from {}", corsSettings.describe());
          return binding;
        });
  }

  static RejectionHandler rejections() {
    return RejectionHandler.newBuilder()
        .handle(MethodRejection.class, r -> new AllDirectives() {}.complete(
            ApiError.response(ErrorCode.METHOD_NOT_ALLOWED, "method not allowed here; use " + r.supported().name())))
        .handleNotFound(new AllDirectives() {}.complete(ApiError.response(ErrorCode.NOT_FOUND, "no such endpoint")))
        .build()
        .withFallback(RejectionHandler.defaultHandler())
        .mapRejectionResponse(response -> {
          // Pekko's own rejections (bad query parameters, non-upgrade requests to /ws, ...) as JSON errors.
          if (response.entity().getContentType().mediaType().isApplication()) return response;
          ErrorCode code = response.status().intValue() == 404 ? ErrorCode.NOT_FOUND
              : response.status().intValue() == 405 ? ErrorCode.METHOD_NOT_ALLOWED : ErrorCode.INVALID_REQUEST;
          String message = response.entity() instanceof org.apache.pekko.http.javadsl.model.HttpEntity.Strict s
              ? s.getData().utf8String() : response.status().reason();
          return ApiError.response(code, message).withStatus(response.status());
        });
  }

  /** Every 503 (timeout, unavailable: both retryable) tells the client when to retry. */
  static HttpResponse withRetryAfter(HttpResponse response, HttpHeader retryAfter) {
    if (response.status().intValue() != 503 || response.getHeader("Retry-After").isPresent()) return response;
    return response.addHeader(retryAfter);
  }

  static long retryAfterSeconds(Duration d) {
    return Math.max(1, (d.toMillis() + 999) / 1000);
  }

  static ExceptionHandler exceptions(ActorSystem<?> system) {
    return ExceptionHandler.newBuilder()
        .matchAny(e -> new AllDirectives() {}.complete(Failures.response(e, system.log(), "request", "the session")))
        .build();
  }
}
