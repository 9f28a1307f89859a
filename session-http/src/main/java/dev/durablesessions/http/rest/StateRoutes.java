package dev.durablesessions.http.rest;

import dev.durablesessions.http.ApiError;
import dev.durablesessions.http.Json;
import dev.durablesessions.http.auth.Identity;
import dev.durablesessions.session.ErrorCode;
import dev.durablesessions.session.Role;
import dev.durablesessions.session.resume.SessionJournal;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionStage;
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
 * This class reads the request and writes the answer; what is answered is
 * {@link SessionQueries}'s (which the MCP tools serve too), built from core's views.
 */
final class StateRoutes extends AllDirectives {
  private final SessionJournal journal;
  private final SessionQueries queries;

  StateRoutes(SessionJournal journal, SessionQueries queries) {
    this.journal = journal;
    this.queries = queries;
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

  /** An answer of {@link SessionQueries} as the response: 200 with its body, or its refusal. */
  static Route answer(CompletionStage<SessionQueries.Answer> answer) {
    return new AllDirectives() {}.onSuccess(answer, a -> new AllDirectives() {}.complete(a instanceof SessionQueries.Answer.Refused r
        ? ApiError.response(r.code(), r.message())
        : SessionRoutes.json(StatusCodes.OK, ((SessionQueries.Answer.Ok) a).body())));
  }

  private Route state(String sessionId) {
    return parameterOptional("at", at -> parameterOptional("turn", turn -> {
      if ((at.isPresent() && number(at).isEmpty()) || (turn.isPresent() && number(turn).isEmpty())) {
        // Refused after the session answers, as every other check of these parameters.
        return answer(queries.withSession(sessionId, s -> SessionQueries.refused(ErrorCode.INVALID_REQUEST,
            "give at=OFFSET or turn=N (non-negative integers), not both")));
      }
      return answer(queries.state(sessionId, number(at), number(turn)));
    }));
  }

  private Route diff(String sessionId) {
    return parameterMap(params -> {
      if (params.containsKey("attempt") || params.containsKey("vs")) {
        return answer(queries.diffAttempts(sessionId, number(Optional.ofNullable(params.get("turn"))),
            number(Optional.ofNullable(params.get("attempt"))), number(Optional.ofNullable(params.get("vs")))));
      }
      return answer(queries.diffTurns(sessionId, number(Optional.ofNullable(params.get("from"))), number(Optional.ofNullable(params.get("to")))));
    });
  }

  private Route commits(String sessionId) {
    return parameterOptional("tool", tool -> parameterOptional("path", path -> parameterOptional("lastTurns", last -> {
      Optional<Long> lastTurns = number(last);
      if (last.isPresent() && lastTurns.isEmpty()) return complete(ApiError.response(ErrorCode.INVALID_REQUEST, "lastTurns is a non-negative integer"));
      return answer(queries.commits(sessionId, tool, path, lastTurns));
    })));
  }

  /** The resume package ({@link SessionQueries#resume}). */
  private Route resume(String sessionId, Identity identity) {
    return parameterOptional("after", afterParam -> {
      Optional<Long> after = number(afterParam);
      if (afterParam.isPresent() && after.isEmpty()) return complete(ApiError.response(ErrorCode.INVALID_OFFSET, "after is an offset"));
      return answer(queries.resume(sessionId, identity, after));
    });
  }

  /** Operators see everyone's receipts; anyone else only their own. */
  private Route receipts(String sessionId, Identity identity) {
    return parameterOptional("participant", participant -> parameterOptional("offset", offsetParam -> {
      boolean own = participant.isPresent() && participant.get().equals(identity.subject());
      if (!identity.role().isOperator() && !own) {
        return complete(ApiError.response(ErrorCode.FORBIDDEN, "receipts of others are for operators; ask with participant=" + identity.subject()));
      }
      return answer(queries.withSession(sessionId, s -> {
        if (participant.isEmpty() || offsetParam.isEmpty()) return SessionQueries.ok(s.receipts(participant));
        Optional<Long> offset = number(offsetParam);
        if (offset.isEmpty()) return SessionQueries.refused(ErrorCode.INVALID_OFFSET, "offset is a non-negative integer");
        return SessionQueries.ok(s.reached(participant.get(), offset.get()));
      }));
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
          return onSuccess(queries.head(sessionId), head -> {
            if (head instanceof SessionQueries.Answer.Refused r) return complete(ApiError.response(r.code(), r.message()));
            long last = (Long) ((SessionQueries.Answer.Ok) head).body();
            var lines = journal.stream(sessionId, 1, last)
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
