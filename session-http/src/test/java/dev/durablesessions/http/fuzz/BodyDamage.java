package dev.durablesessions.http.fuzz;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Tuple;

/**
 * What can happen to a request body on its way: nothing, bytes that are not UTF-8 (a lone
 * continuation byte, an overlong encoding, an encoded surrogate), emptiness, no body at all, or
 * padding to just under or just over a size limit (whitespace, so it stays the same JSON).
 */
public record BodyDamage(Kind kind, double at, int limit) {
  public enum Kind { NONE, INVALID_UTF8, EMPTY, ABSENT, JUST_UNDER_LIMIT, OVER_LIMIT }

  private static final byte[][] INVALID = {
    {(byte) 0xff}, {(byte) 0x80}, {(byte) 0xc3, 0x28}, {(byte) 0xc0, (byte) 0xaf}, {(byte) 0xed, (byte) 0xa0, (byte) 0x80},
    {(byte) 0xf4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, {(byte) 0xe2, (byte) 0x82}};

  public static Arbitrary<BodyDamage> arbitrary(int limit) {
    Arbitrary<Double> at = Arbitraries.doubles().between(0, 1);
    return Arbitraries.frequencyOf(
        Tuple.of(30, Arbitraries.just(new BodyDamage(Kind.NONE, 0, limit))),
        Tuple.of(3, at.map(a -> new BodyDamage(Kind.INVALID_UTF8, a, limit))),
        Tuple.of(1, Arbitraries.just(new BodyDamage(Kind.EMPTY, 0, limit))),
        Tuple.of(1, Arbitraries.just(new BodyDamage(Kind.ABSENT, 0, limit))),
        Tuple.of(1, Arbitraries.just(new BodyDamage(Kind.JUST_UNDER_LIMIT, 0, limit))),
        Tuple.of(1, Arbitraries.just(new BodyDamage(Kind.OVER_LIMIT, 0, limit))));
  }

  /** The body bytes to send, or null for a request without a body. */
  public byte[] apply(String text) {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    switch (kind) {
      case NONE:
        return bytes;
      case EMPTY:
        return new byte[0];
      case ABSENT:
        return null;
      case INVALID_UTF8: {
        int i = (int) Math.min(bytes.length, Math.floor(at * bytes.length));
        byte[] bad = INVALID[(int) (at * 1000) % INVALID.length];
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(bytes, 0, i);
        out.writeBytes(bad);
        out.write(bytes, i, bytes.length - i);
        return out.toByteArray();
      }
      default: {
        int size = kind == Kind.OVER_LIMIT ? limit + 1 : limit - 16;
        if (bytes.length >= size) return bytes;
        byte[] padded = new byte[size];
        System.arraycopy(bytes, 0, padded, 0, bytes.length);
        java.util.Arrays.fill(padded, bytes.length, size, (byte) ' ');
        return padded;
      }
    }
  }

  @Override
  public String toString() {
    return kind == Kind.NONE ? "intact" : kind + (kind == Kind.INVALID_UTF8 ? "@" + String.format("%.2f", at) : "");
  }
}
