package dev.durablesessions.http.auth;

import dev.durablesessions.http.ApiError;
import dev.durablesessions.session.ErrorCode;
import java.util.Optional;
import java.util.function.Function;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The bearer token check every authenticated route shares (the session API, the MCP endpoint):
 * the token from the {@code Authorization} header, or the {@code access_token} query parameter
 * where a browser cannot set headers; {@code 401 unauthorized} or {@code token_expired} otherwise.
 */
public final class Authenticated extends AllDirectives {
  private final Tokens tokens;

  public Authenticated(Tokens tokens) {
    this.tokens = tokens;
  }

  public Route identity(Function<Identity, Route> inner) {
    return extractRequest(request -> parameterOptional("access_token", queryToken -> {
      Optional<String> token = BearerToken.fromHeader(request).or(() -> queryToken);
      if (token.isEmpty()) return refused(ErrorCode.UNAUTHORIZED, "missing bearer token");
      // A stage: a provider token may wait for its keys, never on this thread.
      return onSuccess(tokens.verify(token.get()), identity -> identity.map(inner).orElseGet(() -> Tokens.looksExpired(token.get())
          ? refused(ErrorCode.TOKEN_EXPIRED, "the token has expired; get a fresh one and resume from your last offset")
          : refused(ErrorCode.UNAUTHORIZED, "invalid or expired token")));
    }));
  }

  private Route refused(ErrorCode code, String why) {
    return complete(ApiError.response(code, why).addHeader(HttpHeader.parse("WWW-Authenticate", "Bearer")));
  }
}
