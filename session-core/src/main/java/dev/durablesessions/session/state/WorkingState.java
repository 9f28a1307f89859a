package dev.durablesessions.session.state;

import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.flipkart.zjsonpatch.CompatibilityFlags;
import com.flipkart.zjsonpatch.JsonPatch;
import com.flipkart.zjsonpatch.JsonPatchApplicationException;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.Set;

/**
 * The session's state document and the rules a commit's patch must keep. The document is JSON
 * with four well-known sections (what the agent used, changed, decided and still has to do)
 * plus whatever the agent adds. It changes only by RFC 6902 patches (zjsonpatch applies them,
 * never mutating its input); a patch that does not apply, or that breaks a section's shape,
 * or that marks a finished action as not done, is refused and changes nothing.
 */
public final class WorkingState {
  private WorkingState() {}

  public static final String TOOLS_USED = "tools_used";
  public static final String FILES_MODIFIED = "files_modified";
  public static final String DECISIONS_MADE = "decisions_made";
  public static final String PENDING_ACTIONS = "pending_actions";

  public static JsonNode initial() {
    ObjectNode doc = JsonNodeFactory.instance.objectNode();
    doc.putArray(TOOLS_USED);
    doc.putArray(FILES_MODIFIED);
    doc.putArray(DECISIONS_MADE);
    doc.putArray(PENDING_ACTIONS);
    return doc;
  }

  /** The patched document, or why the patch is refused. */
  public record Applied(JsonNode document, String refusal) {
    static Applied refuse(String why) {
      return new Applied(null, why);
    }
  }

  public static Applied apply(JsonNode document, JsonNode patch) {
    if (patch == null || !patch.isArray()) return Applied.refuse("the patch is a JSON array of RFC 6902 operations");
    try {
      JsonPatch.validate(patch, STRICT);
    } catch (RuntimeException e) {
      // zjsonpatch reports a malformed pointer ("files" without a leading /) as IllegalArgumentException
      return Applied.refuse("the patch does not apply: " + e.getMessage());
    }
    // One operation at a time, so that a refusal can say which one failed and where.
    JsonNode next = document;
    for (int i = 0; i < patch.size(); i++) {
      JsonNode op = patch.get(i);
      String refusal;
      try {
        refusal = missingSource(next, op);
        if (refusal == null) next = JsonPatch.apply(JsonNodeFactory.instance.arrayNode().add(op), next, STRICT);
      } catch (RuntimeException e) {
        // zjsonpatch's own refusals, and what it lets through to Jackson (an index of "-" in a replace)
        refusal = e.getMessage();
      }
      if (refusal != null) {
        return Applied.refuse("the patch does not apply: operation " + (i + 1) + " (" + describe(op) + "): " + refusal);
      }
    }
    String broken = shapeProblem(document, next);
    return broken == null ? new Applied(next, null) : Applied.refuse(broken);
  }

  /**
   * RFC 6902 throughout: an operation on a member or index that does not exist is an error
   * (zjsonpatch ignores a {@code remove} of a missing object member unless told otherwise).
   */
  private static final EnumSet<CompatibilityFlags> STRICT = EnumSet.of(CompatibilityFlags.FORBID_REMOVE_MISSING_OBJECT);

  /**
   * remove, replace and test act on an existing value, move and copy read one: a member or
   * index that is not there (including the {@code -} past an array's end) is refused here,
   * whatever the library would do with it.
   */
  private static String missingSource(JsonNode document, JsonNode op) {
    String kind = op.path("op").asText();
    String field = switch (kind) {
      case "remove", "replace", "test" -> "path";
      case "move", "copy" -> "from";
      default -> null;
    };
    if (field == null) return null;
    String pointer = op.path(field).asText();
    if (!document.at(JsonPointer.compile(pointer)).isMissingNode()) return null;
    return "no value at " + pointer + " (" + kind + " needs an existing member or array index)";
  }

  private static String describe(JsonNode op) {
    String described = op.path("op").asText("?") + " " + op.path("path").asText("?");
    return op.has("from") ? described + " from " + op.path("from").asText("?") : described;
  }

  private static String shapeProblem(JsonNode before, JsonNode after) {
    if (!after.isObject()) return "the state document must stay a JSON object";
    for (String section : new String[] {TOOLS_USED, FILES_MODIFIED, DECISIONS_MADE, PENDING_ACTIONS}) {
      if (!after.path(section).isArray()) return "\"" + section + "\" must stay an array";
    }
    for (JsonNode d : after.get(DECISIONS_MADE)) {
      if (!d.path("what").isTextual() || !d.path("why").isTextual()) return "every decision has a string \"what\" and \"why\"";
    }
    Set<String> ids = new HashSet<>();
    for (JsonNode a : after.get(PENDING_ACTIONS)) {
      if (!a.path("id").isTextual() || !a.path("done").isBoolean()) {
        return "every pending action has a string \"id\" and a boolean \"done\"";
      }
      if (!ids.add(a.get("id").asText())) return "pending action ids are unique: " + a.get("id").asText();
    }
    // A finished task is never redone: done stays done (and a done action is never removed).
    for (JsonNode a : before.get(PENDING_ACTIONS)) {
      if (!a.path("done").asBoolean()) continue;
      String id = a.path("id").asText();
      JsonNode now = find(after.get(PENDING_ACTIONS), id);
      if (now == null || !now.path("done").asBoolean()) return "pending action " + id + " is done and stays done";
    }
    return null;
  }

  private static JsonNode find(JsonNode actions, String id) {
    for (JsonNode a : actions) if (id.equals(a.path("id").asText())) return a;
    return null;
  }

  /** True if the operation touches {@code path} or something under it. */
  public static boolean touches(JsonNode op, String path) {
    return under(op.path("path").asText(""), path) || under(op.path("from").asText(""), path);
  }

  private static boolean under(String opPath, String path) {
    return !opPath.isEmpty() && (opPath.equals(path) || opPath.startsWith(path.endsWith("/") ? path : path + "/"));
  }
}
