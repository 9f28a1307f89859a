package dev.durablesessions.session.approval;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import dev.durablesessions.CborSerializable;
import dev.durablesessions.session.SessionEvent;
import dev.durablesessions.session.Target;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The tool approvals a session remembers, both bounded whatever the history: the approvals
 * still waiting for their answer ({@code pending}, at most {@link #MAX_PENDING}, by approval id,
 * oldest first) and the ids of the most recent requests, answered or not ({@code recent}, at
 * most {@link #MAX_RECENT}, approval id to the requester's participant id), which is what an
 * approval id must be unique among. Each method returns a new value; maps are replaced, never
 * mutated, and keep their order through snapshots, so replay forgets the same ones.
 *
 * <p>A pending approval carries the input shown to the approver, up to a frame's size; the
 * smaller bound on pending ones keeps a session's state (and its snapshots) small even if an
 * agent asks and nobody answers.
 */
public record Approvals(Map<String, Pending> pending, Map<String, String> recent) implements CborSerializable {

  public static final int MAX_PENDING = 64;

  public static final int MAX_RECENT = 256;

  /** One approval waiting for its answer: what the requested event said, and who asked. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Pending(
      String approvalId, String toolCallId, String name, Target to, JsonNode input, String text, long offset, String requester)
      implements CborSerializable {}

  /** Snapshots written before approvals existed have neither map. */
  public Approvals {
    pending = pending == null ? Map.of() : pending;
    recent = recent == null ? Map.of() : recent;
  }

  public static Approvals none() {
    return new Approvals(Map.of(), Map.of());
  }

  /**
   * Whether {@code approvalId} names one of the {@link #MAX_RECENT} most recent requests, or one
   * still pending (which may be older than those, if many newer ones were answered).
   */
  public boolean known(String approvalId) {
    return recent.containsKey(approvalId) || pending.containsKey(approvalId);
  }

  /** The pending approval with this id, or null (never asked, answered, dropped with its call, or forgotten). */
  public Pending pending(String approvalId) {
    return pending.get(approvalId);
  }

  /** The participant id that asked for {@code approvalId}, while it is among the recent ones; else null. */
  public String requester(String approvalId) {
    return recent.get(approvalId);
  }

  public Approvals requested(SessionEvent.ToolApprovalRequested e) {
    Pending p = new Pending(e.approvalId(), e.toolCallId(), e.name(), e.to(), e.input(), e.text(), e.offset(), e.by().id());
    return new Approvals(bounded(put(pending, e.approvalId(), p), MAX_PENDING), bounded(put(recent, e.approvalId(), e.by().id()), MAX_RECENT));
  }

  /** Answered: the first answer wins, so it is no longer pending. */
  public Approvals answered(String approvalId) {
    if (!pending.containsKey(approvalId)) return this;
    LinkedHashMap<String, Pending> copy = new LinkedHashMap<>(pending);
    copy.remove(approvalId);
    return new Approvals(Collections.unmodifiableMap(copy), recent);
  }

  /** The call ended (its tool.result): whatever was still waiting for approval of it is moot and dropped. */
  public Approvals callEnded(String toolCallId) {
    if (pending.values().stream().noneMatch(p -> p.toolCallId().equals(toolCallId))) return this;
    LinkedHashMap<String, Pending> copy = new LinkedHashMap<>(pending);
    copy.values().removeIf(p -> p.toolCallId().equals(toolCallId));
    return new Approvals(Collections.unmodifiableMap(copy), recent);
  }

  private static <V> Map<String, V> put(Map<String, V> map, String key, V value) {
    LinkedHashMap<String, V> copy = new LinkedHashMap<>(map);
    copy.remove(key);
    copy.put(key, value);
    return copy;
  }

  /** The newest {@code max}: the oldest entries go first. */
  private static <V> Map<String, V> bounded(Map<String, V> map, int max) {
    LinkedHashMap<String, V> copy = new LinkedHashMap<>(map);
    while (copy.size() > max) copy.remove(copy.keySet().iterator().next());
    return Collections.unmodifiableMap(copy);
  }
}
