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
      String pool,
      LeaseView lease)
      implements SummaryReply {}

  /**
   * The session's dispatch lease: {@code agent} holds lease {@code epoch} since {@code since};
   * with {@code agent} absent the latest lease ended at {@code since}. Absent if never assigned.
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  record LeaseView(String agent, long epoch, Instant since) implements CborSerializable {
    public static LeaseView of(dev.durablesessions.session.dispatch.Assignment a) {
      return a.epoch() == 0 ? null : new LeaseView(a.agent(), a.epoch(), a.since());
    }
  }

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
