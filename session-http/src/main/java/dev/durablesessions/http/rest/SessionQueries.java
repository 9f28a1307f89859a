package dev.durablesessions.http.rest;

import com.fasterxml.jackson.databind.JsonNode;
import dev.durablesessions.http.Json;
import dev.durablesessions.http.auth.Identity;
import dev.durablesessions.session.AppendBody;
import dev.durablesessions.session.ErrorCode;
import dev.durablesessions.session.Outcome;
import dev.durablesessions.session.Participant;
import dev.durablesessions.session.Role;
import dev.durablesessions.session.SessionCommand;
import dev.durablesessions.session.SessionEntity;
import dev.durablesessions.session.SessionEvent;
import dev.durablesessions.session.SessionState;
import dev.durablesessions.session.StateReply;
import dev.durablesessions.session.SummaryReply;
import dev.durablesessions.session.resume.SessionJournal;
import dev.durablesessions.session.state.StateHistory;
import dev.durablesessions.session.transfer.ControlRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * The session's state, history and writes as answers, not HTTP responses: what the REST routes
 * ({@link StateRoutes}, {@link SessionRoutes}) and the MCP tools ({@code dev.durablesessions.http.mcp})
 * both serve, so the two cannot drift apart. Callers have parsed and authorised the request
 * (the session id, the token's patterns); the checks here are the ones that need the session.
 */
public final class SessionQueries {
  public static final int MAX_PAGE = 1000;

  private final ClusterSharding sharding;
  private final SessionJournal journal;
  private final Duration askTimeout;
  private final int resumeWindow;
  private final int resumeMaxEvents;

  public SessionQueries(ClusterSharding sharding, SessionJournal journal, Duration askTimeout, com.typesafe.config.Config config) {
    this.sharding = sharding;
    this.journal = journal;
    this.askTimeout = askTimeout;
    this.resumeWindow = config.getInt("durable-sessions.http.resume.window");
    this.resumeMaxEvents = config.getInt("durable-sessions.http.resume.max-events");
  }

  /** A body to send as JSON, or a refusal with the code every API documents. */
  public sealed interface Answer {
    record Ok(Object body) implements Answer {}

    record Refused(ErrorCode code, String message) implements Answer {}
  }

  static CompletionStage<Answer> refused(ErrorCode code, String message) {
    return CompletableFuture.completedFuture(new Answer.Refused(code, message));
  }

  private static CompletionStage<Answer> ok(Object body) {
    return CompletableFuture.completedFuture(new Answer.Ok(body));
  }

  // ---------------------------------------------------------------- reads

  /** The document now ({@code at} and {@code turn} empty), at an offset, or at the end of a turn. */
  public CompletionStage<Answer> state(String sessionId, Optional<Long> at, Optional<Long> turn) {
    return withState(sessionId, s -> {
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("sessionId", sessionId);
      body.put("head", s.head());
      if (at.isEmpty() && turn.isEmpty()) {
        body.put("turn", s.turn());
        body.put("document", s.document());
        return ok(body);
      }
      if (at.isPresent() && turn.isPresent()) {
        return refused(ErrorCode.INVALID_REQUEST, "give at=OFFSET or turn=N (non-negative integers), not both");
      }
      if (at.isPresent() && at.get() > s.head()) {
        return refused(ErrorCode.OFFSET_BEYOND_HEAD, "at " + at.get() + " is beyond the head " + s.head());
      }
      if (turn.isPresent() && turn.get() > s.turn().number()) {
        return refused(ErrorCode.INVALID_REQUEST, "turn " + turn.get() + " has not happened (current " + s.turn().number() + ")");
      }
      return withHistory(sessionId, s, h -> {
        if (at.isPresent()) {
          body.put("at", at.get());
          body.put("document", h.atOffset(at.get()));
        } else {
          body.put("atTurn", turn.get());
          body.put("document", h.atTurn(turn.get().intValue()));
        }
        return ok(body);
      });
    });
  }

  /** What changed between the end of turn {@code from} and the end of turn {@code to}; empty is missing or malformed. */
  public CompletionStage<Answer> diffTurns(String sessionId, Optional<Long> from, Optional<Long> to) {
    return withState(sessionId, s -> {
      if (from.isEmpty() || to.isEmpty() || from.get() > to.get()) {
        return refused(ErrorCode.INVALID_REQUEST, "diff needs from=N&to=M turns with N <= M");
      }
      if (to.get() > s.turn().number()) {
        return refused(ErrorCode.INVALID_REQUEST, "turn " + to.get() + " has not happened (current " + s.turn().number() + ")");
      }
      return withHistory(sessionId, s, h -> {
        int f = from.get().intValue();
        int t = to.get().intValue();
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("from", f);
        body.put("to", t);
        body.put("patch", StateHistory.diff(h.atTurn(f), h.atTurn(t)));
        body.put("commits", events(h.between(f, t)));
        return ok(body);
      });
    });
  }

  /** What attempt {@code vs} of a turn changed compared with attempt {@code attempt}; empty is missing or malformed. */
  public CompletionStage<Answer> diffAttempts(String sessionId, Optional<Long> turn, Optional<Long> attempt, Optional<Long> vs) {
    return withState(sessionId, s -> {
      if (turn.isEmpty() || attempt.isEmpty() || vs.isEmpty() || attempt.get() < 1 || vs.get() < 1) {
        return refused(ErrorCode.INVALID_REQUEST, "a retry diff needs turn=N&attempt=A&vs=B (attempts from 1)");
      }
      return withHistory(sessionId, s, h -> attempts(sessionId, h, turn.get(), attempt.get(), vs.get()));
    });
  }

  private static CompletionStage<Answer> attempts(String sessionId, StateHistory h, long turn, long a, long b) {
    {
      int t = (int) turn;
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("turn", t);
      body.put("attempt", a);
      body.put("vs", b);
      body.put("patch", StateHistory.diff(h.atAttempt(t, (int) a), h.atAttempt(t, (int) b)));
      body.put("commits", events(h.commits().stream()
          .filter(c -> c.turn() == t && c.attempt() > Math.min(a, b) && c.attempt() <= Math.max(a, b)).toList()));
      return ok(body);
    }
  }

  /** The commit log, filtered by tool, by a JSON pointer prefix and by the last K turns (0: all). */
  public CompletionStage<Answer> commits(String sessionId, Optional<String> tool, Optional<String> path, Optional<Long> lastTurns) {
    if (path.isPresent() && !path.get().startsWith("/")) {
      return refused(ErrorCode.INVALID_REQUEST, "path is a JSON pointer, like /files_modified");
    }
    return withState(sessionId, s -> withHistory(sessionId, s, h -> {
      var matching = h.filter(tool.orElse(null), path.orElse(null), lastTurns.orElse(0L).intValue(), s.turn().number());
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("turn", s.turn().number());
      body.put("commits", events(matching));
      body.put("touched", StateHistory.touched(matching, path.orElse(null)));
      return ok(body);
    }));
  }

  /**
   * What an agent needs to carry on after a restart, bounded in size whatever the history: the
   * latest handoff note, what was addressed to it since it last acknowledged (messages from
   * others, signals and approval requests to it, answers to the approvals it asked for), the
   * working state, open runs, the approvals still pending and the head.
   */
  public CompletionStage<Answer> resume(String sessionId, Identity identity, Optional<Long> after) {
    Participant me = identity.participant();
    return withState(sessionId, s -> {
      long since = after.orElseGet(() -> s.receipts().values().stream()
          .filter(r -> r.participant().id().equals(me.id())).mapToLong(SessionState.Receipt::delivered).max().orElse(0));
      if (since > s.head()) return refused(ErrorCode.OFFSET_BEYOND_HEAD, "after " + since + " is beyond the head " + s.head());
      long from = Math.max(since, s.head() - resumeWindow) + 1;
      return journal.read(sessionId, from, s.head()).thenApply(events -> {
        List<SessionEvent> addressed = new ArrayList<>();
        for (SessionEvent e : events) {
          boolean forMe = (e instanceof SessionEvent.MessagePosted m && !m.by().id().equals(me.id()))
              || (e instanceof SessionEvent.SignalSent g && g.to().addresses(me))
              || (e instanceof SessionEvent.ToolApprovalRequested r && r.to().addresses(me))
              || (e instanceof SessionEvent.ToolApprovalAnswered a && me.id().equals(s.approvals().requester(a.approvalId())));
          if (forMe && e.visibleTo(me)) addressed.add(e);
        }
        boolean truncated = from > since + 1 || addressed.size() > resumeMaxEvents;
        if (addressed.size() > resumeMaxEvents) addressed = addressed.subList(addressed.size() - resumeMaxEvents, addressed.size());
        List<Map<String, Object>> streams = new ArrayList<>();
        s.openStreams().forEach((messageId, owner) -> streams.add(Map.of("messageId", messageId, "by", owner,
            "stalled", s.stalled().containsKey(messageId))));
        List<Map<String, Object>> calls = new ArrayList<>();
        s.toolCalls().forEach((id, call) -> {
          if (call.outcome() == null) calls.add(Map.of("toolCallId", id, "name", call.name(), "turn", call.turn()));
        });
        Map<String, Object> runs = new LinkedHashMap<>();
        runs.put("streams", streams);
        runs.put("toolCalls", calls);
        runs.put("agentStatus", s.agentStatus());
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("sessionId", sessionId);
        body.put("head", s.head());
        body.put("since", since);
        body.put("truncated", truncated);
        if (s.latestNote() != null) body.put("note", s.latestNote());
        body.put("control", typed(s.control()));
        body.put("turn", s.turn());
        body.put("state", s.document());
        body.put("openRuns", runs);
        body.put("pendingApprovals", SummaryReply.PendingApproval.of(s.approvals()));
        body.put("addressed", new SessionRoutes.Events(addressed));
        return new Answer.Ok(body);
      });
    });
  }

  /** The latest handoff note (absent when none was given yet) and the control phase it belongs to. */
  public CompletionStage<Answer> handoffNote(String sessionId) {
    return withState(sessionId, s -> ok(new NoteView(sessionId, s.head(), s.latestNote(), s.control())));
  }

  /** The declared {@code Control} type makes the control phase carry its {@code phase} name, as in the summary. */
  @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
  record NoteView(String sessionId, long head, dev.durablesessions.session.transfer.HandoffNote note,
      dev.durablesessions.session.transfer.Control control) {}

  /** A page of history after {@code after}: offsets stay global, events this caller may not see are left out. */
  public CompletionStage<Answer> history(String sessionId, Identity identity, long after, int limit) {
    if (after < 0) return refused(ErrorCode.INVALID_OFFSET, "after must be >= 0");
    if (limit < 1 || limit > MAX_PAGE) return refused(ErrorCode.INVALID_REQUEST, "limit must be 1.." + MAX_PAGE);
    return session(sessionId).ask(SessionCommand.GetSummary::new, askTimeout).thenCompose(reply -> {
      if (reply instanceof Outcome.Refused r) return refused(r.code(), r.message());
      long head = ((SummaryReply.Summary) reply).head();
      if (after > head) return refused(ErrorCode.OFFSET_BEYOND_HEAD, "after " + after + " is beyond the head " + head);
      long to = Math.min(head, after + limit);
      CompletionStage<List<SessionEvent>> page =
          after == head ? CompletableFuture.completedFuture(List.of()) : journal.read(sessionId, after + 1, to);
      return page.thenApply(events -> {
        long next = events.isEmpty() ? after : events.get(events.size() - 1).offset();
        List<SessionEvent> visible = events.stream().filter(e -> e.visibleTo(identity.participant())).toList();
        return new Answer.Ok(new SessionRoutes.HistoryPage(sessionId, head, visible, next, next < head));
      });
    });
  }

  /** The latest events, up to {@link #MAX_PAGE}, that this caller may see: a history page ending at the head. */
  public CompletionStage<Answer> transcript(String sessionId, Identity identity) {
    return session(sessionId).ask(SessionCommand.GetSummary::new, askTimeout).thenCompose(reply -> {
      if (reply instanceof Outcome.Refused r) return refused(r.code(), r.message());
      return history(sessionId, identity, Math.max(0, ((SummaryReply.Summary) reply).head() - MAX_PAGE), MAX_PAGE);
    });
  }

  /** Support and admins list sessions (ids from the journal), only those their token's patterns match. */
  public CompletionStage<Answer> sessionIds(Identity identity, int limit) {
    if (identity.role() != Role.SUPPORT && identity.role() != Role.ADMIN) {
      return refused(ErrorCode.FORBIDDEN, "only support and admins list sessions");
    }
    if (limit < 1 || limit > MAX_PAGE) return refused(ErrorCode.INVALID_REQUEST, "limit must be 1.." + MAX_PAGE);
    return journal.sessionIds(limit, identity::mayJoin).thenApply(ids -> new Answer.Ok(Map.of("sessions", ids)));
  }

  // ---------------------------------------------------------------- writes

  /** Appends as the token's participant; the session decides (role, phase, rules) and answers with the offset. */
  public CompletionStage<Answer> append(String sessionId, Identity identity, AppendBody body) {
    return session(sessionId).ask((org.apache.pekko.actor.typed.ActorRef<Outcome> r) ->
        new SessionCommand.Append(identity.participant(), body, null, r), askTimeout).thenApply(SessionQueries::offset);
  }

  /** A control request (transfer, handback, ...) as the token's participant; who may, in which phase, is the session's rule. */
  public CompletionStage<Answer> control(String sessionId, Identity identity, ControlRequest request) {
    return session(sessionId).ask((org.apache.pekko.actor.typed.ActorRef<Outcome> r) ->
        new SessionCommand.ChangeControl(identity.participant(), request, r), askTimeout).thenApply(SessionQueries::offset);
  }

  private static Answer offset(Outcome outcome) {
    if (outcome instanceof Outcome.Refused r) return new Answer.Refused(r.code(), r.message());
    return new Answer.Ok(Map.of("offset", ((Outcome.Accepted) outcome).offset()));
  }

  // ---------------------------------------------------------------- helpers

  private org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef<SessionCommand> session(String sessionId) {
    return sharding.entityRefFor(SessionEntity.TYPE_KEY, sessionId);
  }

  /** The session's state now, or its refusal. */
  CompletionStage<Answer> withState(String sessionId, Function<SessionState, CompletionStage<Answer>> inner) {
    CompletionStage<StateReply> reply = session(sessionId).ask(SessionCommand.GetState::new, askTimeout);
    return reply.thenCompose(r -> r instanceof Outcome.Refused refused
        ? refused(refused.code(), refused.message())
        : inner.apply(((StateReply.StateNow) r).state()));
  }

  /** Every event of the session up to its head, folded into the state's history. */
  private CompletionStage<Answer> withHistory(String sessionId, SessionState state, Function<StateHistory, CompletionStage<Answer>> inner) {
    return journal.read(sessionId, 1, state.head()).thenCompose(events -> inner.apply(new StateHistory(events)));
  }

  /**
   * The control phase as its declared type writes it, with its {@code phase} name: as a value of
   * a map it would be written without it (PROTOCOL documents it in the resume package).
   */
  private static JsonNode typed(dev.durablesessions.session.transfer.Control control) {
    try {
      return Json.MAPPER.readTree(Json.MAPPER.writerFor(dev.durablesessions.session.transfer.Control.class).writeValueAsString(control));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("a control phase that does not serialize", e);
    }
  }

  private static SessionRoutes.Events events(List<? extends SessionEvent> events) {
    return new SessionRoutes.Events(new ArrayList<>(events));
  }

}
