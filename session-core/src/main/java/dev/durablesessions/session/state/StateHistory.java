package dev.durablesessions.session.state;

import com.fasterxml.jackson.databind.JsonNode;
import com.flipkart.zjsonpatch.JsonDiff;
import dev.durablesessions.session.SessionEvent;
import dev.durablesessions.session.SessionEvent.StateCommitted;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The state document through time, folded from a session's commits in offset order: the state
 * at an offset or at the end of a turn (or of one attempt of it), the diff between two of
 * those, and the commit log with filters. Pure: the caller reads the events from the journal.
 */
public final class StateHistory {
  private final JsonNode base;
  private final List<StateCommitted> commits = new ArrayList<>();
  private final List<JsonNode> after = new ArrayList<>();

  /** Every event from offset 1. */
  public StateHistory(Iterable<SessionEvent> events) {
    this(WorkingState.initial(), events);
  }

  /**
   * The events after a point whose document was {@code base} (a {@link StateCheckpoints}
   * checkpoint): the views answer for that point and later ones, and the commits are those read.
   */
  public StateHistory(JsonNode base, Iterable<SessionEvent> events) {
    this.base = base;
    JsonNode doc = base;
    for (SessionEvent e : events) {
      if (e instanceof StateCommitted c) {
        WorkingState.Applied applied = WorkingState.apply(doc, c.patch());
        if (applied.document() == null) throw new IllegalStateException("journaled commit " + c.offset() + " does not apply");
        doc = applied.document();
        commits.add(c);
        after.add(doc);
      }
    }
  }

  public List<StateCommitted> commits() {
    return commits;
  }

  /** The document as it was once every event up to {@code offset} had happened. */
  public JsonNode atOffset(long offset) {
    JsonNode doc = base;
    for (int i = 0; i < commits.size() && commits.get(i).offset() <= offset; i++) doc = after.get(i);
    return doc;
  }

  /** The document at the end of turn {@code turn} (its latest attempt); turn 0 is before the first turn. */
  public JsonNode atTurn(int turn) {
    JsonNode doc = base;
    for (int i = 0; i < commits.size() && commits.get(i).turn() <= turn; i++) doc = after.get(i);
    return doc;
  }

  /** The document at the end of one attempt of a turn (the state it was built on if the attempt committed nothing). */
  public JsonNode atAttempt(int turn, int attempt) {
    JsonNode doc = base;
    for (int i = 0; i < commits.size(); i++) {
      StateCommitted c = commits.get(i);
      if (c.turn() < turn || (c.turn() == turn && c.attempt() <= attempt)) doc = after.get(i);
      else break;
    }
    return doc;
  }

  /** An RFC 6902 patch that turns {@code from} into {@code to}. */
  public static JsonNode diff(JsonNode from, JsonNode to) {
    return JsonDiff.asJson(from, to);
  }

  /** Commits of turns after {@code fromTurn} up to and including {@code toTurn}. */
  public List<StateCommitted> between(int fromTurn, int toTurn) {
    return commits.stream().filter(c -> c.turn() > fromTurn && c.turn() <= toTurn).toList();
  }

  /**
   * The commit log filtered: by tool (null for any), by a path in the document (commits whose
   * patch touches it or something under it; null for any), and to the last {@code lastTurns}
   * turns before and including {@code currentTurn} (0 or less for all).
   */
  public List<StateCommitted> filter(String tool, String path, int lastTurns, int currentTurn) {
    return commits.stream()
        .filter(c -> tool == null || tool.equals(c.tool()))
        .filter(c -> path == null || touchesPath(c, path))
        .filter(c -> lastTurns <= 0 || c.turn() > currentTurn - lastTurns)
        .toList();
  }

  private static boolean touchesPath(StateCommitted c, String path) {
    for (JsonNode op : c.patch()) if (WorkingState.touches(op, path)) return true;
    return false;
  }

  /** The distinct document paths these commits touched, under {@code path} if given. */
  public static Set<String> touched(List<StateCommitted> commits, String path) {
    Set<String> paths = new TreeSet<>();
    for (StateCommitted c : commits) {
      for (JsonNode op : c.patch()) {
        String p = op.path("path").asText();
        if (path == null || WorkingState.touches(op, path)) paths.add(p);
      }
    }
    return paths;
  }
}
