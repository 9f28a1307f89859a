package dev.durablesessions.http.rest;

import com.fasterxml.jackson.databind.JsonNode;
import dev.durablesessions.http.ApiError;
import dev.durablesessions.http.Json;
import dev.durablesessions.http.auth.Identity;
import dev.durablesessions.session.ErrorCode;
import dev.durablesessions.session.Outcome;
import dev.durablesessions.session.Participant;
import dev.durablesessions.session.Role;
import dev.durablesessions.session.SessionCommand;
import dev.durablesessions.session.SessionEntity;
import dev.durablesessions.session.SessionEvent;
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
 */
final class StateRoutes extends AllDirectives {
  private final ClusterSharding sharding;
  private final SessionJournal journal;
  private final Duration askTimeout;
  private final int resumeWindow;
  private final int resumeMaxEvents;

  StateRoutes(ClusterSharding sharding, SessionJournal journal, Duration askTimeout, com.typesafe.config.Config config) {
    this.sharding = sharding;
    this.journal = journal;
    this.askTimeout = askTimeout;
    this.resumeWindow = config.getInt("durable-sessions.http.resume.window");
    this.resumeMaxEvents = config.getInt("durable-sessions.http.resume.max-events");
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

  /** Every event of the session up to its head, folded into the state's history. */
  private Route withHistory(String sessionId, SessionState state, Function<StateHistory, Route> inner) {
    return onSuccess(journal.read(sessionId, 1, state.head()), events -> inner.apply(new StateHistory(events)));
  }

  private Route state(String sessionId) {
    return parameterOptional("at", at -> parameterOptional("turn", turn -> withState(sessionId, s -> {
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("sessionId", sessionId);
      body.put("head", s.head());
      if (at.isEmpty() && turn.isEmpty()) {
        body.put("turn", s.turn());
        body.put("document", s.document());
        return complete(SessionRoutes.json(StatusCodes.OK, body));
      }
      Optional<Long> offset = number(at);
      Optional<Long> turnNumber = number(turn);
      if ((at.isPresent() && offset.isEmpty()) || (turn.isPresent() && turnNumber.isEmpty()) || (at.isPresent() && turn.isPresent())) {
        return complete(ApiError.response(ErrorCode.INVALID_REQUEST, "give at=OFFSET or turn=N (non-negative integers), not both"));
      }
      if (offset.isPresent() && offset.get() > s.head()) {
        return complete(ApiError.response(ErrorCode.OFFSET_BEYOND_HEAD, "at " + offset.get() + " is beyond the head " + s.head()));
      }
      if (turnNumber.isPresent() && turnNumber.get() > s.turn().number()) {
        return complete(ApiError.response(ErrorCode.INVALID_REQUEST, "turn " + turnNumber.get() + " has not happened (current " + s.turn().number() + ")"));
      }
      return withHistory(sessionId, s, h -> {
        if (offset.isPresent()) {
          body.put("at", offset.get());
          body.put("document", h.atOffset(offset.get()));
        } else {
          body.put("atTurn", turnNumber.get());
          body.put("document", h.atTurn(turnNumber.get().intValue()));
        }
        return complete(SessionRoutes.json(StatusCodes.OK, body));
      });
    })));
  }

  private Route diff(String sessionId) {
    return parameterMap(params -> withState(sessionId, s -> withHistory(sessionId, s, h -> {
      Map<String, Object> body = new LinkedHashMap<>();
      if (params.containsKey("attempt") || params.containsKey("vs")) {
        Optional<Long> turn = number(Optional.ofNullable(params.get("turn")));
        Optional<Long> a = number(Optional.ofNullable(params.get("attempt")));
        Optional<Long> b = number(Optional.ofNullable(params.get("vs")));
        if (turn.isEmpty() || a.isEmpty() || b.isEmpty() || a.get() < 1 || b.get() < 1) {
          return complete(ApiError.response(ErrorCode.INVALID_REQUEST, "a retry diff needs turn=N&attempt=A&vs=B (attempts from 1)"));
        }
        int t = turn.get().intValue();
        JsonNode from = h.atAttempt(t, a.get().intValue());
        JsonNode to = h.atAttempt(t, b.get().intValue());
        body.put("turn", t);
        body.put("attempt", a.get());
        body.put("vs", b.get());
        body.put("patch", StateHistory.diff(from, to));
        body.put("commits", events(h.commits().stream()
            .filter(c -> c.turn() == t && c.attempt() > Math.min(a.get(), b.get()) && c.attempt() <= Math.max(a.get(), b.get())).toList()));
        return complete(SessionRoutes.json(StatusCodes.OK, body));
      }
      Optional<Long> from = number(Optional.ofNullable(params.get("from")));
      Optional<Long> to = number(Optional.ofNullable(params.get("to")));
      if (from.isEmpty() || to.isEmpty() || from.get() > to.get()) {
        return complete(ApiError.response(ErrorCode.INVALID_REQUEST, "diff needs from=N&to=M turns with N <= M"));
      }
      if (to.get() > s.turn().number()) {
        return complete(ApiError.response(ErrorCode.INVALID_REQUEST, "turn " + to.get() + " has not happened (current " + s.turn().number() + ")"));
      }
      int f = from.get().intValue();
      int t = to.get().intValue();
      body.put("from", f);
      body.put("to", t);
      body.put("patch", StateHistory.diff(h.atTurn(f), h.atTurn(t)));
      body.put("commits", events(h.between(f, t)));
      return complete(SessionRoutes.json(StatusCodes.OK, body));
    })));
  }

  private Route commits(String sessionId) {
    return parameterOptional("tool", tool -> parameterOptional("path", path -> parameterOptional("lastTurns", last -> {
      Optional<Long> lastTurns = number(last);
      if (last.isPresent() && lastTurns.isEmpty()) return complete(ApiError.response(ErrorCode.INVALID_REQUEST, "lastTurns is a non-negative integer"));
      if (path.isPresent() && !path.get().startsWith("/")) return complete(ApiError.response(ErrorCode.INVALID_REQUEST, "path is a JSON pointer, like /files_modified"));
      return withState(sessionId, s -> withHistory(sessionId, s, h -> {
        var matching = h.filter(tool.orElse(null), path.orElse(null), lastTurns.orElse(0L).intValue(), s.turn().number());
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("turn", s.turn().number());
        body.put("commits", events(matching));
        body.put("touched", StateHistory.touched(matching, path.orElse(null)));
        return complete(SessionRoutes.json(StatusCodes.OK, body));
      }));
    })));
  }

  /**
   * What an agent needs to carry on after a restart, bounded in size whatever the history: the
   * latest handoff note, what was addressed to it since it last acknowledged (messages from
   * others, signals and approval requests to it, answers to the approvals it asked for), the
   * working state, open runs, the approvals still pending and the head.
   */
  private Route resume(String sessionId, Identity identity) {
    Participant me = identity.participant();
    return parameterOptional("after", afterParam -> withState(sessionId, s -> {
      Optional<Long> after = number(afterParam);
      if (afterParam.isPresent() && after.isEmpty()) return complete(ApiError.response(ErrorCode.INVALID_OFFSET, "after is an offset"));
      long since = after.orElseGet(() -> s.receipts().values().stream()
          .filter(r -> r.participant().id().equals(me.id())).mapToLong(SessionState.Receipt::delivered).max().orElse(0));
      if (since > s.head()) return complete(ApiError.response(ErrorCode.OFFSET_BEYOND_HEAD, "after " + since + " is beyond the head " + s.head()));
      long from = Math.max(since, s.head() - resumeWindow) + 1;
      return onSuccess(journal.read(sessionId, from, s.head()), events -> {
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
        body.put("control", s.control());
        body.put("turn", s.turn());
        body.put("state", s.document());
        body.put("openRuns", runs);
        body.put("pendingApprovals", dev.durablesessions.session.SummaryReply.PendingApproval.of(s.approvals()));
        body.put("addressed", new SessionRoutes.Events(addressed));
        return complete(SessionRoutes.json(StatusCodes.OK, body));
      });
    }));
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

  private static SessionRoutes.Events events(List<? extends SessionEvent> events) {
    return new SessionRoutes.Events(new ArrayList<>(events));
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
