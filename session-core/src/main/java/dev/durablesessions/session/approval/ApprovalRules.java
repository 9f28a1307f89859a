package dev.durablesessions.session.approval;

import com.fasterxml.jackson.databind.JsonNode;
import dev.durablesessions.session.AppendBody;
import dev.durablesessions.session.ErrorCode;
import dev.durablesessions.session.Outcome.Refused;
import dev.durablesessions.session.Participant;
import dev.durablesessions.session.Role;
import dev.durablesessions.session.SessionState;

/**
 * Tool approvals, as rules over the session's state: who may ask for a call's approval (its
 * caller, or an operator), who may decide it (its addressee, once), and when. Changes nothing;
 * the caller has already checked what every append is held to (a closed session, a role that
 * may not append).
 */
public final class ApprovalRules {
  private ApprovalRules() {}

  /** The longest approval id: like session ids, ids are names, not payloads. */
  public static final int MAX_APPROVAL_ID = 128;

  /**
   * How deep an approval's input may nest. The input is stored a few levels down (in the
   * event, the pending approval, the session's snapshot, the summary), and JSON writers refuse
   * more than 1000 levels: a frame at the reader's limit would be accepted and then break every
   * view of the session. Tool arguments are nowhere near this.
   */
  public static final int MAX_INPUT_DEPTH = 64;

  /** Null if {@code by} may ask for this approval now; the refusal otherwise. */
  public static Refused request(SessionState state, Participant by, AppendBody.RequestApproval r) {
    if (by.role() != Role.AGENT && !by.role().isOperator()) {
      return new Refused(ErrorCode.FORBIDDEN, "only agents and operators ask for tool approvals");
    }
    if (blank(r.toolCallId()) || blank(r.approvalId()) || r.to() == null || !r.to().isValid()) {
      return invalid("tool.approval.request needs a toolCallId, an approvalId and exactly one of to.role or to.participant");
    }
    if (r.approvalId().length() > MAX_APPROVAL_ID) return invalid("approvalId is at most " + MAX_APPROVAL_ID + " characters");
    if (r.input() != null && depth(r.input(), MAX_INPUT_DEPTH + 1) > MAX_INPUT_DEPTH) {
      return invalid("input is nested at most " + MAX_INPUT_DEPTH + " levels deep");
    }
    SessionState.ToolCall call = state.toolCalls().get(r.toolCallId());
    if (call == null) return new Refused(ErrorCode.TOOL_CALL_NOT_FOUND, "no tool call " + r.toolCallId());
    if (call.outcome() != null) {
      return new Refused(ErrorCode.TOOL_CALL_FINISHED, "tool call " + r.toolCallId() + " already ended " + call.outcome().wire());
    }
    if (call.caller() != null && !call.caller().equals(by.id()) && !by.role().isOperator()) {
      return new Refused(ErrorCode.FORBIDDEN, "tool call " + r.toolCallId() + " belongs to " + call.caller());
    }
    if (state.approvals().known(r.approvalId())) {
      return new Refused(ErrorCode.APPROVAL_EXISTS, "approval " + r.approvalId() + " exists already");
    }
    return null;
  }

  /** Null if {@code by} may answer this approval now; the refusal otherwise. */
  public static Refused answer(SessionState state, Participant by, AppendBody.AnswerApproval a) {
    if (blank(a.approvalId()) || a.approved() == null) {
      return invalid("tool.approval.answer needs an approvalId and approved (true or false)");
    }
    Approvals.Pending pending = state.approvals().pending(a.approvalId());
    if (pending == null) return new Refused(ErrorCode.APPROVAL_NOT_FOUND, "no pending approval " + a.approvalId());
    if (!pending.to().addresses(by)) {
      return new Refused(ErrorCode.NOT_ADDRESSEE, "approval " + a.approvalId() + " is not addressed to " + by.id());
    }
    return null;
  }

  /** The nesting depth of {@code node} (a scalar is 0, {@code []} is 1), counted up to {@code limit}. */
  static int depth(JsonNode node, int limit) {
    if (!node.isContainerNode() || limit == 0) return 0;
    int deepest = 0;
    for (JsonNode child : node) {
      deepest = Math.max(deepest, depth(child, limit - 1));
      if (deepest + 1 >= limit) break;
    }
    return deepest + 1;
  }

  private static Refused invalid(String message) {
    return new Refused(ErrorCode.INVALID_FRAME, message);
  }

  private static boolean blank(String s) {
    return s == null || s.isBlank();
  }
}
