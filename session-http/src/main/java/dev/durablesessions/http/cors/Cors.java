package dev.durablesessions.http.cors;

import dev.durablesessions.http.ApiError;
import dev.durablesessions.session.ErrorCode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Supplier;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * CORS for the session API ({@code /v1/sessions}, {@code /v1/queues}, {@code /v1/erasures} and
 * everything under them), for the origins {@link CorsSettings} allows. It wraps the sealed
 * routes, so errors and rejections get the same headers as successes:
 * <ul>
 *   <li>a preflight ({@code OPTIONS} with {@code Origin} and {@code Access-Control-Request-Method})
 *       is answered here, before any token or route: 204 with the allowed methods and headers
 *       for an allowed origin, 403 {@code forbidden} without CORS headers for another;
 *   <li>any other answer to an allowed origin carries {@code Access-Control-Allow-Origin} (the
 *       origin echoed) and the headers a browser may read; to another origin, none.
 * </ul>
 * The session API's own word replaces whatever CORS headers a route set (the session log's,
 * written for the wide-open Durable Streams). The Durable Streams under {@code /v1/stream}
 * keep their own wide-open CORS, untouched. A WebSocket upgrade (101) is left as it is: CORS
 * does not apply to sockets.
 */
public final class Cors extends AllDirectives {
  /** The prefixes the session API's policy covers: a path equal to one, or under it. */
  private static final List<String> PREFIXES = List.of("/v1/sessions", "/v1/queues", "/v1/erasures");

  /** The request headers the session API reads. */
  static final String ALLOW_HEADERS = "Authorization, Content-Type";
  static final String ALLOW_METHODS = "GET, HEAD, POST, DELETE";
  /** What a browser client needs to read beyond the safelisted headers: retry hints, the token challenge, the session log's offsets. */
  static final String EXPOSE_HEADERS = "Retry-After, WWW-Authenticate, Stream-Next-Offset, Stream-Up-To-Date, Stream-Cursor";

  private final CorsSettings settings;
  private final HttpHeader allowMethods = RawHeader.create("Access-Control-Allow-Methods", ALLOW_METHODS);
  private final HttpHeader allowHeaders = RawHeader.create("Access-Control-Allow-Headers", ALLOW_HEADERS);
  private final HttpHeader exposeHeaders = RawHeader.create("Access-Control-Expose-Headers", EXPOSE_HEADERS);
  private final HttpHeader maxAge;
  private final HttpHeader varyOrigin = RawHeader.create("Vary", "Origin");

  public Cors(CorsSettings settings) {
    this.settings = settings;
    this.maxAge = RawHeader.create("Access-Control-Max-Age", Long.toString(settings.maxAge().toSeconds()));
  }

  public Route around(Supplier<Route> inner) {
    Route routes = inner.get();
    return extractRequest(request -> {
      if (!covered(request.getUri().path())) return routes;
      Optional<String> origin = request.getHeader("Origin").map(HttpHeader::value);
      if (origin.isPresent() && preflight(request)) return complete(preflight(origin.get()));
      return mapResponse(response -> withCors(response, origin), () -> routes);
    });
  }

  static boolean covered(String path) {
    for (String prefix : PREFIXES) {
      if (path.equals(prefix) || path.startsWith(prefix + "/")) return true;
    }
    return false;
  }

  private static boolean preflight(HttpRequest request) {
    return request.method().equals(HttpMethods.OPTIONS) && request.getHeader("Access-Control-Request-Method").isPresent();
  }

  private HttpResponse preflight(String origin) {
    if (!settings.allows(origin)) {
      return ApiError.response(ErrorCode.FORBIDDEN, "origin " + origin + " may not call this API from a browser "
          + "(durable-sessions.http.cors.allowed-origins)").addHeader(varyOrigin);
    }
    return HttpResponse.create().withStatus(204).addHeaders(List.of(
        RawHeader.create("Access-Control-Allow-Origin", origin), varyOrigin, allowMethods, allowHeaders, maxAge));
  }

  private HttpResponse withCors(HttpResponse response, Optional<String> origin) {
    if (response.status().intValue() == 101) return response;
    List<HttpHeader> headers = new ArrayList<>();
    boolean vary = false;
    for (HttpHeader h : response.getHeaders()) {
      String name = h.lowercaseName();
      if (name.startsWith("access-control-")) continue;
      if (name.equals("vary")) {
        vary = true;
        if (!h.value().toLowerCase(Locale.ROOT).contains("origin")) h = RawHeader.create("Vary", h.value() + ", Origin");
      }
      headers.add(h);
    }
    if (!vary) headers.add(varyOrigin);
    if (origin.isPresent() && settings.allows(origin.get())) {
      headers.add(RawHeader.create("Access-Control-Allow-Origin", origin.get()));
      headers.add(exposeHeaders);
    }
    return response.withHeaders(headers);
  }
}
