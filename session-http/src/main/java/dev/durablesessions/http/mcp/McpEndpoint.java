package dev.durablesessions.http.mcp;

import dev.durablesessions.http.ApiError;
import dev.durablesessions.http.auth.Authenticated;
import dev.durablesessions.http.auth.Identity;
import dev.durablesessions.session.ErrorCode;
import io.modelcontextprotocol.common.McpTransportContext;
import io.modelcontextprotocol.json.McpJsonMapper;
import io.modelcontextprotocol.server.McpStatelessServerHandler;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpStatelessServerTransport;
import java.util.Map;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;
import reactor.core.publisher.Mono;

/**
 * The MCP Streamable HTTP transport at {@code /mcp}, stateless: each POST carries one JSON-RPC
 * message and is answered with one {@code application/json} body; there is no MCP session and
 * no server-to-client stream, so GET and DELETE are {@code 405}. The MCP SDK's stateless server
 * ({@link McpStatelessServerHandler}) does the protocol; this class only carries messages over
 * Pekko HTTP, with the caller's {@link Identity} in the transport context. Nothing blocks: the
 * handler's answer is a {@link Mono} completed by the session's asks.
 */
public final class McpEndpoint extends AllDirectives implements McpStatelessServerTransport {
  static final String IDENTITY = "durable-sessions.identity";

  private final Authenticated authenticated;
  private final McpJsonMapper mapper;
  private volatile McpStatelessServerHandler handler;

  McpEndpoint(Authenticated authenticated, McpJsonMapper mapper) {
    this.authenticated = authenticated;
    this.mapper = mapper;
  }

  @Override
  public void setMcpHandler(McpStatelessServerHandler handler) {
    this.handler = handler;
  }

  @Override
  public Mono<Void> closeGracefully() {
    return Mono.empty();
  }

  Route route() {
    return path("mcp", () -> concat(
        post(() -> authenticated.identity(identity -> entity(Unmarshaller.entityToString(), body -> receive(identity, body)))),
        extractMethod(method -> complete(ApiError.response(ErrorCode.METHOD_NOT_ALLOWED,
            "MCP here is stateless Streamable HTTP: POST one JSON-RPC message; there is no server stream to GET or session to DELETE")
            .addHeader(RawHeader.create("Allow", "POST"))))));
  }

  private Route receive(Identity identity, String body) {
    McpSchema.JSONRPCMessage message;
    try {
      message = McpSchema.deserializeJsonRpcMessage(mapper, body);
    } catch (Exception e) {
      return complete(rpcError(null, McpSchema.ErrorCodes.PARSE_ERROR, "not a JSON-RPC 2.0 message (one object; batches are not supported)"));
    }
    McpTransportContext context = McpTransportContext.create(Map.of(IDENTITY, identity));
    if (message instanceof McpSchema.JSONRPCRequest request) {
      if (request.method() == null || request.id() == null) {
        return complete(rpcError(request.id(), McpSchema.ErrorCodes.INVALID_REQUEST, "a request has a method and an id"));
      }
      return onSuccess(handler.handleRequest(context, request)
              .contextWrite(c -> c.put(McpTransportContext.KEY, context))
              .onErrorResume(e -> Mono.just(new McpSchema.JSONRPCResponse(McpSchema.JSONRPC_VERSION, request.id(), null,
                  new McpSchema.JSONRPCResponse.JSONRPCError(McpSchema.ErrorCodes.INTERNAL_ERROR, "the request failed: " + e.getMessage()))))
              .toFuture(),
          response -> complete(json(StatusCodes.OK, response)));
    }
    if (message instanceof McpSchema.JSONRPCNotification notification) {
      return onSuccess(handler.handleNotification(context, notification)
              .contextWrite(c -> c.put(McpTransportContext.KEY, context))
              .onErrorResume(e -> Mono.empty())
              .then(Mono.just(true)).toFuture(),
          done -> complete(HttpResponse.create().withStatus(StatusCodes.ACCEPTED)));
    }
    return complete(rpcError(null, McpSchema.ErrorCodes.INVALID_REQUEST, "this server sends no requests, so it takes no responses"));
  }

  /** A JSON-RPC error for a message the SDK never sees; its id is null when the message had none (JSON-RPC 2.0, section 5). */
  private HttpResponse rpcError(Object id, int code, String message) {
    Map<String, Object> body = new java.util.LinkedHashMap<>();
    body.put("jsonrpc", McpSchema.JSONRPC_VERSION);
    body.put("id", id);
    body.put("error", Map.of("code", code, "message", message));
    return json(StatusCodes.BAD_REQUEST, body);
  }

  private HttpResponse json(org.apache.pekko.http.javadsl.model.StatusCode status, Object body) {
    try {
      return HttpResponse.create().withStatus(status).withEntity(ContentTypes.APPLICATION_JSON, mapper.writeValueAsString(body));
    } catch (java.io.IOException e) {
      throw new IllegalStateException("an MCP message that does not serialize", e);
    }
  }
}
