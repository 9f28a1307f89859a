package dev.durablesessions.session.state;

import com.fasterxml.jackson.databind.JsonNode;
import dev.durablesessions.CborSerializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The state document at a few points of a session's history, so that a historic view (the
 * state at an offset or a turn, a diff, the last K turns' commits) reads a bounded stretch of
 * the journal instead of everything from offset 1.
 *
 * <p>Rule: a commit becomes a checkpoint (its offset, turn, attempt and the document after it)
 * when it lies at least {@code every} offsets after the previous checkpoint. So every commit
 * between two checkpoints lies less than {@code every} offsets after the first of them, and
 * the document at any point is the nearest checkpoint before it plus the commits of at most
 * {@code every - 1} events after it. Commits' turns and attempts only grow along the log, so
 * the same holds for "at the end of turn T" and "at the end of attempt A of turn T".
 *
 * <p>The first checkpoint is where the record starts: offset 0 with the empty document for a
 * session that always had one, or the state as it was recovered for a session whose snapshot
 * was written before checkpoints existed; views before that point fold from offset 1, as they
 * always did. Kept in {@code SessionState} (and its snapshots); one document per {@code every}
 * events at most.
 *
 * @param every the spacing this record was built with (fixed for its life: the rule depends on it)
 */
public record StateCheckpoints(int every, List<Checkpoint> checkpoints) implements CborSerializable {

  /** One point of the history: the document once the commit at {@code offset} had happened. */
  public record Checkpoint(long offset, int turn, int attempt, JsonNode document) implements CborSerializable {
    /** True when this point lies at or before the end of attempt {@code attempt} of turn {@code turn}. */
    boolean notAfter(int turn, int attempt) {
      return this.turn < turn || (this.turn == turn && this.attempt <= attempt);
    }
  }

  /** Spacing of new records, in events; the same as the default snapshot interval. */
  public static final int DEFAULT_EVERY = 1000;

  /** Where the views must read: fold the commits of events {@code from..to} onto {@code base}. */
  public record Read(JsonNode base, long from, long to) {
    /** Nothing to read: {@code base} is the answer. */
    public boolean empty() {
      return from > to;
    }
  }

  public StateCheckpoints {
    checkpoints = List.copyOf(checkpoints);
  }

  /** A new session's record: it covers everything. */
  public static StateCheckpoints start(int every) {
    return new StateCheckpoints(every, List.of(new Checkpoint(0, 0, 0, WorkingState.initial())));
  }

  /** For a state recovered without a record: it starts where that state is. */
  public static StateCheckpoints from(long head, int turn, int attempt, JsonNode document, int every) {
    return new StateCheckpoints(every, List.of(new Checkpoint(head, turn, attempt, document)));
  }

  /** After a commit at {@code offset} that left {@code document}: a new checkpoint if the rule says so. */
  public StateCheckpoints afterCommit(long offset, int turn, int attempt, JsonNode document) {
    Checkpoint last = checkpoints.get(checkpoints.size() - 1);
    if (offset - last.offset() < every) return this;
    List<Checkpoint> next = new ArrayList<>(checkpoints.size() + 1);
    next.addAll(checkpoints);
    next.add(new Checkpoint(offset, turn, attempt, document));
    return new StateCheckpoints(every, Collections.unmodifiableList(next));
  }

  /** The document once every event up to {@code offset} (at most {@code head}) had happened. */
  public Read atOffset(long offset, long head) {
    Checkpoint base = null;
    for (Checkpoint c : checkpoints) if (c.offset() <= offset) base = c;
    return base == null ? fromStart(offset) : after(base, Math.min(offset, head));
  }

  /** The document at the end of turn {@code turn} (its latest attempt). */
  public Read atTurn(int turn, long head) {
    return atAttempt(turn, Integer.MAX_VALUE, head);
  }

  /** The document at the end of attempt {@code attempt} of turn {@code turn}. */
  public Read atAttempt(int turn, int attempt, long head) {
    Checkpoint base = baseFor(turn, attempt);
    return base == null ? fromStart(head) : after(base, head);
  }

  /**
   * Everything from the end of one point to the end of a later one: both documents and the
   * commits between them. {@code (fromTurn, fromAttempt)} must not be after {@code (toTurn, toAttempt)}.
   */
  public Read between(int fromTurn, int fromAttempt, int toTurn, int toAttempt, long head) {
    Checkpoint base = baseFor(fromTurn, fromAttempt);
    Checkpoint end = baseFor(toTurn, toAttempt);
    if (base == null || end == null) return fromStart(head);
    return new Read(base.document(), base.offset() + 1, Math.min(head, end.offset() + every - 1));
  }

  /** Every commit after the end of turn {@code turn}, up to the head. */
  public Read since(int turn, long head) {
    Checkpoint base = baseFor(turn, Integer.MAX_VALUE);
    return base == null ? fromStart(head) : new Read(base.document(), base.offset() + 1, head);
  }

  private Checkpoint baseFor(int turn, int attempt) {
    Checkpoint base = null;
    // Null when even the first lies after that point: a record that starts later than offset 0
    // knows nothing about the commits before its start.
    for (Checkpoint c : checkpoints) if (c.notAfter(turn, attempt)) base = c;
    return base;
  }

  private Read after(Checkpoint base, long to) {
    return new Read(base.document(), base.offset() + 1, Math.min(to, base.offset() + every - 1));
  }

  /** Every event up to {@code head}, from the empty document. */
  public static Read everything(long head) {
    return fromStart(head);
  }

  private static Read fromStart(long to) {
    return new Read(WorkingState.initial(), 1, to);
  }
}
