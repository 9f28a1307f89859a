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
import dev.durablesessions.session.producer.SeqRange;
import dev.durablesessions.session.transfer.ControlRules;
import java.time.Instant;
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
    }
    return null;
  }

  private static Refused floor(SessionState state, Participant by) {
    if (state.control().floorAllows(by)) return null;
    return new Refused(ErrorCode.FLOOR_NOT_HELD,
        by.id() + " does not have the floor (" + ControlRules.phase(state.control()) + "); it may not speak as the assistant");
  }

  static SessionEvent toEvent(long offset, Instant at, Participant by, SeqRange range, AppendBody body) {
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
