package dev.durablesessions.session.dispatch;

import java.net.URI;
import java.time.Duration;
import java.util.regex.Pattern;

/**
 * A pool of agents a session belongs to: its name, how its agents are reached, and how long
 * an assignment outlives the connection of the worker holding it.
 *
 * @param leaseTimeout after a worker's connection dies, its sessions stay assigned this long
 *     (a worker that reconnects in time keeps them); then they are reassigned
 * @param heartbeatInterval how often a worker renews its leases
 * @param webhook how the pool's URL is called: set for a webhook pool, null for a workers pool
 */
public record Pool(String name, Mode mode, Duration leaseTimeout, Duration heartbeatInterval, Webhook webhook) {

  /** Pool names: what a session's create body and a worker's hello may name. */
  public static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");

  /** How the pool's agents are reached. */
  public enum Mode {
    /** Agent worker processes connect to the node and take assignments. */
    WORKERS,
    /** The node calls the pool's URL when one of its sessions needs its agent. */
    WEBHOOK;

    public String wire() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /**
   * A webhook pool's call: where, signed with what, and how hard the node tries.
   *
   * @param secret the HMAC-SHA256 key of the {@code DS-Signature} header (never logged or printed)
   * @param timeout one attempt is abandoned (and retried) after this long
   * @param maxAttempts attempts per need, the first included; then the call has failed
   * @param minBackoff the first retry waits up to this long (full jitter), doubling each retry
   * @param maxBackoff up to {@code maxBackoff}
   * @param tokenTtl how long the session-scoped token in the request is valid
   */
  public record Webhook(URI url, String secret, Duration timeout, int maxAttempts, Duration minBackoff, Duration maxBackoff,
      Duration tokenTtl) {
    /** HMAC-SHA256 keys shorter than its block of output are weaker than the hash; the JWT secret has the same floor. */
    public static final int MIN_SECRET_BYTES = 32;

    public Webhook {
      if (url == null || !url.isAbsolute() || url.getHost() == null
          || !("http".equals(url.getScheme()) || "https".equals(url.getScheme()))) {
        throw new IllegalArgumentException("a webhook url is an absolute http or https URL, not " + url);
      }
      if (secret == null || secret.getBytes(java.nio.charset.StandardCharsets.UTF_8).length < MIN_SECRET_BYTES) {
        throw new IllegalArgumentException("a webhook secret has at least " + MIN_SECRET_BYTES + " bytes");
      }
      if (!positive(timeout) || !positive(minBackoff) || !positive(tokenTtl)) {
        throw new IllegalArgumentException("webhook timeout, min-backoff and token-ttl must be > 0");
      }
      if (maxBackoff.compareTo(minBackoff) < 0) throw new IllegalArgumentException("webhook max-backoff must be >= min-backoff");
      if (maxAttempts < 1) throw new IllegalArgumentException("webhook max-attempts must be >= 1");
    }

    private static boolean positive(Duration d) {
      return d != null && !d.isNegative() && !d.isZero();
    }

    /** Without the secret: a pool may be logged. */
    @Override
    public String toString() {
      return "Webhook[url=" + url + ", secret=<redacted>, timeout=" + timeout + ", maxAttempts=" + maxAttempts
          + ", minBackoff=" + minBackoff + ", maxBackoff=" + maxBackoff + ", tokenTtl=" + tokenTtl + "]";
    }
  }

  /** A workers pool. */
  public Pool(String name, Mode mode, Duration leaseTimeout, Duration heartbeatInterval) {
    this(name, mode, leaseTimeout, heartbeatInterval, null);
  }

  public Pool {
    if (name == null || !NAME.matcher(name).matches()) throw new IllegalArgumentException("pool name " + name + " is not valid");
    if (leaseTimeout.isNegative() || leaseTimeout.isZero()) throw new IllegalArgumentException("lease-timeout of pool " + name + " must be > 0");
    if (heartbeatInterval.compareTo(leaseTimeout) >= 0) {
      throw new IllegalArgumentException("heartbeat-interval of pool " + name + " must be shorter than its lease-timeout");
    }
    if ((mode == Mode.WEBHOOK) != (webhook != null)) {
      throw new IllegalArgumentException("pool " + name + ": a webhook pool has webhook settings, a workers pool none");
    }
  }
}
