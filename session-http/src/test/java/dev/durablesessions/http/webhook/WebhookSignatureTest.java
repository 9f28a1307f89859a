package dev.durablesessions.http.webhook;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The signature a receiver checks, against a vector computed elsewhere (Python's hmac), and the retry rule. */
class WebhookSignatureTest {
  static final String SECRET = "whsec-test-vector-0123456789abcdefghijkl";
  static final byte[] BODY = "{\"sessionId\":\"s-1\",\"reason\":\"needs_agent\"}".getBytes(StandardCharsets.UTF_8);

  @Test
  void theSignatureIsHmacSha256OfTheTimestampADotAndTheRawBody() {
    // python3: hmac.new(SECRET, b'1700000000.' + BODY, hashlib.sha256).hexdigest()
    assertEquals("t=1700000000,v1=fd2e981993975f568bc199c9aaea88bc5467e3d77d60666d9c24af035ad8039e",
        WebhookSignature.header(SECRET, 1_700_000_000L, BODY));
  }

  @Test
  void aReceiverAcceptsOnlyTheUntamperedBodyWithTheRightSecretWithinItsTolerance() {
    String header = WebhookSignature.header(SECRET, 1_700_000_000L, BODY);
    assertTrue(WebhookSignature.verify(SECRET, header, BODY, 1_700_000_100L, 300));
    byte[] tampered = "{\"sessionId\":\"s-2\",\"reason\":\"needs_agent\"}".getBytes(StandardCharsets.UTF_8);
    assertFalse(WebhookSignature.verify(SECRET, header, tampered, 1_700_000_100L, 300), "tampered body");
    assertFalse(WebhookSignature.verify(SECRET + "x", header, BODY, 1_700_000_100L, 300), "wrong secret");
    assertFalse(WebhookSignature.verify(SECRET, header, BODY, 1_700_000_301L, 300), "replayed after the tolerance");
    assertFalse(WebhookSignature.verify(SECRET, header.replace("t=1700000000", "t=1700000200"), BODY, 1_700_000_200L, 300),
        "a fresh timestamp on an old signature");
    assertFalse(WebhookSignature.verify(SECRET, "v1=" + header.substring(header.indexOf("v1=") + 3), BODY, 1_700_000_000L, 300),
        "no timestamp");
    assertTrue(WebhookSignature.verify(SECRET, header + ",v2=future-scheme", BODY, 1_700_000_000L, 300), "unknown parts are ignored");
  }

  @Test
  void twoXxDeliversRetryableAnswersRetryAndOtherAnswersFailAtOnce() {
    for (int s : new int[] {200, 201, 202, 204}) assertEquals(WebhookRetry.Verdict.DELIVERED, WebhookRetry.of(s));
    for (int s : new int[] {408, 429, 500, 502, 503, 504}) assertEquals(WebhookRetry.Verdict.RETRY, WebhookRetry.of(s));
    for (int s : new int[] {301, 400, 401, 403, 404, 410, 422}) assertEquals(WebhookRetry.Verdict.PERMANENT, WebhookRetry.of(s));
  }

  @Test
  void backoffIsFullJitterUnderADoublingCeilingCappedAtTheMaximum() {
    Duration min = Duration.ofMillis(200);
    Duration max = Duration.ofSeconds(5);
    assertEquals(Duration.ZERO, WebhookRetry.backoff(1, min, max, 0.0));
    assertEquals(Duration.ofMillis(199), WebhookRetry.backoff(1, min, max, 0.999));
    assertEquals(Duration.ofMillis(399), WebhookRetry.backoff(2, min, max, 0.999));
    assertEquals(Duration.ofMillis(799), WebhookRetry.backoff(3, min, max, 0.999));
    assertEquals(Duration.ofMillis(4995), WebhookRetry.backoff(10, min, max, 0.999));
    assertEquals(Duration.ofMillis(4995), WebhookRetry.backoff(1000, min, max, 0.999), "no overflow however many retries");
  }

  @Test
  void retryAfterIsReadAsSecondsOrAsAnHttpDate() {
    Instant now = Instant.parse("2026-11-30T12:00:00Z");
    assertEquals(Duration.ofSeconds(7), WebhookRetry.retryAfter("7", now));
    assertEquals(Duration.ofSeconds(30), WebhookRetry.retryAfter("Mon, 30 Nov 2026 12:00:30 GMT", now));
    assertEquals(Duration.ZERO, WebhookRetry.retryAfter("Mon, 30 Nov 2026 11:00:00 GMT", now));
    assertEquals(null, WebhookRetry.retryAfter("soon", now));
    assertEquals(null, WebhookRetry.retryAfter(null, now));
  }
}
