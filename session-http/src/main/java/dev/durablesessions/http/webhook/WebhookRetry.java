package dev.durablesessions.http.webhook;

import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;

/**
 * When a webhook attempt is done, when it is tried again, and how long to wait: pure, so the
 * caller actor only applies it. A 2xx delivers; 408, 429, a 5xx, a timeout or a connection
 * error are worth another attempt; any other answer (a 4xx, a redirect) will not change by
 * asking again and fails the call at once.
 */
public final class WebhookRetry {
  private WebhookRetry() {}

  public enum Verdict {
    DELIVERED, RETRY, PERMANENT
  }

  public static Verdict of(int status) {
    if (status >= 200 && status < 300) return Verdict.DELIVERED;
    if (status == 408 || status == 429 || status >= 500) return Verdict.RETRY;
    return Verdict.PERMANENT;
  }

  /**
   * The wait before retry {@code retry} (1 for the second attempt): full jitter, a uniform time
   * in [0, min(max, min * 2^(retry-1))), so receivers that failed together are not hit together
   * again. {@code random} is in [0, 1).
   */
  public static Duration backoff(int retry, Duration min, Duration max, double random) {
    long ceiling = min.toMillis();
    for (int i = 1; i < retry && ceiling < max.toMillis(); i++) ceiling *= 2;
    ceiling = Math.min(ceiling, max.toMillis());
    return Duration.ofMillis((long) (ceiling * random));
  }

  /** A Retry-After header (delta seconds or an HTTP date) as a wait from {@code now}; null if absent or unreadable. */
  public static Duration retryAfter(String header, Instant now) {
    if (header == null || header.isBlank()) return null;
    String value = header.trim();
    if (value.matches("[0-9]{1,9}")) return Duration.ofSeconds(Long.parseLong(value));
    try {
      Instant at = ZonedDateTime.parse(value, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
      return at.isAfter(now) ? Duration.between(now, at) : Duration.ZERO;
    } catch (DateTimeParseException e) {
      return null;
    }
  }
}
