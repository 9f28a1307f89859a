package dev.durablesessions.durablestream;

import java.util.regex.Pattern;

/**
 * Offsets of the Durable Streams protocol: two zero-padded 16-digit decimal fields joined by
 * {@code _}, so that string order is offset order. The first field is always 0 here; the second
 * counts the messages before the offset (offset N sits after the N-th message). A fork shares its
 * source's offsets up to the fork point and continues from there.
 */
public final class StreamOffsets {
  private StreamOffsets() {}

  /** {@code offset=-1}: from the start. */
  public static final long FROM_START = -1;
  /** {@code offset=now}: the tail at the time of the request. */
  public static final long NOW = -2;
  /** A well-formed offset this server never issued (first field not 0, or too large). */
  public static final long BEYOND = Long.MAX_VALUE;

  private static final Pattern WIRE = Pattern.compile("[0-9]+_[0-9]+");

  public static String format(long offset) {
    String n = Long.toString(offset);
    StringBuilder b = new StringBuilder(33).append("0000000000000000_");
    for (int i = n.length(); i < 16; i++) b.append('0');
    return b.append(n).toString();
  }

  /** True when {@code s} has the wire shape of an offset (ASCII digits, one underscore). */
  public static boolean wellFormed(String s) {
    return s != null && WIRE.matcher(s).matches();
  }

  /**
   * The offset a well-formed wire value stands for; {@link #BEYOND} for values outside what this
   * server issues. Call {@link #wellFormed} first.
   */
  public static long parse(String s) {
    int sep = s.indexOf('_');
    for (int i = 0; i < sep; i++) if (s.charAt(i) != '0') return BEYOND;
    int first = sep + 1;
    while (first < s.length() - 1 && s.charAt(first) == '0') first++;
    String digits = s.substring(first);
    return digits.length() > 18 ? BEYOND : Long.parseLong(digits);
  }

  /** {@code -1}, {@code now} or a wire offset; null when the value is none of these. */
  public static Long parseQuery(String s) {
    if ("-1".equals(s)) return FROM_START;
    if ("now".equals(s)) return NOW;
    return wellFormed(s) ? parse(s) : null;
  }
}
