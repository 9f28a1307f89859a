package dev.durablesessions.http.rest;

import dev.durablesessions.http.ApiError;
import dev.durablesessions.http.Json;
import dev.durablesessions.http.auth.Identity;
import dev.durablesessions.session.ErrorCode;
import dev.durablesessions.session.Participant;
import dev.durablesessions.session.Role;
import dev.durablesessions.session.resume.SessionJournal;
import dev.durablesessions.session.views.SessionViews;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.util.ByteString;

/**
 * Session state as data over HTTP: the state document now, at an offset or at a turn; diffs
 * between turns or between attempts of one turn; the filtered commit log; the resume package
 * an agent asks for instead of re-reading history; delivery receipts; the audit export.
 * The views are core's ({@link SessionViews}); this class reads the request, checks what was
 * asked against the session, and writes the answer.
 */
final class StateRoutes extends AllDirectives {
  private final SessionViews views;
  private final SessionJournal journal;

  StateRoutes(SessionViews views, SessionJournal journal) {
    this.views = views;
    this.journal = journal;
  }

  Route routes(String sessionId, Identity identity) {
    return concat(
        path("state", () -> get(() -> state(sessionId))),
        path("diff", () -> get(() -> diff(sessionId))),
        path("commits", () -> get(() -> commits(sessionId))),
        path("resume", () -> get(() -> resume(sessionId, identity))),
        path("receipts", () -> get(() -> receipts(sessionId, identity))),
        path("audit", () -> get(() -> audit(sessionId, identity))));
  }

  /** The session now, or its refusal. */
  private Route withSession(String sessionId, Function<SessionViews.Current, Route> inner) {
    return onSuccess(views.current(sessionId), lookup -> lookup instanceof SessionViews.Refused r
        ? complete(ApiError.response(r.code(), r.message()))
        : inner.apply((SessionViews.Current) lookup));
  }

  private Route ok(CompletionStage<?> view) {
    return onSuccess(view, body -> complete(SessionRoutes.json(StatusCodes.OK, body)));
  }

  private Route state(String sessionId) {
    return parameterOptional("at", at -> parameterOptional("turn", turn -> withSession(sessionId, s -> {
      if (at.isEmpty() && turn.isEmpty()) return complete(SessionRoutes.json(StatusCodes.OK, s.now()));
      Optional<Long> offset = number(at);
      Optional<Long> turnNumber = number(turn);
      if ((at.isPresent() && offset.isEmpty()) || (turn.isPresent() && turnNumber.isEmpty()) || (at.isPresent() && turn.isPresent())) {
        return complete(ApiError.response(ErrorCode.INVALID_REQUEST, "give at=OFFSET or turn=N (non-negative integers), not both"));
      }
      if (offset.isPresent() && offset.get() > s.head()) {
        return complete(ApiError.response(ErrorCode.OFFSET_BEYOND_HEAD, "at " + offset.get() + " is beyond the head " + s.head()));
      }
      if (turnNumber.isPresent() && turnNumber.get() > s.turn()) {
        return complete(ApiError.response(ErrorCode.INVALID_REQUEST, "turn " + turnNumber.get() + " has not happened (current " + s.turn() + ")"));
      }
      return ok(offset.isPresent() ? s.atOffset(offset.get()) : s.atTurn(turnNumber.get().intValue()));
    })));
  }

  private Route diff(String sessionId) {
    return parameterMap(params -> withSession(sessionId, s -> {
      if (params.containsKey("attempt") || params.containsKey("vs")) {
        Optional<Long> turn = number(Optional.ofNullable(params.get("turn")));
        Optional<Long> a = number(Optional.ofNullable(params.get("attempt")));
        Optional<Long> b = number(Optional.ofNullable(params.get("vs")));
        if (turn.isEmpty() || a.isEmpty() || b.isEmpty() || a.get() < 1 || b.get() < 1) {
          return complete(ApiError.response(ErrorCode.INVALID_REQUEST, "a retry diff needs turn=N&attempt=A&vs=B (attempts from 1)"));
        }
        return ok(s.diffAttempts(turn.get().intValue(), a.get().intValue(), b.get().intValue()));
      }
      Optional<Long> from = number(Optional.ofNullable(params.get("from")));
      Optional<Long> to = number(Optional.ofNullable(params.get("to")));
      if (from.isEmpty() || to.isEmpty() || from.get() > to.get()) {
        return complete(ApiError.response(ErrorCode.INVALID_REQUEST, "diff needs from=N&to=M turns with N <= M"));
      }
      if (to.get() > s.turn()) {
        return complete(ApiError.response(ErrorCode.INVALID_REQUEST, "turn " + to.get() + " has not happened (current " + s.turn() + ")"));
      }
      return ok(s.diffTurns(from.get().intValue(), to.get().intValue()));
    }));
  }

  private Route commits(String sessionId) {
    return parameterOptional("tool", tool -> parameterOptional("path", path -> parameterOptional("lastTurns", last -> {
      Optional<Long> lastTurns = number(last);
      if (last.isPresent() && lastTurns.isEmpty()) return complete(ApiError.response(ErrorCode.INVALID_REQUEST, "lastTurns is a non-negative integer"));
      if (path.isPresent() && !path.get().startsWith("/")) return complete(ApiError.response(ErrorCode.INVALID_REQUEST, "path is a JSON pointer, like /files_modified"));
      return withSession(sessionId, s -> ok(s.commits(tool.orElse(null), path.orElse(null), lastTurns.orElse(0L).intValue())));
    })));
  }

  /** The resume package for the caller, from {@code after} or from the last offset any of its devices confirmed. */
  private Route resume(String sessionId, Identity identity) {
    Participant me = identity.participant();
    return parameterOptional("after", afterParam -> withSession(sessionId, s -> {
      Optional<Long> after = number(afterParam);
      if (afterParam.isPresent() && after.isEmpty()) return complete(ApiError.response(ErrorCode.INVALID_OFFSET, "after is an offset"));
      long since = after.orElseGet(() -> s.lastConfirmedBy(me));
      if (since > s.head()) return complete(ApiError.response(ErrorCode.OFFSET_BEYOND_HEAD, "after " + since + " is beyond the head " + s.head()));
      return ok(s.resume(me, since));
    }));
  }

  /** Operators see everyone's receipts; anyone else only their own. */
  private Route receipts(String sessionId, Identity identity) {
    return parameterOptional("participant", participant -> parameterOptional("offset", offsetParam -> {
      boolean own = participant.isPresent() && participant.get().equals(identity.subject());
      if (!identity.role().isOperator() && !own) {
        return complete(ApiError.response(ErrorCode.FORBIDDEN, "receipts of others are for operators; ask with participant=" + identity.subject()));
      }
      return withSession(sessionId, s -> {
        if (participant.isEmpty() || offsetParam.isEmpty()) return complete(SessionRoutes.json(StatusCodes.OK, s.receipts(participant)));
        Optional<Long> offset = number(offsetParam);
        if (offset.isEmpty()) return complete(ApiError.response(ErrorCode.INVALID_OFFSET, "offset is a non-negative integer"));
        return complete(SessionRoutes.json(StatusCodes.OK, s.reached(participant.get(), offset.get())));
      });
    }));
  }

  /** NDJSON, streamed from the journal: every event with who and when, filtered by participant, type and time. */
  private Route audit(String sessionId, Identity identity) {
    if (identity.role() != Role.SUPPORT && identity.role() != Role.ADMIN) {
      return complete(ApiError.response(ErrorCode.FORBIDDEN, "only support and admins export the audit trail"));
    }
    return parameterOptional("participant", participant -> parameterOptional("type", types -> parameterOptional("from", fromParam ->
        parameterOptional("to", toParam -> {
          Instant from;
          Instant to;
          try {
            from = fromParam.map(Instant::parse).orElse(Instant.MIN);
            to = toParam.map(Instant::parse).orElse(Instant.MAX);
          } catch (java.time.format.DateTimeParseException e) {
            return complete(ApiError.response(ErrorCode.INVALID_REQUEST, "from and to are ISO-8601 instants, like 2026-11-22T17:00:00Z"));
          }
          Set<String> wanted = types.map(t -> new HashSet<>(Arrays.asList(t.split(",")))).orElse(null);
          return withSession(sessionId, s -> {
            var lines = journal.stream(sessionId, 1, s.head())
                .filter(e -> participant.isEmpty() || e.by().id().equals(participant.get()))
                .filter(e -> wanted == null || wanted.contains(Json.typeName(e)))
                .filter(e -> !e.at().isBefore(from) && !e.at().isAfter(to))
                .map(e -> ByteString.fromString(Json.writeEvent(e) + "\n"));
            return complete(HttpResponse.create().withStatus(StatusCodes.OK)
                .withEntity(HttpEntities.create(ContentTypes.create(MediaTypes.applicationWithOpenCharset("x-ndjson"),
                    org.apache.pekko.http.javadsl.model.HttpCharsets.UTF_8), lines)));
          });
        }))));
  }

  private static Optional<Long> number(Optional<String> s) {
    if (s.isEmpty()) return Optional.empty();
    try {
      long n = Long.parseLong(s.get());
      return n < 0 ? Optional.empty() : Optional.of(n);
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }
}
