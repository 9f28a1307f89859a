package dev.durablesessions.http.web;

import java.util.Map;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The browser pages the node serves from its own jar: the support console ({@code /console})
 * and the chat page ({@code /chat}). Their scripts are built from {@code clients/typescript/console}
 * on the project's TypeScript SDK and committed under {@code web/} (a test checks that the
 * committed build matches the sources), so a node needs nothing but a JDK to serve them. The
 * pages are public; everything they show comes from the API with the token the user pastes.
 * Nothing is fetched from elsewhere: the Content-Security-Policy allows this origin only.
 */
public final class WebRoutes extends AllDirectives {
  private static final Map<String, ContentType> FILES = Map.of(
      "console.js", ContentTypes.create(MediaTypes.APPLICATION_JAVASCRIPT, org.apache.pekko.http.javadsl.model.HttpCharsets.UTF_8),
      "chat.js", ContentTypes.create(MediaTypes.APPLICATION_JAVASCRIPT, org.apache.pekko.http.javadsl.model.HttpCharsets.UTF_8),
      "pages.css", ContentTypes.create(MediaTypes.TEXT_CSS, org.apache.pekko.http.javadsl.model.HttpCharsets.UTF_8));

  private static final HttpHeader CSP = HttpHeader.parse("Content-Security-Policy",
      "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'");
  private static final HttpHeader NO_CACHE = HttpHeader.parse("Cache-Control", "no-cache");

  /** The path first, then the method: a passing {@code get} would cancel the 405s of the API's routes. */
  public Route routes() {
    return respondWithHeaders(java.util.List.of(CSP, NO_CACHE), () -> concat(
        path("console", () -> get(() -> getFromResource("web/console.html", ContentTypes.TEXT_HTML_UTF8))),
        path("chat", () -> get(() -> getFromResource("web/chat.html", ContentTypes.TEXT_HTML_UTF8))),
        pathPrefix("web", () -> path(PathMatchers.segment(), file -> get(() -> {
          ContentType type = FILES.get(file);
          if (type == null) return reject(); // answered like any unknown path
          return getFromResource("web/" + file, type);
        })))));
  }
}
