package dev.durablesessions.http.rest;

import dev.durablesessions.http.ApiError;
import dev.durablesessions.http.Json;
import dev.durablesessions.http.auth.Identity;
import dev.durablesessions.session.ErrorCode;
import dev.durablesessions.session.Outcome;
import dev.durablesessions.session.Role;
import dev.durablesessions.session.SessionCommand;
import dev.durablesessions.session.SessionEntity;
import dev.durablesessions.session.SessionState;
import dev.durablesessions.session.StateReply;
import dev.durablesessions.session.resume.SessionJournal;
import dev.durablesessions.session.state.StateHistory;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.util.ByteString;

/**
 * Session state as data over HTTP: the state document now, at an offset or at a turn; diffs
 * between turns or between attempts of one turn; the filtered commit log; the resume package
 * an agent asks for instead of re-reading history; delivery receipts; the audit export.
 * Historical views are folded from the journal ({@link StateHistory}); "now" comes from the session.
 * What these answer is {@link SessionQueries}'s, which the MCP tools serve too.
 */
final class StateRoutes extends AllDirectives {
  private final ClusterSharding sharding;
  private final SessionJournal journal;
  private final Duration askTimeout;
  private final SessionQueries queries;

  StateRoutes(ClusterSharding sharding, SessionJournal journal, Duration askTimeout, SessionQueries queries) {
    this.sharding = sharding;
    this.journal = journal;
    this.askTimeout = askTimeout;
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

  private CompletionStage<StateReply> askState(String sessionId) {
    return sharding.entityRefFor(SessionEntity.TYPE_KEY, sessionId).ask(SessionCommand.GetState::new, askTimeout);
  }

  /** The session's state now, or its refusal. */
  private Route withState(String sessionId, Function<SessionState, Route> inner) {
    return onSuccess(askState(sessionId), reply -> reply instanceof Outcome.Refused r
        ? complete(ApiError.response(r.code(), r.message()))
        : inner.apply(((StateReply.StateNow) reply).state()));
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
        return answer(queries.withState(sessionId, s -> SessionQueries.refused(ErrorCode.INVALID_REQUEST,
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
      return receiptsFor(sessionId, participant, offsetParam);
    }));
  }

  private Route receiptsFor(String sessionId, Optional<String> participant, Optional<String> offsetParam) {
    return withState(sessionId, s -> {
      List<SessionState.Receipt> all = new ArrayList<>(s.receipts().values());
      if (participant.isEmpty()) return complete(SessionRoutes.json(StatusCodes.OK, Map.of("sessionId", sessionId, "receipts", all)));
      Optional<Long> offset = number(offsetParam);
      List<SessionState.Receipt> mine = all.stream().filter(r -> r.participant().id().equals(participant.get())).toList();
      if (offsetParam.isEmpty()) return complete(SessionRoutes.json(StatusCodes.OK, Map.of("sessionId", sessionId, "receipts", mine)));
      if (offset.isEmpty()) return complete(ApiError.response(ErrorCode.INVALID_OFFSET, "offset is a non-negative integer"));
      Optional<SessionState.Receipt> first = mine.stream().filter(r -> r.delivered() >= offset.get())
          .min(java.util.Comparator.comparing(SessionState.Receipt::at));
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("participant", participant.get());
      body.put("offset", offset.get());
      body.put("reached", first.isPresent());
      first.ifPresent(r -> {
        body.put("device", r.device());
        body.put("confirmedUpTo", r.delivered());
        body.put("at", r.at());
      });
      return complete(SessionRoutes.json(StatusCodes.OK, body));
    });
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
          return withState(sessionId, s -> {
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
