package dev.durablesessions.http.socket;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import dev.durablesessions.session.AgentStatus;
import dev.durablesessions.session.AppendBody;
import dev.durablesessions.session.SignalOutcome;
import dev.durablesessions.session.EndReason;
import dev.durablesessions.session.SignalKind;
import dev.durablesessions.session.Target;
import dev.durablesessions.session.producer.ProducerStamp;

/**
 * What a participant sends over its socket (JSON text frames). {@code ref} is the client's own
 * correlation id, echoed in the {@code ack} or {@code error} that answers the frame;
 * {@code producer} makes an append idempotent.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
  @JsonSubTypes.Type(value = ClientFrame.Message.class, name = "message"),
  @JsonSubTypes.Type(value = ClientFrame.StreamStart.class, name = "stream.start"),
  @JsonSubTypes.Type(value = ClientFrame.StreamDelta.class, name = "stream.delta"),
  @JsonSubTypes.Type(value = ClientFrame.StreamEnd.class, name = "stream.end"),
  @JsonSubTypes.Type(value = ClientFrame.Signal.class, name = "signal"),
  @JsonSubTypes.Type(value = ClientFrame.SignalAnswer.class, name = "signal.answer"),
  @JsonSubTypes.Type(value = ClientFrame.Status.class, name = "status"),
  @JsonSubTypes.Type(value = ClientFrame.Suggestion.class, name = "suggestion"),
  @JsonSubTypes.Type(value = ClientFrame.Heartbeat.class, name = "heartbeat"),
  @JsonSubTypes.Type(value = ClientFrame.Ack.class, name = "ack"),
  @JsonSubTypes.Type(value = ClientFrame.Commit.class, name = "commit"),
  @JsonSubTypes.Type(value = ClientFrame.ToolCall.class, name = "tool.call"),
  @JsonSubTypes.Type(value = ClientFrame.ToolResult.class, name = "tool.result"),
  @JsonSubTypes.Type(value = ClientFrame.RetryTurn.class, name = "turn.retry"),
  @JsonSubTypes.Type(value = ClientFrame.ToolApprovalRequest.class, name = "tool.approval.request"),
  @JsonSubTypes.Type(value = ClientFrame.ToolApprovalAnswer.class, name = "tool.approval.answer"),
  @JsonSubTypes.Type(value = ClientFrame.Leave.class, name = "leave"),
  @JsonSubTypes.Type(value = ClientFrame.Auth.class, name = "auth"),
})
public sealed interface ClientFrame {
  String ref();

  /** An append: the frames that become session events. */
  sealed interface Appending extends ClientFrame {
    ProducerStamp producer();

    AppendBody body();
  }

  record Message(String ref, ProducerStamp producer, String messageId, String text) implements Appending {
    public AppendBody body() {
      return new AppendBody.PostMessage(messageId, text);
    }
  }

  record StreamStart(String ref, ProducerStamp producer, String messageId) implements Appending {
    public AppendBody body() {
      return new AppendBody.StartStream(messageId);
    }
  }

  record StreamDelta(String ref, ProducerStamp producer, String messageId, String text) implements Appending {
    public AppendBody body() {
      return new AppendBody.AppendDelta(messageId, text);
    }
  }

  record StreamEnd(String ref, ProducerStamp producer, String messageId, EndReason reason, String error) implements Appending {
    public AppendBody body() {
      return new AppendBody.EndStream(messageId, reason == null ? EndReason.COMPLETE : reason, error);
    }
  }

  record Signal(String ref, ProducerStamp producer, SignalKind kind, Target to, String text, String toolCallId)
      implements Appending {
    public AppendBody body() {
      return new AppendBody.SendSignal(kind, to, text, toolCallId);
    }
  }

  /** The addressee's answer to the signal at offset {@code signal}: consumed or ignored. */
  record SignalAnswer(String ref, ProducerStamp producer, Long signal, SignalOutcome outcome, String text) implements Appending {
    public AppendBody body() {
      return new AppendBody.AnswerSignal(signal == null ? -1 : signal, outcome, text);
    }
  }

  /** An agent's status: idle, thinking, streaming, tool_call, waiting_for_input. */
  record Status(String ref, ProducerStamp producer, AgentStatus status, String detail) implements Appending {
    public AppendBody body() {
      return new AppendBody.SetStatus(status, detail);
    }
  }

  /** An agent's suggestion to the human in control (operators only see it). */
  record Suggestion(String ref, ProducerStamp producer, String text) implements Appending {
    public AppendBody body() {
      return new AppendBody.Suggest(text);
    }
  }

  /** I am alive; {@code offset}, if given, is the last offset this device processed (a receipt). Not answered. */
  record Heartbeat(String ref, Long offset) implements ClientFrame {}

  /** This device processed every event up to {@code offset}: a delivery receipt. Not answered. */
  record Ack(String ref, Long offset) implements ClientFrame {}

  /** A typed change of the session's state document (RFC 6902 patch). */
  record Commit(
      String ref,
      ProducerStamp producer,
      String tool,
      String toolCallId,
      String inputHash,
      String outputSummary,
      dev.durablesessions.session.state.Provenance provenance,
      dev.durablesessions.session.state.CommitError error,
      com.fasterxml.jackson.databind.JsonNode patch,
      java.util.List<String> evictedKeys)
      implements Appending {
    public AppendBody body() {
      return new AppendBody.Commit(tool, toolCallId, inputHash, outputSummary, provenance, error, patch, evictedKeys);
    }
  }

  record ToolCall(String ref, ProducerStamp producer, String toolCallId, String name, String inputHash) implements Appending {
    public AppendBody body() {
      return new AppendBody.CallTool(toolCallId, name, inputHash);
    }
  }

  record ToolResult(
      String ref, ProducerStamp producer, String toolCallId, dev.durablesessions.session.state.ToolOutcome outcome, String summary,
      dev.durablesessions.session.state.CommitError error)
      implements Appending {
    public AppendBody body() {
      return new AppendBody.ToolResult(toolCallId, outcome, summary, error);
    }
  }

  record RetryTurn(String ref, ProducerStamp producer, String reason) implements Appending {
    public AppendBody body() {
      return new AppendBody.RetryTurn(reason);
    }
  }

  /** The caller of an open tool call (or an operator) asks {@code to} to approve it, showing {@code input}. */
  record ToolApprovalRequest(
      String ref, ProducerStamp producer, String toolCallId, String approvalId, Target to,
      com.fasterxml.jackson.databind.JsonNode input, String text)
      implements Appending {
    public AppendBody body() {
      return new AppendBody.RequestApproval(toolCallId, approvalId, to, input, text);
    }
  }

  /** The addressee approves ({@code approved: true}) or denies an approval; the first answer wins. */
  record ToolApprovalAnswer(String ref, ProducerStamp producer, String approvalId, Boolean approved, String reason)
      implements Appending {
    public AppendBody body() {
      return new AppendBody.AnswerApproval(approvalId, approved, reason);
    }
  }

  /** A fresh token for this socket, before the one it opened with expires. Answered with ack or error. */
  record Auth(String ref, String token) implements ClientFrame {}

  /** Goodbye: the participant leaves the session and the socket closes. */
  record Leave(String ref) implements ClientFrame {}
}
