package dev.durablesessions.session.dispatch;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.util.Collection;
import java.util.Collections;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The pools this node knows, from {@code durable-sessions.dispatch} (reference.conf documents
 * each key), and the default pool of sessions created without one. Every node of a cluster
 * should run the same pool configuration: a session records its pool's name, not its settings.
 */
public final class Pools {
  private final Map<String, Pool> byName;
  private final Pool defaultPool;

  private Pools(Map<String, Pool> byName, Pool defaultPool) {
    this.byName = Collections.unmodifiableMap(byName);
    this.defaultPool = defaultPool;
  }

  /** Reads and checks the pools; a bad pool configuration stops the node at start, never later. */
  public static Pools fromConfig(Config root) {
    Config dispatch = root.getConfig("durable-sessions.dispatch");
    Config defaults = dispatch.getConfig("pool-defaults");
    Config pools = dispatch.getConfig("pools");
    Map<String, Pool> byName = new TreeMap<>();
    for (String name : pools.root().keySet()) {
      Config c = pools.getConfig(quoted(name)).withFallback(defaults);
      Pool.Mode mode = mode(name, c.getString("mode"));
      Pool.Webhook webhook = mode == Pool.Mode.WEBHOOK ? webhook(name, c.getConfig("webhook")) : null;
      byName.put(name, new Pool(name, mode, c.getDuration("lease-timeout"), c.getDuration("heartbeat-interval"), webhook));
    }
    String defaultName = dispatch.getString("default-pool");
    Pool defaultPool = byName.get(defaultName);
    if (defaultPool == null) {
      throw new ConfigException.BadValue("durable-sessions.dispatch.default-pool",
          "default pool " + defaultName + " is not one of durable-sessions.dispatch.pools " + byName.keySet());
    }
    return new Pools(byName, defaultPool);
  }

  private static Pool.Mode mode(String pool, String mode) {
    for (Pool.Mode m : Pool.Mode.values()) if (m.wire().equals(mode.toLowerCase(Locale.ROOT))) return m;
    throw new ConfigException.BadValue("durable-sessions.dispatch.pools." + pool + ".mode",
        "mode " + mode + " is not supported (supported: workers, webhook)");
  }

  /** A webhook pool's {@code url} and {@code secret} have no default: missing or bad, the node does not start. */
  private static Pool.Webhook webhook(String pool, Config c) {
    String at = "durable-sessions.dispatch.pools." + pool + ".webhook.";
    for (String required : new String[] {"url", "secret"}) {
      if (!c.hasPath(required) || c.getString(required).isBlank()) {
        throw new ConfigException.BadValue(at + required, "webhook pool " + pool + " needs a " + required
            + (required.equals("secret") ? " (for example secret = ${?DS_WEBHOOK_SECRET})" : ""));
      }
    }
    java.net.URI url;
    try {
      url = new java.net.URI(c.getString("url"));
    } catch (java.net.URISyntaxException e) {
      throw new ConfigException.BadValue(at + "url", "not a URL: " + e.getMessage());
    }
    try {
      return new Pool.Webhook(url, c.getString("secret"), c.getDuration("timeout"), c.getInt("max-attempts"),
          c.getDuration("min-backoff"), c.getDuration("max-backoff"), c.getDuration("token-ttl"));
    } catch (IllegalArgumentException e) {
      throw new ConfigException.BadValue(at.substring(0, at.length() - 1), "webhook pool " + pool + ": " + e.getMessage());
    }
  }

  private static String quoted(String key) {
    return "\"" + key.replace("\"", "\\\"") + "\"";
  }

  /** The pool named so, or null if this node has none by that name. */
  public Pool get(String name) {
    return name == null ? null : byName.get(name);
  }

  /** The pool of a session: the one it names, or the default pool if it names none (sessions created before pools). */
  public Pool of(String sessionPool) {
    return sessionPool == null ? defaultPool : byName.get(sessionPool);
  }

  public Pool defaultPool() {
    return defaultPool;
  }

  public Collection<Pool> all() {
    return byName.values();
  }
}
