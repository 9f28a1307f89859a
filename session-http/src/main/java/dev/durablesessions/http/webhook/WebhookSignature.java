package dev.durablesessions.http.webhook;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The {@code DS-Signature} header of a webhook request: {@code t=<unix seconds>,v1=<hex>}, where
 * {@code hex} is the lowercase HMAC-SHA256, keyed with the pool's secret (its UTF-8 bytes), of
 * the ASCII timestamp, a dot and the raw request body: {@code HMAC(secret, t + "." + body)}.
 * docs/AGENTS.md ("Webhook pools") gives the same recipe to receivers; the TypeScript helper
 * ({@code @durable-sessions/client/webhook}) implements it.
 *
 * <p>The timestamp is signed so a captured request cannot be replayed later: a receiver refuses
 * one whose {@code t} is further than its tolerance (5 minutes by default) from its own clock.
 * Each attempt is signed at the moment it is sent; the body, and so its idempotency key, stay.
 */
public final class WebhookSignature {
  private WebhookSignature() {}

  public static final String HEADER = "DS-Signature";

  /** The header's value for {@code body} sent at {@code unixSeconds}. */
  public static String header(String secret, long unixSeconds, byte[] body) {
    return "t=" + unixSeconds + ",v1=" + hmacHex(secret, unixSeconds, body);
  }

  /** Lowercase hex of HMAC-SHA256(secret, "{t}.{body}"). */
  public static String hmacHex(String secret, long unixSeconds, byte[] body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      mac.update((unixSeconds + ".").getBytes(StandardCharsets.US_ASCII));
      return HexFormat.of().formatHex(mac.doFinal(body));
    } catch (NoSuchAlgorithmException | InvalidKeyException e) {
      throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
    }
  }

  /**
   * What a receiver does (Java receivers may call it): true if {@code header} carries a
   * {@code v1} signature of {@code body} with {@code secret}, made within {@code toleranceSeconds}
   * of {@code nowSeconds}. Compared in constant time; unknown parts of the header are ignored,
   * so a later scheme can be added beside {@code v1}.
   */
  public static boolean verify(String secret, String header, byte[] body, long nowSeconds, long toleranceSeconds) {
    if (header == null) return false;
    Long t = null;
    java.util.List<String> signatures = new java.util.ArrayList<>();
    for (String part : header.split(",")) {
      int eq = part.indexOf('=');
      if (eq < 0) continue;
      String key = part.substring(0, eq).trim();
      String value = part.substring(eq + 1).trim();
      if (key.equals("t") && value.matches("[0-9]{1,12}")) t = Long.parseLong(value);
      else if (key.equals("v1")) signatures.add(value);
    }
    if (t == null || Math.abs(nowSeconds - t) > toleranceSeconds) return false;
    byte[] expected = hmacHex(secret, t, body).getBytes(StandardCharsets.US_ASCII);
    boolean match = false;
    for (String s : signatures) match |= MessageDigest.isEqual(expected, s.getBytes(StandardCharsets.US_ASCII));
    return match;
  }
}
