package dev.durablesessions.http.mcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.LongRange;

/**
 * A tool's arguments are read as typed as the REST bodies: a non-negative integer is taken as
 * it is, and anything else where one belongs (a string of digits, a fraction, a negative
 * number, a boolean, a number past a long) is refused, never converted; absent and null are
 * "not given".
 */
class ArgumentsTest {

  @Property
  void aNonNegativeIntegerIsTakenAsItIs(@ForAll @LongRange(min = 0, max = Long.MAX_VALUE) long n) {
    assertEquals(Optional.of(n), new Arguments(Map.of("at", n)).optionalCount("at"));
  }

  @Property
  void anythingElseWhereACountBelongsIsRefused(@ForAll("notCounts") Object value) {
    Arguments.Invalid refused = assertThrows(Arguments.Invalid.class, () -> new Arguments(Map.of("at", value)).optionalCount("at"));
    assertEquals("at is a non-negative integer", refused.getMessage());
  }

  @Provide
  Arbitrary<Object> notCounts() {
    return Arbitraries.oneOf(
        Arbitraries.longs().lessOrEqual(-1).map(n -> (Object) n),
        Arbitraries.longs().greaterOrEqual(0).map(n -> (Object) Long.toString(n)),
        Arbitraries.doubles().filter(d -> d != Math.rint(d) || Double.isInfinite(d)).map(d -> (Object) d),
        Arbitraries.of(true, false).map(b -> (Object) b),
        Arbitraries.longs().greaterOrEqual(1).map(n -> (Object) BigInteger.valueOf(Long.MAX_VALUE).add(BigInteger.valueOf(n))),
        Arbitraries.strings().ofMaxLength(5).map(s -> (Object) Map.of("n", s)));
  }

  @Property
  void aStringIsOnlyAString(@ForAll String s, @ForAll long n) {
    assertEquals(Optional.of(s), new Arguments(Map.of("tool", s)).optionalString("tool"));
    assertThrows(Arguments.Invalid.class, () -> new Arguments(Map.of("tool", n)).optionalString("tool"));
  }

  @Property
  void absentAndNullAreNotGiven(@ForAll boolean asNull) {
    Map<String, Object> args = new HashMap<>();
    if (asNull) args.put("at", null);
    assertEquals(Optional.empty(), new Arguments(args).optionalCount("at"));
    assertEquals(Optional.empty(), new Arguments(null).optionalString("at"));
    assertTrue(assertThrows(Arguments.Invalid.class, () -> new Arguments(args).requiredString("sessionId"))
        .getMessage().contains("sessionId is required"));
  }
}
