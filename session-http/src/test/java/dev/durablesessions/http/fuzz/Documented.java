package dev.durablesessions.http.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.durablesessions.session.ErrorCode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * What docs/PROTOCOL.md promises about errors, read from its error code table (section 10), so
 * that an answer the fuzzer gets is checked against the documentation and the code alike.
 */
public final class Documented {
  private Documented() {}

  /** Codes that mean the server failed rather than refused: no input may cause them on an idle node. */
  public static final Set<String> FAILURES = Set.of("internal", "timeout", "unavailable");

  /** Every code of the error code table, with its HTTP status. */
  public static final Map<String, Integer> CODES = read();

  private static Map<String, Integer> read() {
    Path docs = Path.of("..", "docs", "PROTOCOL.md");
    if (!Files.exists(docs)) docs = Path.of("docs", "PROTOCOL.md");
    String text;
    try {
      text = Files.readString(docs);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    int from = text.indexOf("## 10. Error codes");
    int to = text.indexOf("\n## ", from + 1);
    Map<String, Integer> codes = new LinkedHashMap<>();
    Matcher row = Pattern.compile("(?m)^\\| `([a-z_]+)` \\| (\\d{3}) \\|").matcher(text.substring(from, to));
    while (row.find()) codes.put(row.group(1), Integer.parseInt(row.group(2)));
    Set<String> inCode = Arrays.stream(ErrorCode.values()).map(ErrorCode::code).collect(Collectors.toSet());
    assertEquals(inCode, codes.keySet(), "docs/PROTOCOL.md section 10 lists exactly the codes of ErrorCode");
    for (ErrorCode c : ErrorCode.values()) {
      assertEquals(c.httpStatus(), codes.get(c.code()), "the documented HTTP status of " + c.code());
    }
    return codes;
  }

  /** A refusal the fuzzer may see: a documented code that is not a server failure. */
  public static void assertRefusal(String code, String context) {
    assertTrue(CODES.containsKey(code), "undocumented error code " + code + ": " + context);
    assertTrue(!FAILURES.contains(code), "the server failed (" + code + ") on: " + context);
  }

  /**
   * A REST refusal: a documented code with its documented status. Rejections Pekko HTTP makes
   * itself keep the status Pekko chose, with code invalid_request (docs/PROTOCOL.md section 3).
   */
  public static void assertRefusal(int status, String code, String context) {
    assertRefusal(code, context);
    if (code.equals("invalid_request") && status >= 400 && status < 500) return;
    assertEquals((int) CODES.get(code), status, "HTTP status of " + code + ": " + context);
  }
}
