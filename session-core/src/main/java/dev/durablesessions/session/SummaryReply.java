package dev.durablesessions.session;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.durablesessions.CborSerializable;
import dev.durablesessions.session.presence.Presence;
import dev.durablesessions.session.transfer.Control;
import dev.durablesessions.session.transfer.HandoffNote;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** The answer to {@link SessionCommand.GetSummary}. */
public sealed interface SummaryReply extends CborSerializable permits SummaryReply.Summary, Outcome.Refused {

  @JsonInclude(JsonInclude.Include.NON_NULL)
  record Summary(
      String sessionId,
      long head,
      Instant createdAt,
      Participant createdBy,
      List<ParticipantView> participants,
      List<String> openStreams,
      Map<String, String> stalled,
      Control control,
      HandoffNote latestNote,
      List<PendingApproval> pendingApprovals,
      int subscribers,
      String pool)
      implements SummaryReply {}

  /** A tool approval waiting for its answer, as clients see it (oldest first). */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  record PendingApproval(
      String approvalId, String toolCallId, String name, Target to, com.fasterxml.jackson.databind.JsonNode input, String text,
      long offset)
      implements CborSerializable {
    public static List<PendingApproval> of(dev.durablesessions.session.approval.Approvals approvals) {
      return approvals.pending().values().stream()
          .map(p -> new PendingApproval(p.approvalId(), p.toolCallId(), p.name(), p.to(), p.input(), p.text(), p.offset()))
          .toList();
    }
  }

  /** A participant with its presence, its devices attached to this session now, and (agents) its status. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  record ParticipantView(Participant participant, Presence presence, List<DeviceView> devices, AgentStatus status)
      implements CborSerializable {}

  /** One attached device: since when, its last activity, the highest offset delivered to it and the highest it confirmed. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  record DeviceView(String device, Instant since, Instant lastActivity, long delivered, Long acked) implements CborSerializable {}
}
