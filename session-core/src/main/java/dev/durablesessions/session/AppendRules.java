package dev.durablesessions.session;

import dev.durablesessions.session.AppendBody.AnswerSignal;
import dev.durablesessions.session.AppendBody.AppendDelta;
import dev.durablesessions.session.AppendBody.EndStream;
import dev.durablesessions.session.AppendBody.PostMessage;
import dev.durablesessions.session.AppendBody.SendSignal;
import dev.durablesessions.session.AppendBody.SetStatus;
import dev.durablesessions.session.AppendBody.StartStream;
import dev.durablesessions.session.AppendBody.Suggest;
import dev.durablesessions.session.Outcome.Refused;
import dev.durablesessions.session.approval.ApprovalRules;
import dev.durablesessions.session.producer.SeqRange;
import dev.durablesessions.session.transfer.ControlRules;
import dev.durablesessions.session.state.Provenance;
import dev.durablesessions.session.state.WorkingState;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/** Who may append what, now; and the event an accepted append becomes. */
final class AppendRules {
  private AppendRules() {}

  /** Null if {@code by} may append {@code body} now; the refusal otherwise. Changes nothing. */
  static Refused check(SessionState state, Participant by, AppendBody body) {
    if (state.closed()) return new Refused(ErrorCode.SESSION_CLOSED, "the session is closed");
    if (!by.role().mayAppend() || by.role() == Role.SYSTEM) {
      return new Refused(ErrorCode.FORBIDDEN, "role " + by.role().wire() + " may not append");
    }
    if (body instanceof PostMessage m) {
      if (m.text() == null) return invalid("message needs text");
      return floor(state, by);
    } else if (body instanceof StartStream s) {
      if (blank(s.messageId())) return invalid("stream.start needs a messageId");
      Refused floor = floor(state, by);
      if (floor != null) return floor;
      if (state.streamOwner(s.messageId()) != null) {
        return new Refused(ErrorCode.STREAM_EXISTS, "stream " + s.messageId() + " is already open");
      }
    } else if (body instanceof AppendDelta d) {
      if (blank(d.messageId()) || d.text() == null) return invalid("stream.delta needs a messageId and text");
      if (!by.id().equals(state.streamOwner(d.messageId()))) return streamNotOpen(d.messageId(), by);
    } else if (body instanceof EndStream e) {
      if (blank(e.messageId()) || e.reason() == null) return invalid("stream.end needs a messageId and a reason");
      if (e.reason() == EndReason.AGENT_LOST) return invalid("agent_lost is decided by the session");
      if (!by.id().equals(state.streamOwner(e.messageId()))) return streamNotOpen(e.messageId(), by);
    } else if (body instanceof SendSignal g) {
      if (g.kind() == null || g.to() == null || !g.to().isValid()) {
        return invalid("signal needs a kind and exactly one of to.role or to.participant");
      }
    } else if (body instanceof AnswerSignal a) {
      if (a.outcome() == null) return invalid("signal.answer needs an outcome (consumed or ignored)");
      Target to = state.openSignals().get(a.signal());
      if (to == null) return new Refused(ErrorCode.SIGNAL_NOT_FOUND, "no unanswered signal at offset " + a.signal());
      if (!to.addresses(by)) return new Refused(ErrorCode.NOT_ADDRESSEE, "the signal at " + a.signal() + " is not addressed to " + by.id());
    } else if (body instanceof SetStatus s) {
      if (by.role() != Role.AGENT) return new Refused(ErrorCode.FORBIDDEN, "only agents publish a status");
      if (s.status() == null) return invalid("status needs a status");
    } else if (body instanceof Suggest s) {
      if (by.role() != Role.AGENT) return new Refused(ErrorCode.FORBIDDEN, "only agents make suggestions");
      if (s.text() == null) return invalid("suggestion needs text");
    } else if (body instanceof AppendBody.Commit c) {
      if (!mayKeepState(by)) return new Refused(ErrorCode.FORBIDDEN, "only agents and operators commit state");
      if (c.evictedKeys() != null && c.evictedKeys().stream().anyMatch(java.util.Objects::isNull)) {
        return invalid("evictedKeys is a list of strings");
      }
      if (c.toolCallId() != null && !state.toolCalls().containsKey(c.toolCallId())) {
        return new Refused(ErrorCode.TOOL_CALL_NOT_FOUND, "no tool call " + c.toolCallId());
      }
      WorkingState.Applied applied = WorkingState.apply(state.document(), c.patch());
      if (applied.document() == null) return new Refused(ErrorCode.PATCH_REJECTED, applied.refusal());
    } else if (body instanceof AppendBody.CallTool t) {
      if (!mayKeepState(by)) return new Refused(ErrorCode.FORBIDDEN, "only agents and operators call tools");
      if (blank(t.toolCallId()) || blank(t.name())) return invalid("tool.call needs a toolCallId and a name");
      if (state.toolCalls().containsKey(t.toolCallId())) {
        return new Refused(ErrorCode.TOOL_CALL_EXISTS, "tool call " + t.toolCallId() + " exists already");
      }
    } else if (body instanceof AppendBody.ToolResult r) {
      if (!mayKeepState(by)) return new Refused(ErrorCode.FORBIDDEN, "only agents and operators report tool results");
      if (blank(r.toolCallId()) || r.outcome() == null) return invalid("tool.result needs a toolCallId and an outcome");
      SessionState.ToolCall call = state.toolCalls().get(r.toolCallId());
      if (call == null) return new Refused(ErrorCode.TOOL_CALL_NOT_FOUND, "no tool call " + r.toolCallId());
      if (call.outcome() != null) return new Refused(ErrorCode.TOOL_CALL_FINISHED, "tool call " + r.toolCallId() + " already ended " + call.outcome().wire());
      if (call.caller() != null && !call.caller().equals(by.id()) && !by.role().isOperator()) {
        return new Refused(ErrorCode.FORBIDDEN, "tool call " + r.toolCallId() + " belongs to " + call.caller());
      }
    } else if (body instanceof AppendBody.RetryTurn) {
      if (by.role() != Role.AGENT) return new Refused(ErrorCode.FORBIDDEN, "only agents retry a turn");
      if (state.turn().number() == 0) return new Refused(ErrorCode.NO_TURN, "no turn has started yet");
    } else if (body instanceof AppendBody.WriteNote n) {
      if (!mayKeepState(by)) return new Refused(ErrorCode.FORBIDDEN, "only agents and operators write handoff notes");
      if (n.note() == null) return invalid("note needs a note: {inProgress, decided:[{what, why}], next, canWait, waitingOn}");
    } else if (body instanceof AppendBody.RequestApproval r) {
      return ApprovalRules.request(state, by, r);
    } else if (body instanceof AppendBody.AnswerApproval a) {
      return ApprovalRules.answer(state, by, a);
    }
    return null;
  }

  private static boolean mayKeepState(Participant by) {
    return by.role() == Role.AGENT || by.role().isOperator();
  }

  private static Refused floor(SessionState state, Participant by) {
    if (state.control().floorAllows(by)) return null;
    return new Refused(ErrorCode.FLOOR_NOT_HELD,
        by.id() + " does not have the floor (" + ControlRules.phase(state.control()) + "); it may not speak as the assistant");
  }

  static SessionEvent toEvent(long offset, Instant at, Participant by, SeqRange range, AppendBody body, SessionState state) {
    if (body instanceof AppendBody.Commit c) {
      List<String> evicted = c.evictedKeys() == null ? List.of() : List.copyOf(c.evictedKeys());
      Provenance provenance = c.provenance() == null ? Provenance.UNVERIFIED : c.provenance();
      return new SessionEvent.StateCommitted(offset, by, at, range, state.turn().number(), state.turn().attempt(), c.tool(),
          c.toolCallId(), c.inputHash(), c.outputSummary(), provenance, c.error(), c.patch(), evicted);
    } else if (body instanceof AppendBody.CallTool t) {
      return new SessionEvent.ToolCalled(offset, by, at, range, t.toolCallId(), t.name(), t.inputHash(), state.turn().number());
    } else if (body instanceof AppendBody.ToolResult r) {
      return new SessionEvent.ToolResulted(offset, by, at, range, r.toolCallId(), r.outcome(), r.summary(), r.error());
    } else if (body instanceof AppendBody.RetryTurn r) {
      return new SessionEvent.TurnRetried(offset, by, at, range, state.turn().number(), state.turn().attempt() + 1, r.reason());
    } else if (body instanceof AppendBody.RequestApproval r) {
      String name = state.toolCalls().get(r.toolCallId()).name();
      return new SessionEvent.ToolApprovalRequested(offset, by, at, range, r.approvalId(), r.toolCallId(), name, r.to(),
          r.input(), r.text());
    } else if (body instanceof AppendBody.AnswerApproval a) {
      String toolCallId = state.approvals().pending(a.approvalId()).toolCallId();
      return new SessionEvent.ToolApprovalAnswered(offset, by, at, range, a.approvalId(), toolCallId, a.approved(), a.reason());
    }
    if (body instanceof PostMessage m) {
      String id = blank(m.messageId()) ? UUID.randomUUID().toString() : m.messageId();
      return new SessionEvent.MessagePosted(offset, by, at, range, id, m.text());
    } else if (body instanceof StartStream s) {
      return new SessionEvent.StreamStarted(offset, by, at, range, s.messageId());
    } else if (body instanceof AppendDelta d) {
      return new SessionEvent.StreamDelta(offset, by, at, range, d.messageId(), d.text(), 1);
    } else if (body instanceof EndStream e) {
      return new SessionEvent.StreamEnded(offset, by, at, range, e.messageId(), e.reason(), e.error());
    } else if (body instanceof SendSignal g) {
      return new SessionEvent.SignalSent(offset, by, at, range, g.kind(), g.to(), g.text(), g.toolCallId());
    } else if (body instanceof AnswerSignal a) {
      return new SessionEvent.SignalAnswered(offset, by, at, range, a.signal(), a.outcome(), a.text());
    } else if (body instanceof SetStatus s) {
      return new SessionEvent.AgentStatusChanged(offset, by, at, range, s.status(), s.detail());
    } else if (body instanceof Suggest s) {
      return new SessionEvent.SuggestionMade(offset, by, at, range, s.text());
    } else if (body instanceof AppendBody.WriteNote n) {
      return new SessionEvent.HandoffNoted(offset, by, at, range, n.note());
    }
    throw new IllegalStateException("unhandled append " + body.getClass().getName());
  }

  private static Refused invalid(String message) {
    return new Refused(ErrorCode.INVALID_FRAME, message);
  }

  private static Refused streamNotOpen(String messageId, Participant by) {
    return new Refused(ErrorCode.STREAM_NOT_OPEN, "stream " + messageId + " is not open for " + by.id());
  }

  private static boolean blank(String s) {
    return s == null || s.isBlank();
  }
}
