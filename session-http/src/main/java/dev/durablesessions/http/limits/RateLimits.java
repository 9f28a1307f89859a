package dev.durablesessions.http.limits;

import com.github.benmanes.caffeine.cache.Ticker;
import com.typesafe.config.Config;
import dev.durablesessions.http.ApiError;
import dev.durablesessions.http.auth.Identity;
import dev.durablesessions.session.ErrorCode;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.Directives;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The node's limits per identity (the token's subject), from {@code durable-sessions.http.limits}:
 * appends, session creations and open sockets. One instance per actor system, shared by
 * every route and socket of the node, so the counts are per node: a cluster of N nodes lets
 * one subject do up to N times as much when its requests are spread over the nodes.
 *
 * <p>A refusal changes nothing: it is decided before anything is sent to a session or a
 * stream, and answered with {@code rate_limited} (HTTP 429 and {@code Retry-After}).
 */
public final class RateLimits implements Extension {

  /** What a refused socket upgrade suggests: a slot frees only when one of the subject's sockets closes. */
  public static final long SOCKET_RETRY_AFTER_SECONDS = 5;

  private final SubjectRate appends;
  private final SubjectRate sessionCreations;
  private final int openSockets;

  public RateLimits(Config root, Ticker clock) {
    Config c = root.getConfig("durable-sessions.http.limits");
    long maxSubjects = c.getLong("max-subjects");
    this.appends = new SubjectRate("appends", Rate.fromConfig(c, "appends"), maxSubjects, clock);
    this.sessionCreations = new SubjectRate("session_creations", Rate.fromConfig(c, "session-creations"), maxSubjects, clock);
    this.openSockets = c.getInt("open-sockets");
    if (openSockets < 0) throw new IllegalArgumentException("durable-sessions.http.limits.open-sockets is 0 (off) or more");
  }

  public static RateLimits get(ActorSystem<?> system) {
    return Id.INSTANCE.apply(system);
  }

  /** Writes that land in a session's journal, and Durable Streams appends. */
  public SubjectRate appends() {
    return appends;
  }

  /** Session creations, and Durable Streams creations (PUT). */
  public SubjectRate sessionCreations() {
    return sessionCreations;
  }

  /** Sockets one subject may hold open on this node; 0 is no limit. */
  public int openSockets() {
    return openSockets;
  }

  /** Counts a socket upgrade refused by the open-sockets limit. */
  public static void socketRefused() {
    SubjectRate.REFUSED.labelValues("open_sockets").inc();
  }

  /** The inner route, unless {@code identity} is over {@code rate}: then {@code 429 rate_limited}, and nothing else happens. */
  public static Route limited(SubjectRate rate, Identity identity, String what, Supplier<Route> inner) {
    HttpResponse refused = refusal(rate, identity.subject(), what);
    return refused == null ? inner.get() : Directives.complete(refused);
  }

  /**
   * Takes a permit of {@code rate} for {@code subject}: null if taken, otherwise the
   * {@code 429 rate_limited} answer (JSON error body, {@code Retry-After}).
   */
  public static HttpResponse refusal(SubjectRate rate, String subject, String what) {
    long wait = rate.take(subject);
    if (wait == 0) return null;
    return tooManyRequests(message(subject, rate.rate(), what, wait), retryAfterSeconds(wait));
  }

  /** {@code 429 rate_limited} with the JSON error body and {@code Retry-After} in whole seconds. */
  public static HttpResponse tooManyRequests(String message, long retryAfterSeconds) {
    return ApiError.response(ErrorCode.RATE_LIMITED, message)
        .addHeader(RawHeader.create("Retry-After", Long.toString(retryAfterSeconds)));
  }

  public static String message(String subject, Rate rate, String what, long waitNanos) {
    return subject + " may make " + rate.count() + " " + what + " per " + human(rate.per()) + " on this node; retry in "
        + retryAfterMillis(waitNanos) + " ms";
  }

  /** HTTP's Retry-After is whole seconds: rounded up, at least 1. */
  public static long retryAfterSeconds(long waitNanos) {
    return Math.max(1, (waitNanos + 999_999_999L) / 1_000_000_000L);
  }

  /** Rounded up, at least 1. */
  public static long retryAfterMillis(long waitNanos) {
    return Math.max(1, (waitNanos + 999_999L) / 1_000_000L);
  }

  private static String human(java.time.Duration d) {
    if (d.toMillis() % 3_600_000 == 0) return d.toHours() + " h";
    if (d.toMillis() % 60_000 == 0) return d.toMinutes() + " min";
    if (d.toMillis() % 1000 == 0) return d.toSeconds() + " s";
    return d.toMillis() + " ms";
  }

  private static final class Id extends ExtensionId<RateLimits> {
    static final Id INSTANCE = new Id();

    @Override
    public RateLimits createExtension(ActorSystem<?> system) {
      return new RateLimits(system.settings().config(), Ticker.systemTicker());
    }
  }
}
