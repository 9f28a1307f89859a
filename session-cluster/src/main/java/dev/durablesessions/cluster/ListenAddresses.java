package dev.durablesessions.cluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.util.Map;

/**
 * The interfaces the node listens on. The host settings are empty unless an operator sets them
 * (in a config file or by {@code DS_HTTP_HOST} / {@code DS_MANAGEMENT_BIND_HOST}); empty means
 * every interface, except in dev mode, whose token secret is public: there the HTTP port and
 * the management port listen on loopback only. A host that is set is always used as it is.
 */
public final class ListenAddresses {
  static final String HTTP_HOST = "durable-sessions.http.host";
  static final String MANAGEMENT_BIND_HOST = "pekko.management.http.bind-hostname";
  static final String LOOPBACK = "127.0.0.1";
  static final String EVERY_INTERFACE = "0.0.0.0";

  private ListenAddresses() {}

  /** The config with both hosts filled in; applied before the actor system (Pekko Management reads its own). */
  public static Config resolve(Config config) {
    return ConfigFactory.parseMap(Map.of(
            HTTP_HOST, host(config, HTTP_HOST),
            MANAGEMENT_BIND_HOST, host(config, MANAGEMENT_BIND_HOST)))
        .withFallback(config);
  }

  static String host(Config config, String path) {
    String set = config.hasPath(path) ? config.getString(path).trim() : "";
    if (!set.isEmpty()) return set;
    return config.getBoolean("durable-sessions.auth.dev-mode") ? LOOPBACK : EVERY_INTERFACE;
  }
}
