package dev.durablesessions.session;

import java.util.List;

/**
 * Which sessions a token's session patterns cover: an exact ID, {@code *} for all, or a prefix
 * ending in {@code *} ({@code team-a-*}). One rule for joining a session and for being assigned one.
 */
public final class SessionPatterns {
  private SessionPatterns() {}

  public static boolean covers(List<String> patterns, String sessionId) {
    for (String pattern : patterns) {
      if (pattern.equals("*") || pattern.equals(sessionId)) return true;
      if (pattern.endsWith("*") && sessionId.startsWith(pattern.substring(0, pattern.length() - 1))) return true;
    }
    return false;
  }
}
