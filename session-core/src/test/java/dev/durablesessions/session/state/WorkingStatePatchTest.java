package dev.durablesessions.session.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * RFC 6902 on paths that do not exist: every operation whose target (or source) member or
 * index is missing is refused, with a message that names the path and why, and the document is
 * never changed; the operations the RFC allows on a missing location (add a new member, append
 * with {@code -}, insert at the array's length) still apply.
 */
class WorkingStatePatchTest {
  static final ObjectMapper JSON = new ObjectMapper();

  static JsonNode document() throws Exception {
    return JSON.readTree("""
        {"tools_used": [], "files_modified": ["a.ts", "b.ts"], "decisions_made": [], "pending_actions": [],
         "notes": {"kept": 1}}""");
  }

  static Stream<Arguments> refused() {
    return Stream.of(
        // remove
        Arguments.of("{\"op\":\"remove\",\"path\":\"/nope\"}", "/nope"),
        Arguments.of("{\"op\":\"remove\",\"path\":\"/notes/nope\"}", "/notes/nope"),
        Arguments.of("{\"op\":\"remove\",\"path\":\"/nope/deeper\"}", "/nope/deeper"),
        Arguments.of("{\"op\":\"remove\",\"path\":\"/files_modified/2\"}", "/files_modified/2"),
        Arguments.of("{\"op\":\"remove\",\"path\":\"/files_modified/-\"}", "/files_modified/-"),
        // replace
        Arguments.of("{\"op\":\"replace\",\"path\":\"/nope\",\"value\":1}", "/nope"),
        Arguments.of("{\"op\":\"replace\",\"path\":\"/notes/nope\",\"value\":1}", "/notes/nope"),
        Arguments.of("{\"op\":\"replace\",\"path\":\"/files_modified/2\",\"value\":\"c.ts\"}", "/files_modified/2"),
        Arguments.of("{\"op\":\"replace\",\"path\":\"/files_modified/-\",\"value\":\"c.ts\"}", "/files_modified/-"),
        // move
        Arguments.of("{\"op\":\"move\",\"from\":\"/nope\",\"path\":\"/moved\"}", "/nope"),
        Arguments.of("{\"op\":\"move\",\"from\":\"/notes/nope\",\"path\":\"/moved\"}", "/notes/nope"),
        Arguments.of("{\"op\":\"move\",\"from\":\"/files_modified/5\",\"path\":\"/moved\"}", "/files_modified/5"),
        Arguments.of("{\"op\":\"move\",\"from\":\"/notes/kept\",\"path\":\"/nope/deeper\"}", "/nope/deeper"),
        // copy
        Arguments.of("{\"op\":\"copy\",\"from\":\"/nope\",\"path\":\"/copied\"}", "/nope"),
        Arguments.of("{\"op\":\"copy\",\"from\":\"/files_modified/5\",\"path\":\"/copied\"}", "/files_modified/5"),
        Arguments.of("{\"op\":\"copy\",\"from\":\"/notes/kept\",\"path\":\"/files_modified/7\"}", "/files_modified/7"),
        // test
        Arguments.of("{\"op\":\"test\",\"path\":\"/nope\",\"value\":1}", "/nope"),
        Arguments.of("{\"op\":\"test\",\"path\":\"/notes/nope\",\"value\":1}", "/notes/nope"),
        Arguments.of("{\"op\":\"test\",\"path\":\"/files_modified/9\",\"value\":\"a.ts\"}", "/files_modified/9"),
        // add: the parent must exist, and an index may be at most the array's length
        Arguments.of("{\"op\":\"add\",\"path\":\"/nope/deeper\",\"value\":1}", "/nope/deeper"),
        Arguments.of("{\"op\":\"add\",\"path\":\"/files_modified/3\",\"value\":\"c.ts\"}", "/files_modified/3"));
  }

  @ParameterizedTest
  @MethodSource("refused")
  void anOperationOnAMissingMemberOrIndexIsRefusedNamingThePath(String op, String missing) throws Exception {
    JsonNode before = document();
    JsonNode patch = JSON.readTree("[" + op + "]");
    WorkingState.Applied applied = WorkingState.apply(before, patch);
    assertNull(applied.document(), "applied: " + op);
    assertNotNull(applied.refusal());
    assertTrue(applied.refusal().startsWith("the patch does not apply: "), applied.refusal());
    assertTrue(applied.refusal().contains(missing), "the refusal names " + missing + ": " + applied.refusal());
    assertEquals(document(), before, "the document was changed");
  }

  @ParameterizedTest
  @MethodSource("refused")
  void aMissingPathLaterInAPatchRefusesTheWholePatch(String op, String missing) throws Exception {
    JsonNode before = document();
    JsonNode patch = JSON.readTree("[{\"op\":\"add\",\"path\":\"/tools_used/-\",\"value\":\"grep\"}, " + op + "]");
    WorkingState.Applied applied = WorkingState.apply(before, patch);
    assertNull(applied.document(), "applied: " + op);
    assertTrue(applied.refusal().contains("operation 2"), applied.refusal());
    assertEquals(document(), before);
  }

  static Stream<Arguments> allowed() {
    return Stream.of(
        Arguments.of("{\"op\":\"add\",\"path\":\"/new\",\"value\":1}", "/new", "1"),
        Arguments.of("{\"op\":\"add\",\"path\":\"/notes/new\",\"value\":2}", "/notes/new", "2"),
        Arguments.of("{\"op\":\"add\",\"path\":\"/files_modified/-\",\"value\":\"c.ts\"}", "/files_modified/2", "\"c.ts\""),
        Arguments.of("{\"op\":\"add\",\"path\":\"/files_modified/2\",\"value\":\"c.ts\"}", "/files_modified/2", "\"c.ts\""),
        Arguments.of("{\"op\":\"remove\",\"path\":\"/files_modified/1\"}", "/files_modified/1", null),
        Arguments.of("{\"op\":\"replace\",\"path\":\"/notes/kept\",\"value\":3}", "/notes/kept", "3"),
        Arguments.of("{\"op\":\"move\",\"from\":\"/notes/kept\",\"path\":\"/kept\"}", "/kept", "1"),
        Arguments.of("{\"op\":\"copy\",\"from\":\"/files_modified/0\",\"path\":\"/files_modified/-\"}", "/files_modified/2", "\"a.ts\""),
        Arguments.of("{\"op\":\"test\",\"path\":\"/notes/kept\",\"value\":1}", "/notes/kept", "1"));
  }

  @ParameterizedTest
  @MethodSource("allowed")
  void operationsTheRfcAllowsStillApply(String op, String at, String expected) throws Exception {
    WorkingState.Applied applied = WorkingState.apply(document(), JSON.readTree("[" + op + "]"));
    assertNull(applied.refusal(), op);
    JsonNode value = applied.document().at(at);
    if (expected == null) assertTrue(value.isMissingNode(), at + " still there");
    else assertEquals(JSON.readTree(expected), value);
  }
}
