package dev.durablesessions.http.mcp;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.durablesessions.http.auth.Authenticated;
import dev.durablesessions.http.auth.Tokens;
import dev.durablesessions.http.limits.RateLimits;
import dev.durablesessions.http.rest.SessionQueries;
import io.modelcontextprotocol.json.jackson2.JacksonMcpJsonMapper;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.spec.McpSchema;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * Session state over MCP at {@code /mcp}: the official MCP Java SDK's stateless server with the
 * tools of {@link SessionTools} and the resources of {@link SessionResources}, carried by
 * {@link McpEndpoint}. docs/MCP.md says why stateless and what that leaves out.
 */
public final class SessionMcp {
  private final McpEndpoint endpoint;

  public SessionMcp(ActorSystem<?> system, Tokens tokens, SessionQueries queries) {
    // The SDK's own mapper for its protocol types; tool bodies are written by the API's mapper (Json) first.
    JacksonMcpJsonMapper mapper = new JacksonMcpJsonMapper(new ObjectMapper());
    this.endpoint = new McpEndpoint(new Authenticated(tokens), mapper);
    McpServer.async(endpoint)
        .serverInfo("durable-sessions", "0.1.0")
        .instructions("Durable Sessions: read and write a session's typed state document, its diffs, commit log, "
            + "handoff notes, resume package and history. Every tool names the session by sessionId.")
        .capabilities(McpSchema.ServerCapabilities.builder().tools(false).resources(false, false).build())
        .jsonMapper(mapper)
        // Arguments are checked by the tools themselves, so every refusal has the API's error codes.
        .validateToolInputs(false)
        .requestTimeout(system.settings().config().getDuration("durable-sessions.http.ask-timeout").multipliedBy(2))
        .tools(new SessionTools(queries, RateLimits.get(system).appends(), system.log()).all())
        .resourceTemplates(new SessionResources(queries).all())
        .build();
  }

  /** {@code /mcp}, authenticated like the session API. */
  public Route route() {
    return endpoint.route();
  }
}
