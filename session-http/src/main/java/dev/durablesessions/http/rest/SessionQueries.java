package dev.durablesessions.http.rest;

import dev.durablesessions.http.auth.Identity;
import dev.durablesessions.session.AppendBody;
import dev.durablesessions.session.ErrorCode;
import dev.durablesessions.session.Outcome;
import dev.durablesessions.session.Participant;
import dev.durablesessions.session.Role;
import dev.durablesessions.session.SessionCommand;
import dev.durablesessions.session.SessionEntity;
import dev.durablesessions.session.SessionEvent;
import dev.durablesessions.session.SummaryReply;
import dev.durablesessions.session.resume.SessionJournal;
import dev.durablesessions.session.views.SessionViews;
import dev.durablesessions.session.transfer.ControlRequest;
import java.time.Duration;
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
  private final SessionViews views;

  public SessionQueries(ClusterSharding sharding, SessionJournal journal, Duration askTimeout, SessionViews views) {
    this.sharding = sharding;
    this.journal = journal;
    this.askTimeout = askTimeout;
    this.views = views;
  }

  /** A body to send as JSON, or a refusal with the code every API documents. */
  public sealed interface Answer {
    record Ok(Object body) implements Answer {}

    record Refused(ErrorCode code, String message) implements Answer {}
  }

  static CompletionStage<Answer> refused(ErrorCode code, String message) {
    return CompletableFuture.completedFuture(new Answer.Refused(code, message));
  }

  static CompletionStage<Answer> ok(Object body) {
    return CompletableFuture.completedFuture(new Answer.Ok(body));
  }

  private static CompletionStage<Answer> ok(CompletionStage<?> view) {
    return view.thenApply(Answer.Ok::new);
  }

  // ---------------------------------------------------------------- reads

  /** The document now ({@code at} and {@code turn} empty), at an offset, or at the end of a turn. */
  public CompletionStage<Answer> state(String sessionId, Optional<Long> at, Optional<Long> turn) {
    return withSession(sessionId, s -> {
      if (at.isEmpty() && turn.isEmpty()) return ok(s.now());
      if (at.isPresent() && turn.isPresent()) {
        return refused(ErrorCode.INVALID_REQUEST, "give at=OFFSET or turn=N (non-negative integers), not both");
      }
      if (at.isPresent() && at.get() > s.head()) {
        return refused(ErrorCode.OFFSET_BEYOND_HEAD, "at " + at.get() + " is beyond the head " + s.head());
      }
      if (turn.isPresent() && turn.get() > s.turn()) {
        return refused(ErrorCode.INVALID_REQUEST, "turn " + turn.get() + " has not happened (current " + s.turn() + ")");
      }
      return ok(at.isPresent() ? s.atOffset(at.get()) : s.atTurn(turn.get().intValue()));
    });
  }

  /** What changed between the end of turn {@code from} and the end of turn {@code to}; empty is missing or malformed. */
  public CompletionStage<Answer> diffTurns(String sessionId, Optional<Long> from, Optional<Long> to) {
    return withSession(sessionId, s -> {
      if (from.isEmpty() || to.isEmpty() || from.get() > to.get()) {
        return refused(ErrorCode.INVALID_REQUEST, "diff needs from=N&to=M turns with N <= M");
      }
      if (to.get() > s.turn()) {
        return refused(ErrorCode.INVALID_REQUEST, "turn " + to.get() + " has not happened (current " + s.turn() + ")");
      }
      return ok(s.diffTurns(from.get().intValue(), to.get().intValue()));
    });
  }

  /** What attempt {@code vs} of a turn changed compared with attempt {@code attempt}; empty is missing or malformed. */
  public CompletionStage<Answer> diffAttempts(String sessionId, Optional<Long> turn, Optional<Long> attempt, Optional<Long> vs) {
    return withSession(sessionId, s -> {
      if (turn.isEmpty() || attempt.isEmpty() || vs.isEmpty() || attempt.get() < 1 || vs.get() < 1) {
        return refused(ErrorCode.INVALID_REQUEST, "a retry diff needs turn=N&attempt=A&vs=B (attempts from 1)");
      }
      return ok(s.diffAttempts(turn.get().intValue(), attempt.get().intValue(), vs.get().intValue()));
    });
  }

  /** The commit log, filtered by tool, by a JSON pointer prefix and by the last K turns (0: all). */
  public CompletionStage<Answer> commits(String sessionId, Optional<String> tool, Optional<String> path, Optional<Long> lastTurns) {
    if (path.isPresent() && !path.get().startsWith("/")) {
      return refused(ErrorCode.INVALID_REQUEST, "path is a JSON pointer, like /files_modified");
    }
    return withSession(sessionId, s -> ok(s.commits(tool.orElse(null), path.orElse(null), lastTurns.orElse(0L).intValue())));
  }

  /**
   * What an agent needs to carry on after a restart ({@link SessionViews.Current#resume}), from
   * {@code after} or from the last offset any of the caller's devices confirmed.
   */
  public CompletionStage<Answer> resume(String sessionId, Identity identity, Optional<Long> after) {
    Participant me = identity.participant();
    return withSession(sessionId, s -> {
      long since = after.orElseGet(() -> s.lastConfirmedBy(me));
      if (since > s.head()) return refused(ErrorCode.OFFSET_BEYOND_HEAD, "after " + since + " is beyond the head " + s.head());
      return ok(s.resume(me, since));
    });
  }

  /** The session's head now. */
  public CompletionStage<Answer> head(String sessionId) {
    return withSession(sessionId, s -> ok((Object) s.head()));
  }

  /** The latest handoff note (absent when none was given yet) and the control phase it belongs to. */
  public CompletionStage<Answer> handoffNote(String sessionId) {
    return withSession(sessionId, s -> ok(s.handoff()));
  }

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

  /** The session now (core's views of it), or its refusal. */
  CompletionStage<Answer> withSession(String sessionId, Function<SessionViews.Current, CompletionStage<Answer>> inner) {
    return views.current(sessionId).thenCompose(lookup -> lookup instanceof SessionViews.Refused r
        ? refused(r.code(), r.message())
        : inner.apply((SessionViews.Current) lookup));
  }



}
