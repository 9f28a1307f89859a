package dev.durablesessions.session.views;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import dev.durablesessions.session.AgentStatus;
import dev.durablesessions.session.SessionEvent;
import dev.durablesessions.session.SessionState;
import dev.durablesessions.session.SummaryReply;
import dev.durablesessions.session.transfer.Control;
import dev.durablesessions.session.transfer.HandoffNote;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the read side of a session answers with, built by {@link SessionViews}: records whose
 * components are the JSON members the HTTP API (and MCP) return, in that order. Event lists are
 * declared as {@code List<SessionEvent>} so each event carries its {@code type}.
 */
public final class StateViews {
  private StateViews() {}

  /** The state document now. */
  public record Now(String sessionId, long head, SessionState.Turn turn, JsonNode document) {}

  /** The state document once every event up to {@code at} had happened. */
  public record AtOffset(String sessionId, long head, long at, JsonNode document) {}

  /** The state document at the end of turn {@code atTurn}. */
  public record AtTurn(String sessionId, long head, long atTurn, JsonNode document) {}

  /** From the end of turn {@code from} to the end of turn {@code to}: the patch and the commits in between. */
  public record TurnDiff(int from, int to, JsonNode patch, List<SessionEvent> commits) {}

  /** Between two attempts of one turn: the patch and the commits of the attempts in between. */
  public record AttemptDiff(int turn, long attempt, long vs, JsonNode patch, List<SessionEvent> commits) {}

  /** The filtered commit log, and the document paths those commits touched. */
  public record CommitLog(int turn, List<SessionEvent> commits, Set<String> touched) {}

  /**
   * What an agent needs to carry on after a restart, bounded whatever the history: the latest
   * handoff note, what was addressed to it since {@code since}, the working state, open runs,
   * pending approvals and the head.
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record ResumePackage(
      String sessionId,
      long head,
      long since,
      boolean truncated,
      HandoffNote note,
      Control control,
      SessionState.Turn turn,
      JsonNode state,
      OpenRuns openRuns,
      List<SummaryReply.PendingApproval> pendingApprovals,
      List<SessionEvent> addressed) {}

  /** Streams still open (and whether their owner went silent), tool calls without a result, agents' statuses. */
  public record OpenRuns(List<OpenStream> streams, List<OpenToolCall> toolCalls, Map<String, AgentStatus> agentStatus) {}

  public record OpenStream(String messageId, String by, boolean stalled) {}

  public record OpenToolCall(String toolCallId, String name, int turn) {}

  /** The latest handoff note (absent until one was given) and the control phase it belongs to. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Handoff(String sessionId, long head, HandoffNote note, Control control) {}

  /** Every receipt of the session, or one participant's. */
  public record Receipts(String sessionId, List<SessionState.Receipt> receipts) {}

  /** Whether (and on which device, when) a participant confirmed an offset. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Reach(String participant, long offset, boolean reached, String device, Long confirmedUpTo, Instant at) {}
}
