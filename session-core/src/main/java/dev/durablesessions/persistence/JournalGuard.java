package dev.durablesessions.persistence;

import com.typesafe.config.Config;
import dev.durablesessions.session.metrics.SessionMetrics;
import java.time.Duration;
import java.time.Instant;
import org.apache.pekko.actor.typed.BackoffSupervisorStrategy;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.BehaviorInterceptor;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.TypedActorContext;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * An event-sourced entity's side of a journal outage (sessions and streams alike).
 *
 * <p>When a write or a recovery fails, Pekko restarts the entity after a backoff that grows
 * while the database stays down, and keeps what arrives meanwhile until a recovery succeeds:
 * its callers would wait out their ask timeout. From the first failure until the next
 * successful recovery the guard answers them at once instead, as unavailable, and nothing it
 * refuses is ever written. The write that failed is answered unavailable too: it was most
 * likely not written, but the database may have committed it just before it went away, which
 * is why a retry carries the same producer stamp. Commands already inside the entity when it
 * failed (they arrived during the failing write or recovery) are handled after it recovers;
 * their callers may have timed out by then.
 */
public final class JournalGuard<C> {
  /** What callers are told; it names no database detail (those are in the log). */
  public static final String UNAVAILABLE = "the journal is unavailable; retry (with the same producer stamp, if any)";

  /** Answers {@code command} as unavailable and returns true, or returns false to let the entity handle it after recovery. */
  public interface Refusal<C> {
    boolean refuse(C command);
  }

  private final String kind;
  private final String id;
  private final ActorContext<?> ctx;
  private final Refusal<C> refusal;
  private Instant downSince;
  private Runnable inFlight;

  /**
   * @param kind the metrics label and log prefix ({@code session}, {@code stream})
   * @param id the entity's id, for the log
   */
  public JournalGuard(String kind, String id, ActorContext<?> ctx, Refusal<C> refusal) {
    this.kind = kind;
    this.id = id;
    this.ctx = ctx;
    this.refusal = refusal;
  }

  /**
   * The supervision of an entity's journal failures: restart (which recovers from the journal)
   * after a growing backoff, {@code durable-sessions.journal.restart-backoff}. Pekko's own log
   * line per restart is off: {@link #failed} logs each outage once per entity.
   */
  public static BackoffSupervisorStrategy restartBackoff(Config root) {
    Config c = root.getConfig("durable-sessions.journal.restart-backoff");
    Duration min = c.getDuration("min");
    Duration max = c.getDuration("max");
    return SupervisorStrategy.restartWithBackoff(min, max, c.getDouble("random-factor")).withLoggingEnabled(false);
  }

  /** The entity's behavior, with requests answered at once while its journal is down. */
  public Behavior<C> around(Behavior<C> entity, Class<C> commands) {
    return Behaviors.intercept(() -> new BehaviorInterceptor<C, C>(commands) {
      @Override
      public Behavior<C> aroundReceive(TypedActorContext<C> context, C command, ReceiveTarget<C> target) {
        if (downSince != null && refusal.refuse(command)) {
          SessionMetrics.JOURNAL_REFUSALS.labelValues(kind).inc();
          return Behaviors.same();
        }
        return target.apply(context, command);
      }
    }, entity);
  }

  /** A write is about to be persisted; {@code refuse} answers its callers if the journal fails it. */
  public void writing(Runnable refuse) {
    inFlight = refuse;
  }

  /** The write in flight was committed. */
  public void written() {
    inFlight = null;
  }

  /** A write ({@code phase} "write") or a recovery ("recovery") failed: Pekko restarts the entity after this. */
  public void failed(String phase, Throwable cause) {
    SessionMetrics.JOURNAL_FAILURES.labelValues(kind, phase).inc();
    Runnable refuse = inFlight;
    inFlight = null;
    if (refuse != null) refuse.run();
    if (downSince == null) {
      downSince = Instant.now();
      SessionMetrics.WAITING_FOR_JOURNAL.labelValues(kind).inc();
      ctx.getLog().error("{} {}: journal {} failed; answering unavailable and retrying until it recovers", kind, id, phase, cause);
    } else {
      ctx.getLog().debug("{} {}: journal {} failed again: {}", kind, id, phase, cause.toString());
    }
  }

  /** A recovery succeeded: requests go to the entity again. */
  public void recovered() {
    if (downSince == null) return;
    long millis = Duration.between(downSince, Instant.now()).toMillis();
    downSince = null;
    SessionMetrics.WAITING_FOR_JOURNAL.labelValues(kind).dec();
    ctx.getLog().info("{} {}: journal available again after {} ms", kind, id, millis);
  }

  /** The entity stopped (passivated, or its node leaves) while perhaps still waiting for its journal. */
  public void stopped() {
    inFlight = null;
    if (downSince != null) {
      downSince = null;
      SessionMetrics.WAITING_FOR_JOURNAL.labelValues(kind).dec();
    }
  }
}
