package dev.durablesessions.http.mcp;

import dev.durablesessions.http.Json;
import dev.durablesessions.http.auth.Identity;
import dev.durablesessions.http.rest.SessionQueries;
import dev.durablesessions.http.rest.SessionQueries.Answer;
import dev.durablesessions.http.rest.SessionRoutes;
import io.modelcontextprotocol.server.McpStatelessServerFeatures.AsyncResourceTemplateSpecification;
import io.modelcontextprotocol.spec.McpError;
import io.modelcontextprotocol.spec.McpSchema;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.function.BiFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import reactor.core.publisher.Mono;

/**
 * A session's state and transcript as MCP resources ({@code session://{sessionId}/state},
 * {@code session://{sessionId}/transcript}), read with the same calls as the tools. A refusal
 * is a JSON-RPC error: {@code -32002} (resource not found) for an unknown session or URI,
 * {@code -32602} (invalid params) for everything else; {@code data} holds the API's error body.
 */
final class SessionResources {
  private static final Pattern URI = Pattern.compile("session://([^/]+)/(state|transcript)");
  static final int RESOURCE_NOT_FOUND = -32002;

  private final SessionQueries queries;

  SessionResources(SessionQueries queries) {
    this.queries = queries;
  }

  List<AsyncResourceTemplateSpecification> all() {
    return List.of(
        template("session://{sessionId}/state", "state", "The session's state document now (as GET /v1/sessions/{id}/state).",
            (identity, id) -> queries.state(id, Optional.empty(), Optional.empty())),
        template("session://{sessionId}/transcript", "transcript",
            "The session's latest events, up to 1000, that this token may see (a history page; page further with read_history).",
            (identity, id) -> queries.transcript(id, identity)));
  }

  private AsyncResourceTemplateSpecification template(String uriTemplate, String name, String description,
      BiFunction<Identity, String, CompletionStage<Answer>> read) {
    McpSchema.ResourceTemplate template = McpSchema.ResourceTemplate.builder()
        .uriTemplate(uriTemplate).name(name).description(description).mimeType("application/json").build();
    return new AsyncResourceTemplateSpecification(template, (context, request) -> {
      Identity identity = (Identity) context.get(McpEndpoint.IDENTITY);
      Matcher m = URI.matcher(request.uri() == null ? "" : request.uri());
      if (!m.matches()) return Mono.error(error(RESOURCE_NOT_FOUND, "not_found", "no such resource: " + request.uri()));
      String id = m.group(1);
      if (!SessionRoutes.isSessionId(id)) {
        return Mono.error(error(McpSchema.ErrorCodes.INVALID_PARAMS, "invalid_request", "a session id is 1-128 of A-Z a-z 0-9 . _ : -"));
      }
      if (!identity.mayJoin(id)) {
        return Mono.error(error(McpSchema.ErrorCodes.INVALID_PARAMS, "forbidden", identity.subject() + " may not join " + id));
      }
      return Mono.fromCompletionStage(read.apply(identity, id)).flatMap(answer -> {
        if (answer instanceof Answer.Refused r) {
          int code = r.code().httpStatus() == 404 ? RESOURCE_NOT_FOUND : McpSchema.ErrorCodes.INVALID_PARAMS;
          return Mono.error(error(code, r.code().code(), r.message()));
        }
        String text = Json.write(((Answer.Ok) answer).body());
        return Mono.just(new McpSchema.ReadResourceResult(List.of(new McpSchema.TextResourceContents(request.uri(), "application/json", text))));
      });
    });
  }

  private static McpError error(int rpcCode, String code, String message) {
    return McpError.builder(rpcCode).message(message).data(Map.of("error", Map.of("code", code, "message", message))).build();
  }
}
