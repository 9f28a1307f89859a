package dev.durablesessions.http.webhook;

import com.typesafe.config.Config;
import dev.durablesessions.http.Json;
import dev.durablesessions.http.auth.Identity;
import dev.durablesessions.http.auth.Tokens;
import dev.durablesessions.http.rest.SessionQueries;
import dev.durablesessions.session.Outcome;
import dev.durablesessions.session.Role;
import dev.durablesessions.session.SessionCommand;
import dev.durablesessions.session.SessionEntity;
import dev.durablesessions.session.dispatch.Pool;
import dev.durablesessions.session.dispatch.Pools;
import dev.durablesessions.session.dispatch.WebhookCall;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;

/**
 * Calls webhook pools: for each {@link WebhookCall} (one need of one session, from the
 * dispatcher) it builds the request once (the resume package, a token scoped to that session,
 * the JSON body), then POSTs it to the pool's URL, signed anew for each attempt, until a 2xx,
 * an answer that retrying cannot change, or the pool's last attempt. A call that fails for good
 * is written into the session as {@code agent.webhook_failed}. Nothing here blocks: the resume
 * package, the HTTP exchange and the failure record are stages piped back to the actor.
 *
 * <p>One need, one delivery: a call whose idempotency key is in flight or was delivered recently
 * is dropped; every attempt of one call carries the same key and the same body bytes, so a
 * receiver that saw an attempt the node thought lost (a timeout after the function ran) can
 * drop the repeat by its {@code Idempotency-Key}.
 */
public final class WebhookCaller {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(WebhookCaller.class);

  /** The participant a webhook pool's function acts as, in every session of that pool. */
  public static String subject(String pool) {
    return "webhook:" + pool;
  }

  /**
   * The caller, to spawn once per node and give to the dispatcher as {@code ActorRef<WebhookCall>}.
   *
   * @param pools the node's pools; a call naming a pool that is not a webhook pool here fails
   * @param tokens mints the session-scoped tokens (needs the shared secret, durable-sessions.auth.secret)
   * @param queries answers the resume package exactly as {@code GET /v1/sessions/{id}/resume} does
   */
  public static Behavior<WebhookCall> create(Pools pools, Tokens tokens, SessionQueries queries) {
    return create(pools, tokens, queries, Clock.systemUTC());
  }

  static Behavior<WebhookCall> create(Pools pools, Tokens tokens, SessionQueries queries, Clock clock) {
    return Behaviors.<Object>setup(ctx -> Behaviors.withTimers(timers ->
        new WebhookCaller(pools, tokens, queries, clock, ctx, timers).behavior())).narrow();
  }

  // ---------------------------------------------------------------- the actor's own messages

  /** The request is built: the body to send on every attempt. */
  private record Prepared(String key, Pool pool, byte[] body) {}

  /** The request could not be built (session gone, no secret to mint with): fails without a call. */
  private record NotPrepared(String key, String error) {}

  /** Time for attempt {@code attempt} of call {@code key}. */
  private record Attempt(String key, int attempt) {}

  /** Attempt {@code attempt} answered {@code status} (null: no answer, {@code error} says why). */
  private record Answered(String key, int attempt, Integer status, String error, Duration retryAfter, long startedNanos) {}

  /** A call in flight: built or being built, with its last answer. */
  private static final class InFlight {
    final WebhookCall call;
    final Pool pool;
    final Instant tokenExpiresAt;
    byte[] body;
    int attempts;
    Integer lastStatus;
    String lastError;

    InFlight(WebhookCall call, Pool pool, Instant tokenExpiresAt) {
      this.call = call;
      this.pool = pool;
      this.tokenExpiresAt = tokenExpiresAt;
    }
  }

  private final Pools pools;
  private final Tokens tokens;
  private final SessionQueries queries;
  private final Clock clock;
  private final ActorContext<Object> ctx;
  private final TimerScheduler<Object> timers;
  private final Http http;
  private final ClusterSharding sharding;
  private final Duration recordTimeout;
  private final int rememberDelivered;
  private final Map<String, InFlight> inFlight = new HashMap<>();
  /** Keys delivered lately, oldest first. */
  private final LinkedHashMap<String, Boolean> delivered = new LinkedHashMap<>();

  private WebhookCaller(Pools pools, Tokens tokens, SessionQueries queries, Clock clock, ActorContext<Object> ctx,
      TimerScheduler<Object> timers) {
    this.pools = pools;
    this.tokens = tokens;
    this.queries = queries;
    this.clock = clock;
    this.ctx = ctx;
    this.timers = timers;
    this.http = Http.get(ctx.getSystem());
    this.sharding = ClusterSharding.get(ctx.getSystem());
    Config c = ctx.getSystem().settings().config().getConfig("durable-sessions.http.webhooks");
    this.recordTimeout = c.getDuration("record-timeout");
    this.rememberDelivered = c.getInt("remember-delivered");
  }

  private Behavior<Object> behavior() {
    return Behaviors.receive(Object.class)
        .onMessage(WebhookCall.class, this::onCall)
        .onMessage(Prepared.class, this::onPrepared)
        .onMessage(NotPrepared.class, p -> fail(p.key(), p.error()))
        .onMessage(Attempt.class, this::onAttempt)
        .onMessage(Answered.class, this::onAnswered)
        .onSignal(org.apache.pekko.actor.typed.PostStop.class, s -> {
          WebhookMetrics.IN_FLIGHT.dec(inFlight.size());
          return Behaviors.same();
        })
        .build();
  }

  private Behavior<Object> onCall(WebhookCall call) {
    String key = call.idempotencyKey();
    if (inFlight.containsKey(key) || delivered.containsKey(key)) {
      LOG.debug("webhook call {} for session {} is {} already: not called again", key, call.sessionId(),
          inFlight.containsKey(key) ? "in flight" : "delivered");
      return Behaviors.same();
    }
    Pool pool = pools.get(call.pool());
    if (pool == null || pool.mode() != Pool.Mode.WEBHOOK) {
      LOG.warn("webhook call {} for session {} names pool {}, which is not a webhook pool on this node", key, call.sessionId(),
          call.pool());
      WebhookMetrics.CALLS.labelValues(String.valueOf(call.pool()), "failed").inc();
      record(call, 0, null, "pool " + call.pool() + " is not a webhook pool on this node");
      return Behaviors.same();
    }
    // exp is whole seconds: the expiry announced in the body is the token's own.
    Instant expiresAt = clock.instant().plus(pool.webhook().tokenTtl()).truncatedTo(ChronoUnit.SECONDS);
    inFlight.put(key, new InFlight(call, pool, expiresAt));
    WebhookMetrics.IN_FLIGHT.inc();
    prepare(call, pool, expiresAt);
    return Behaviors.same();
  }

  /** The resume package (as the REST route answers it to this very token's participant), the token, the body. */
  private void prepare(WebhookCall call, Pool pool, Instant expiresAt) {
    String key = call.idempotencyKey();
    Identity agent = new Identity(subject(pool.name()), Role.AGENT, List.of(call.sessionId()), expiresAt);
    String token;
    try {
      token = tokens.issue(agent.subject(), agent.role(), agent.sessions(), Duration.between(clock.instant(), expiresAt));
    } catch (IllegalStateException e) {
      ctx.getSelf().tell(new NotPrepared(key, "cannot mint the session's token: " + e.getMessage()));
      return;
    }
    Optional<Long> after = Optional.of(Math.max(0, call.fromOffset() - 1));
    ctx.pipeToSelf(queries.resume(call.sessionId(), agent, after), (answer, failure) -> {
      if (failure != null) return new NotPrepared(key, "reading the resume package failed: " + failure);
      if (answer instanceof SessionQueries.Answer.Refused r) return new NotPrepared(key, r.code().code() + ": " + r.message());
      Object resume = ((SessionQueries.Answer.Ok) answer).body();
      try {
        byte[] body = Json.MAPPER.writeValueAsBytes(new WebhookPayload(call.sessionId(), pool.name(), call.fromOffset(),
            call.reason(), key, token, expiresAt, resume));
        return new Prepared(key, pool, body);
      } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
        return new NotPrepared(key, "the request body cannot be written: " + e.getMessage());
      }
    });
  }

  private Behavior<Object> onPrepared(Prepared p) {
    InFlight call = inFlight.get(p.key());
    if (call == null) return Behaviors.same();
    call.body = p.body();
    return onAttempt(new Attempt(p.key(), 1));
  }

  private Behavior<Object> onAttempt(Attempt a) {
    InFlight call = inFlight.get(a.key());
    if (call == null) return Behaviors.same();
    Pool.Webhook settings = call.pool.webhook();
    HttpRequest request = HttpRequest.POST(settings.url().toString())
        .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, call.body))
        .addHeader(RawHeader.create("Idempotency-Key", a.key()))
        .addHeader(RawHeader.create(WebhookSignature.HEADER,
            WebhookSignature.header(settings.secret(), clock.instant().getEpochSecond(), call.body)))
        .addHeader(RawHeader.create("DS-Attempt", Integer.toString(a.attempt())));
    long started = System.nanoTime();
    var system = ctx.getSystem();
    // The response's entity is drained whenever it comes, even after this attempt timed out, so its connection is freed.
    var answered = http.singleRequest(request).thenApply(response -> {
      response.discardEntityBytes(system);
      String retryAfter = response.getHeader("Retry-After").map(HttpHeader::value).orElse(null);
      return new Answered(a.key(), a.attempt(), response.status().intValue(), null,
          WebhookRetry.retryAfter(retryAfter, clock.instant()), started);
    }).toCompletableFuture().orTimeout(settings.timeout().toMillis(), TimeUnit.MILLISECONDS);
    ctx.pipeToSelf(answered, (ok, failure) -> ok != null ? ok
        : new Answered(a.key(), a.attempt(), null, describe(failure, settings.timeout()), null, started));
    return Behaviors.same();
  }

  private static String describe(Throwable failure, Duration timeout) {
    Throwable cause = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
        ? failure.getCause() : failure;
    if (cause instanceof java.util.concurrent.TimeoutException) return "no answer within " + timeout.toMillis() + "ms";
    String message = cause.getMessage();
    return cause.getClass().getSimpleName() + (message == null ? "" : ": " + message);
  }

  private Behavior<Object> onAnswered(Answered a) {
    InFlight call = inFlight.get(a.key());
    if (call == null) return Behaviors.same();
    String pool = call.pool.name();
    WebhookMetrics.ATTEMPT_LATENCY.labelValues(pool).observe((System.nanoTime() - a.startedNanos()) / 1e9);
    call.attempts = a.attempt();
    call.lastStatus = a.status();
    call.lastError = a.error() != null ? a.error() : "HTTP " + a.status();
    WebhookRetry.Verdict verdict = a.status() == null ? WebhookRetry.Verdict.RETRY : WebhookRetry.of(a.status());
    if (verdict == WebhookRetry.Verdict.DELIVERED) {
      finished(a.key());
      remember(a.key());
      WebhookMetrics.CALLS.labelValues(pool, "delivered").inc();
      LOG.debug("webhook call {} for session {} delivered to pool {} on attempt {}", a.key(), call.call.sessionId(), pool, a.attempt());
      return Behaviors.same();
    }
    Pool.Webhook settings = call.pool.webhook();
    if (verdict == WebhookRetry.Verdict.PERMANENT || a.attempt() >= settings.maxAttempts()) {
      return fail(a.key(), call.lastError);
    }
    Duration wait = WebhookRetry.backoff(a.attempt(), settings.minBackoff(), settings.maxBackoff(),
        ThreadLocalRandom.current().nextDouble());
    if (a.retryAfter() != null && a.retryAfter().compareTo(wait) > 0) wait = a.retryAfter();
    // The body's token is the same on every attempt: an attempt it could not outlive would reach a function that cannot answer.
    if (clock.instant().plus(wait).plus(settings.timeout()).isAfter(call.tokenExpiresAt)) {
      return fail(a.key(), call.lastError + " (the next attempt would come after the token expired)");
    }
    WebhookMetrics.CALLS.labelValues(pool, "retried").inc();
    LOG.debug("webhook call {} attempt {} to pool {}: {}; retrying in {}ms", a.key(), a.attempt(), pool, call.lastError, wait.toMillis());
    timers.startSingleTimer(a.key(), new Attempt(a.key(), a.attempt() + 1), wait);
    return Behaviors.same();
  }

  /** The call is given up: counted, logged and written into the session. */
  private Behavior<Object> fail(String key, String error) {
    InFlight call = inFlight.get(key);
    if (call == null) return Behaviors.same();
    finished(key);
    int attempts = call.attempts;
    WebhookMetrics.CALLS.labelValues(call.pool.name(), "failed").inc();
    LOG.warn("webhook call {} for session {} to pool {} failed after {} attempt(s): {}", key, call.call.sessionId(),
        call.pool.name(), attempts, error);
    record(call.call, attempts, call.lastStatus, error);
    return Behaviors.same();
  }

  private void finished(String key) {
    if (inFlight.remove(key) != null) WebhookMetrics.IN_FLIGHT.dec();
    timers.cancel(key);
  }

  private void remember(String key) {
    delivered.put(key, Boolean.TRUE);
    while (delivered.size() > rememberDelivered) delivered.remove(delivered.keySet().iterator().next());
  }

  /** agent.webhook_failed in the session; a session closed or erased meanwhile refuses it, which is only logged. */
  private void record(WebhookCall call, int attempts, Integer lastStatus, String error) {
    sharding.entityRefFor(SessionEntity.TYPE_KEY, call.sessionId())
        .<Outcome>ask(r -> new SessionCommand.RecordWebhookFailure(call.pool(), attempts, lastStatus, error, call.idempotencyKey(), r),
            recordTimeout)
        .whenComplete((outcome, failure) -> {
          if (failure != null || outcome instanceof Outcome.Refused) {
            LOG.info("agent.webhook_failed for call {} not recorded in session {}: {}", call.idempotencyKey(), call.sessionId(),
                failure != null ? failure.toString() : ((Outcome.Refused) outcome).message());
          }
        });
  }
}
