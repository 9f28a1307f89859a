package dev.durablesessions.http.mcp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.durablesessions.http.Failures;
import dev.durablesessions.http.Json;
import dev.durablesessions.http.auth.Identity;
import dev.durablesessions.http.limits.RateLimits;
import dev.durablesessions.http.limits.SubjectRate;
import dev.durablesessions.http.rest.SessionQueries;
import dev.durablesessions.http.rest.SessionQueries.Answer;
import dev.durablesessions.http.rest.SessionRoutes;
import dev.durablesessions.session.AppendBody;
import dev.durablesessions.session.ErrorCode;
import dev.durablesessions.session.transfer.Control;
import dev.durablesessions.session.transfer.ControlRequest;
import dev.durablesessions.session.transfer.HandoffNote;
import io.modelcontextprotocol.common.McpTransportContext;
import io.modelcontextprotocol.server.McpStatelessServerFeatures.AsyncToolSpecification;
import io.modelcontextprotocol.spec.McpSchema;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import reactor.core.publisher.Mono;

/**
 * The MCP tools: each is a call of {@link SessionQueries}, the same call the REST endpoint makes,
 * so a tool's result is the REST body (as {@code structuredContent}, and as JSON text). A refusal
 * is a tool result with {@code isError: true} whose body is the REST error body
 * {@code {"error": {"code", "message"}}}; nothing was written. docs/MCP.md lists each tool.
 */
final class SessionTools {
  private static final String SESSION_ID = """
      "sessionId": {"type": "string", "description": "The session id (1-128 of A-Z a-z 0-9 . _ : -); the token's session patterns must match it."}""";
  private static final String OFFSET = "{\"type\": \"integer\", \"minimum\": 0";

  /** What a tool does with the caller's identity and arguments: the answer to send, or a {@link Arguments.Refusal}. */
  interface Call {
    CompletionStage<Answer> apply(Identity identity, Arguments args);
  }

  private final SessionQueries queries;
  private final SubjectRate appends;
  private final Logger log;

  SessionTools(SessionQueries queries, SubjectRate appends, Logger log) {
    this.queries = queries;
    this.appends = appends;
    this.log = log;
  }

  List<AsyncToolSpecification> all() {
    return List.of(
        tool("get_state", "Read the state document",
            "The session's state document now; at=OFFSET gives it as of that offset, turn=N as of the end of turn N (give at most one). Same as GET /v1/sessions/{id}/state.",
            "{" + SESSION_ID + ", \"at\": " + OFFSET + ", \"description\": \"An offset (0..head).\"}, \"turn\": " + OFFSET
                + ", \"description\": \"A turn number (0..current).\"}}", List.of("sessionId"), true,
            (identity, args) -> queries.state(session(identity, args), args.optionalCount("at"), args.optionalCount("turn"))),
        tool("diff_state", "Diff the state between two turns or two attempts",
            "The JSON Patch from the document at the end of turn `from` to the end of turn `to`, with the commits in between; or, with turn, attempt and vs, between two attempts of one turn. Same as GET /v1/sessions/{id}/diff.",
            "{" + SESSION_ID + ", \"from\": " + OFFSET + "}, \"to\": " + OFFSET + "}, \"turn\": " + OFFSET + "}, \"attempt\": "
                + "{\"type\": \"integer\", \"minimum\": 1}, \"vs\": {\"type\": \"integer\", \"minimum\": 1}}", List.of("sessionId"), true,
            (identity, args) -> {
              String id = session(identity, args);
              if (args.has("attempt") || args.has("vs")) {
                return queries.diffAttempts(id, args.optionalCount("turn"), args.optionalCount("attempt"), args.optionalCount("vs"));
              }
              return queries.diffTurns(id, args.optionalCount("from"), args.optionalCount("to"));
            }),
        tool("list_commits", "Query the commit log",
            "The state.committed events, filtered by tool name, by JSON pointer prefix (path, e.g. /files_modified) and by the last K turns, with the paths they touched. Same as GET /v1/sessions/{id}/commits.",
            "{" + SESSION_ID + ", \"tool\": {\"type\": \"string\"}, \"path\": {\"type\": \"string\", \"description\": \"A JSON pointer prefix.\"}, "
                + "\"lastTurns\": " + OFFSET + ", \"description\": \"Only commits of the last K turns (0 or absent: all).\"}}",
            List.of("sessionId"), true,
            (identity, args) -> queries.commits(session(identity, args), args.optionalString("tool"), args.optionalString("path"),
                args.optionalCount("lastTurns"))),
        tool("commit_state", "Commit a JSON Patch to the state document",
            "A typed change of the state document, as the socket's commit frame: an RFC 6902 patch with what caused it. Agents and operators only. Answers the offset of the state.committed event.",
            "{" + SESSION_ID + ", \"patch\": {\"type\": \"array\", \"items\": {\"type\": \"object\"}, \"description\": \"RFC 6902 operations; [] records a step that changed nothing.\"}, "
                + "\"tool\": {\"type\": \"string\"}, \"toolCallId\": {\"type\": \"string\"}, \"inputHash\": {\"type\": \"string\"}, "
                + "\"outputSummary\": {\"type\": \"string\"}, \"provenance\": {\"type\": \"string\", \"enum\": [\"verified\", \"unverified\"]}, "
                + "\"error\": {\"type\": \"object\", \"properties\": {\"code\": {\"type\": \"string\"}, \"message\": {\"type\": \"string\"}}}, "
                + "\"evictedKeys\": {\"type\": \"array\", \"items\": {\"type\": \"string\"}}}", List.of("sessionId", "patch"), false,
            (identity, args) -> {
              String id = session(identity, args);
              AppendBody commit = commit(args);
              return limited(identity, () -> queries.append(id, identity, commit));
            }),
        tool("get_resume_package", "Get the resume package",
            "What an agent needs to carry on after a restart: the latest handoff note, what was addressed to it since `after` (default: its last acknowledged offset), the state, open runs, pending approvals and the head. Same as GET /v1/sessions/{id}/resume.",
            "{" + SESSION_ID + ", \"after\": " + OFFSET + "}}", List.of("sessionId"), true,
            (identity, args) -> queries.resume(session(identity, args), identity, args.optionalCount("after"))),
        tool("write_handoff_note", "Write a handoff note (with a handback or a transfer)",
            "A session records a handoff note when control changes hands, so the note goes with one: via=handback gives the floor back to the agents (operators in control; `agent` optional), via=transfer asks for a warm or cold transfer (`mode`, `to`). Same as POST /v1/sessions/{id}/handback or /transfers.",
            "{" + SESSION_ID + ", \"via\": {\"type\": \"string\", \"enum\": [\"handback\", \"transfer\"]}, "
                + "\"note\": {\"type\": \"object\", \"properties\": {\"inProgress\": {\"type\": \"array\", \"items\": {\"type\": \"string\"}}, "
                + "\"decided\": {\"type\": \"array\", \"items\": {\"type\": \"object\", \"properties\": {\"what\": {\"type\": \"string\"}, \"why\": {\"type\": \"string\"}}}}, "
                + "\"next\": {\"type\": \"array\", \"items\": {\"type\": \"string\"}}, \"canWait\": {\"type\": \"array\", \"items\": {\"type\": \"string\"}}, "
                + "\"waitingOn\": {\"type\": \"array\", \"items\": {\"type\": \"string\"}}}}, "
                + "\"agent\": {\"type\": \"string\"}, \"mode\": {\"type\": \"string\", \"enum\": [\"warm\", \"cold\"]}, "
                + "\"to\": {\"type\": \"object\", \"properties\": {\"participant\": {\"type\": \"string\"}, \"queue\": {\"type\": \"string\"}}}}",
            List.of("sessionId", "via", "note"), false,
            (identity, args) -> {
              String id = session(identity, args);
              ControlRequest request = controlWithNote(args);
              return limited(identity, () -> queries.control(id, identity, request));
            }),
        tool("read_handoff_note", "Read the latest handoff note",
            "The session's latest handoff note (absent until one was given) and its control phase.",
            "{" + SESSION_ID + "}", List.of("sessionId"), true,
            (identity, args) -> queries.handoffNote(session(identity, args))),
        tool("list_sessions", "List the sessions this token may see",
            "Session ids that the token's session patterns match (support and admin tokens, as GET /v1/sessions).",
            "{\"limit\": {\"type\": \"integer\", \"minimum\": 1, \"maximum\": " + SessionQueries.MAX_PAGE + "}}", List.of(), true,
            (identity, args) -> queries.sessionIds(identity, (int) Math.min(Integer.MAX_VALUE, args.optionalCount("limit").orElse(100L)))),
        tool("read_history", "Page the session's history",
            "The events after offset `after` (default 0), at most `limit` (1..1000, default 100), only those this token may see; `next` is the `after` of the next page. Same as GET /v1/sessions/{id}/events.",
            "{" + SESSION_ID + ", \"after\": " + OFFSET + "}, \"limit\": {\"type\": \"integer\", \"minimum\": 1, \"maximum\": " + SessionQueries.MAX_PAGE + "}}",
            List.of("sessionId"), true,
            (identity, args) -> queries.history(session(identity, args), identity, args.optionalCount("after").orElse(0L),
                (int) Math.min(Integer.MAX_VALUE, args.optionalCount("limit").orElse(100L)))));
  }

  private AsyncToolSpecification tool(String name, String title, String description, String properties, List<String> required,
      boolean readOnly, Call call) {
    Map<String, Object> schema = new java.util.LinkedHashMap<>();
    schema.put("type", "object");
    schema.put("properties", Json.MAPPER.convertValue(readTree(properties), Map.class));
    schema.put("required", required);
    schema.put("additionalProperties", false);
    McpSchema.Tool tool = McpSchema.Tool.builder().name(name).title(title).description(description).inputSchema(schema)
        .annotations(new McpSchema.ToolAnnotations(title, readOnly, false, readOnly, false, null))
        .build();
    return new AsyncToolSpecification(tool, (context, request) -> Mono.fromCompletionStage(run(call, context, request)));
  }

  private CompletionStage<McpSchema.CallToolResult> run(Call call, McpTransportContext context, McpSchema.CallToolRequest request) {
    Identity identity = (Identity) context.get(McpEndpoint.IDENTITY);
    CompletionStage<Answer> answer;
    try {
      answer = call.apply(identity, new Arguments(request.arguments()));
    } catch (Arguments.Invalid e) {
      answer = CompletableFuture.completedFuture(new Answer.Refused(ErrorCode.INVALID_REQUEST, e.getMessage()));
    } catch (Arguments.Refusal e) {
      answer = CompletableFuture.completedFuture(new Answer.Refused(e.code, e.getMessage()));
    }
    return answer.exceptionally(failure -> {
      ErrorCode code = Failures.classify(failure, log, "MCP tool " + request.name());
      return new Answer.Refused(code, Failures.message(code, "the session"));
    }).thenApply(SessionTools::result);
  }

  /** An answer as a tool result: the REST body as structured content and as its JSON text. */
  static McpSchema.CallToolResult result(Answer answer) {
    Object body = answer instanceof Answer.Refused r
        ? Map.of("error", Map.of("code", r.code().code(), "message", r.message()))
        : ((Answer.Ok) answer).body();
    String text = Json.write(body);
    return McpSchema.CallToolResult.builder()
        .addTextContent(text)
        .structuredContent(Json.MAPPER.convertValue(readTree(text), Map.class))
        .isError(answer instanceof Answer.Refused)
        .build();
  }

  /** The session the call names, if the token may join it; the same checks, in the same order, as the REST routes. */
  private static String session(Identity identity, Arguments args) {
    String id = args.requiredString("sessionId");
    if (!SessionRoutes.isSessionId(id)) throw new Arguments.Invalid("a session id is 1-128 of A-Z a-z 0-9 . _ : -");
    if (!identity.mayJoin(id)) throw new Arguments.Refusal(ErrorCode.FORBIDDEN, identity.subject() + " may not join " + id);
    return id;
  }

  /** A write counts against the caller's append limit, as a REST message or control request does: after the checks of who and what. */
  private CompletionStage<Answer> limited(Identity identity, java.util.function.Supplier<CompletionStage<Answer>> write) {
    long wait = appends.take(identity.subject());
    if (wait > 0) {
      return CompletableFuture.completedFuture(new Answer.Refused(ErrorCode.RATE_LIMITED,
          RateLimits.message(identity.subject(), appends.rate(), "appends", wait)));
    }
    return write.get();
  }

  /** The commit fields read exactly as the socket reads a {@code commit} frame; the session checks the patch. */
  private static AppendBody commit(Arguments args) {
    ObjectNode frame = args.tree().deepCopy();
    frame.remove("sessionId");
    frame.put("type", "commit");
    try {
      return Json.MAPPER.treeToValue(frame, AppendBody.class);
    } catch (Exception e) {
      throw new Arguments.Invalid("commit fields: tool, toolCallId, inputHash, outputSummary are strings; provenance is verified or unverified; "
          + "error is {code, message}; evictedKeys is a list of strings");
    }
  }

  private static ControlRequest controlWithNote(Arguments args) {
    HandoffNote note;
    try {
      note = Json.MAPPER.treeToValue(args.node("note"), HandoffNote.class);
    } catch (Exception e) {
      note = null;
    }
    if (note == null || !args.node("note").isObject()) {
      throw new Arguments.Invalid("note is {inProgress, decided:[{what, why}], next, canWait, waitingOn}, lists of strings");
    }
    String via = args.requiredString("via");
    switch (via) {
      case "handback":
        return new ControlRequest.HandBack(args.optionalString("agent").orElse(null), note);
      case "transfer":
        ControlRequest.Mode mode;
        try {
          mode = ControlRequest.Mode.valueOf(args.requiredString("mode").toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
          throw new Arguments.Invalid("mode is warm or cold");
        }
        JsonNode to = args.node("to");
        if (to == null || !to.isObject()) throw new Arguments.Invalid("to is {\"participant\"} or {\"queue\"}");
        Arguments target = new Arguments(Json.MAPPER.convertValue(to, Map.class));
        return new ControlRequest.RequestTransfer(mode,
            new Control.Invitee(target.optionalString("participant").orElse(null), target.optionalString("queue").orElse(null)), note);
      default:
        throw new Arguments.Invalid("via is handback or transfer");
    }
  }

  private static JsonNode readTree(String json) {
    try {
      return Json.MAPPER.readTree(json);
    } catch (Exception e) {
      throw new IllegalStateException("a tool's schema or body is not JSON: " + json, e);
    }
  }
}
