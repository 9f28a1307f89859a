package dev.durablesessions.http.fuzz;

import static dev.durablesessions.http.fuzz.JsonText.raw;

import dev.durablesessions.http.fuzz.JsonText.Raw;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Tuple;

/**
 * The values inputs are made of when they go wrong: wrong types, sizes (empty, long, over the
 * limits), unicode that trips encoders (lone surrogates, RTL and zero-width marks, NUL), deep
 * nesting, numbers at the edges, and fragments that are not JSON at all.
 */
public final class EdgeValues {
  private EdgeValues() {}

  /** Strings that look innocent to a type check and not to anything else. */
  public static final List<String> TRICKY_STRINGS = List.of(
      "", " ", "a", "x-1", "\t", "\n", "line\r\nbreak", "\u0000", "nul\u0000inside", "\u0007\u001b[31m",
      "\ud800", "\udc00", "a\ud800b", "\udbff\udfff", "\ud83d\ude00", "\ud83d", "\u202eevil", "\u200b", "\u200d\u200c",
      "\ufeff", "\ufffe", "\uffff", "é", "中文", "עברית", "ﷺ", "e\u0301\u0301\u0301", "../../etc/passwd", "%00", "%zz", "a/b",
      "<script>alert(1)</script>", "' OR 1=1 --", "${jndi:ldap://x}", "null", "true", "0", "-1", "-0", "1e308",
      "9223372036854775808", "NaN", "Infinity", "*", "agent", "user", "human", "support", "observer", "admin", "system",
      "SYSTEM", " agent ", "consumed", "ignored", "interrupt", "warm", "cold", "verified", "unverified", "complete",
      "cancelled", "error", "agent_lost", "idle", "streaming", "waiting_for_input", "message", "stream.start", "leave",
      "/tools_used/-", "/pending_actions/0", "/", "", "~1", "/~2", "/nope", "/files_modified/99999999999999999999");

  /** Numbers at the edges, and number-like fragments JSON does not allow. */
  public static final List<Raw> NUMBERS = List.of(
      raw("0"), raw("-0"), raw("1"), raw("-1"), raw("7"), raw("2147483647"), raw("2147483648"), raw("-2147483649"),
      raw("9007199254740993"), raw("9223372036854775807"), raw("-9223372036854775808"), raw("9223372036854775808"),
      raw("-9223372036854775809"), raw("1" + "0".repeat(400)), raw("1.5"), raw("-0.0"), raw("0.0"), raw("1E2"),
      raw("1e308"), raw("-1e308"), raw("1e309"), raw("4.9e-324"), raw("1e-400"), raw("123456789.123456789e300"));

  /** Fragments that make the whole document invalid JSON (or JSON a strict parser refuses). */
  public static final List<Raw> NOT_JSON = List.of(
      raw("NaN"), raw("-Infinity"), raw("undefined"), raw("'single'"), raw("01"), raw("+1"), raw(".5"), raw("1."),
      raw("0x10"), raw("\"unterminated"), raw("\"\\x41\""), raw("\"\\u12\""), raw("\"tab\tinside\""), raw("[1,]"),
      raw("{\"a\":1,}"), raw("{\"a\"}"), raw("/* comment */ 1"), raw("1 2"), raw("\u0000"),
      raw("9".repeat(1500)), raw("[".repeat(1200) + "]".repeat(1200)));

  /**
   * Strings: the tricky ones, arbitrary unicode (surrogates included), and long ones up to
   * {@code longest} characters (pass a length beyond the surface's limit to cross it).
   */
  public static Arbitrary<String> strings(int longest) {
    List<Integer> lengths = new ArrayList<>();
    for (int n : new int[] {129, 201, 1025, 10_000}) if (n <= longest) lengths.add(n);
    lengths.add(longest);
    return Arbitraries.frequencyOf(
        Tuple.of(6, Arbitraries.of(TRICKY_STRINGS)),
        Tuple.of(3, Arbitraries.strings().all().ofMaxLength(40)),
        Tuple.of(1, Arbitraries.of(lengths).map(n -> "x".repeat(n))),
        Tuple.of(1, Arbitraries.of(lengths).map(n -> "\u00e9\ud83d\ude00".repeat(Math.max(1, n / 3)))));
  }

  /** Any value a field may be given: strings, numbers, literals, containers, deep nesting, non-JSON. */
  public static Arbitrary<Object> values(int longest) {
    return Arbitraries.frequencyOf(
        Tuple.of(5, strings(longest).map(s -> (Object) s)),
        Tuple.of(4, Arbitraries.of(NUMBERS).map(n -> (Object) n)),
        Tuple.of(2, Arbitraries.of(raw("null"), raw("true"), raw("false")).map(v -> (Object) v)),
        Tuple.of(2, Arbitraries.of(raw("[]"), raw("{}"), raw("[\"a\"]"), raw("{\"a\":1}"), raw("[null]"), raw("{\"\":{}}"))
            .map(v -> (Object) v)),
        Tuple.of(1, Arbitraries.of(10, 200, 999, 1001, 5000).map(depth -> (Object) raw(nested(depth)))),
        Tuple.of(1, Arbitraries.of(NOT_JSON).map(v -> (Object) v)));
  }

  /** {@code depth} arrays, one inside the other. */
  public static String nested(int depth) {
    return "[".repeat(depth) + "]".repeat(depth);
  }
}
