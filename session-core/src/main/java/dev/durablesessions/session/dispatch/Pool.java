package dev.durablesessions.session.dispatch;

import java.time.Duration;
import java.util.regex.Pattern;

/**
 * A pool of agents a session belongs to: its name, how its agents are reached, and how long
 * an assignment outlives the connection of the worker holding it.
 *
 * @param leaseTimeout after a worker's connection dies, its sessions stay assigned this long
 *     (a worker that reconnects in time keeps them); then they are reassigned
 * @param heartbeatInterval how often a worker renews its leases
 */
public record Pool(String name, Mode mode, Duration leaseTimeout, Duration heartbeatInterval) {

  /** Pool names: what a session's create body and a worker's hello may name. */
  public static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");

  /** How the pool's agents are reached. */
  public enum Mode {
    /** Agent worker processes connect to the node and take assignments. */
    WORKERS;

    public String wire() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  public Pool {
    if (name == null || !NAME.matcher(name).matches()) throw new IllegalArgumentException("pool name " + name + " is not valid");
    if (leaseTimeout.isNegative() || leaseTimeout.isZero()) throw new IllegalArgumentException("lease-timeout of pool " + name + " must be > 0");
    if (heartbeatInterval.compareTo(leaseTimeout) >= 0) {
      throw new IllegalArgumentException("heartbeat-interval of pool " + name + " must be shorter than its lease-timeout");
    }
  }
}
