package dev.durablesessions.http.authz;

import dev.durablesessions.session.Role;
import java.util.List;

/**
 * The matrix's columns: each role with a token whose {@code sessions} patterns cover what the
 * row touches ({@code authz-*}), each role with a token whose patterns do not ({@code other-*}),
 * no token, and an invalid token (an admin token with {@code *}, signed with another secret).
 */
enum Caller {
  AGENT(Role.AGENT, Reach.IN),
  USER(Role.USER, Reach.IN),
  HUMAN(Role.HUMAN, Reach.IN),
  SUPPORT(Role.SUPPORT, Reach.IN),
  OBSERVER(Role.OBSERVER, Reach.IN),
  ADMIN(Role.ADMIN, Reach.IN),
  AGENT_OUT(Role.AGENT, Reach.OUT),
  USER_OUT(Role.USER, Reach.OUT),
  HUMAN_OUT(Role.HUMAN, Reach.OUT),
  SUPPORT_OUT(Role.SUPPORT, Reach.OUT),
  OBSERVER_OUT(Role.OBSERVER, Reach.OUT),
  ADMIN_OUT(Role.ADMIN, Reach.OUT),
  NO_TOKEN(null, Reach.NONE),
  INVALID_TOKEN(Role.ADMIN, Reach.FORGED);

  /** Where the caller's token reaches. */
  enum Reach { IN, OUT, NONE, FORGED }

  /** What every session and stream a row touches is named like: the in-pattern tokens cover it. */
  static final String IN_PREFIX = "authz-";
  /** What the out-of-pattern tokens cover instead. */
  static final String OUT_PREFIX = "other-";

  final Role role;
  final Reach reach;

  Caller(Role role, Reach reach) {
    this.role = role;
    this.reach = reach;
  }

  /** The six roles, in the order a row lists their answers. */
  static final List<Role> ROLES = List.of(Role.AGENT, Role.USER, Role.HUMAN, Role.SUPPORT, Role.OBSERVER, Role.ADMIN);

  static Caller in(Role role) {
    return values()[ROLES.indexOf(role)];
  }

  static Caller out(Role role) {
    return values()[ROLES.size() + ROLES.indexOf(role)];
  }

  /** The token's subject: the participant id it acts as. */
  String subject() {
    return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
  }

  List<String> patterns() {
    return switch (reach) {
      case IN -> List.of(IN_PREFIX + "*");
      case OUT -> List.of(OUT_PREFIX + "*");
      case FORGED -> List.of("*");
      case NONE -> List.of();
    };
  }

  /** Whether a token of this caller may join (or use the stream) {@code id}. */
  boolean covers(String id) {
    return switch (reach) {
      case IN -> id.startsWith(IN_PREFIX);
      case OUT -> id.startsWith(OUT_PREFIX);
      case NONE, FORGED -> false;
    };
  }

  /** The column heading in the printed matrix. */
  String heading() {
    return switch (reach) {
      case IN -> role.wire();
      case OUT -> role.wire() + "'";
      case NONE -> "no token";
      case FORGED -> "invalid";
    };
  }
}
