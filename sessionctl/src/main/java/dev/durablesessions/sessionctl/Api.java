package dev.durablesessions.sessionctl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;

/** The few HTTP calls sessionctl makes, with the server's JSON errors turned into {@link Refused}. */
final class Api {
  static final ObjectMapper JSON = new ObjectMapper();

  /** The server refused (or could not be reached); carries its error code. */
  static final class Refused extends Exception {
    final String code;

    Refused(String code, String message) {
      super(message, null, false, false);
      this.code = code;
    }
  }

  final String base;
  final String token;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  Api(String base, String token) {
    this.base = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
    this.token = token;
  }

  JsonNode get(String path) throws Refused {
    return send("GET", path, null);
  }

  JsonNode post(String path, Object body) throws Refused {
    try {
      return send("POST", path, body == null ? "{}" : JSON.writeValueAsString(body));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private JsonNode send(String method, String path, String body) throws Refused {
    HttpRequest request = HttpRequest.newBuilder(URI.create(base + path))
        .timeout(Duration.ofSeconds(15))
        .header("Authorization", "Bearer " + token)
        .header("Content-Type", "application/json")
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
        .build();
    HttpResponse<String> response;
    try {
      response = http.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new Refused("unreachable", "cannot reach " + base + " (set --url or DS_URL, e.g. DS_URL=http://127.0.0.1:8081 for the local cluster): " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Refused("interrupted", "interrupted");
    }
    JsonNode json;
    try {
      json = JSON.readTree(response.body().isEmpty() ? "{}" : response.body());
    } catch (IOException e) {
      throw new Refused("bad_response", "HTTP " + response.statusCode() + ": " + response.body());
    }
    if (response.statusCode() >= 400) {
      JsonNode error = json.path("error");
      throw new Refused(error.path("code").asText("http_" + response.statusCode()), error.path("message").asText(response.body()));
    }
    return json;
  }

  /** The role claim of the token, read without verifying it (the server verifies). */
  static String roleOf(String token) {
    String[] parts = token.split("\\.");
    if (parts.length < 2) return "";
    try {
      return JSON.readTree(new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8)).path("role").asText("");
    } catch (IOException | IllegalArgumentException e) {
      return "";
    }
  }

  String webSocket(String path) {
    return base.replaceFirst("^http", "ws") + path;
  }
}
