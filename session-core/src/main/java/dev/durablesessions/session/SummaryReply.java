package dev.durablesessions.session;

import dev.durablesessions.CborSerializable;
import java.time.Instant;
import java.util.List;

/** The answer to {@link SessionCommand.GetSummary}. */
public sealed interface SummaryReply extends CborSerializable permits SummaryReply.Summary, Outcome.Refused {

  record Summary(
      String sessionId,
      long head,
      Instant createdAt,
      Participant createdBy,
      List<Participant> participants,
      List<String> openStreams,
      int subscribers)
      implements SummaryReply {}
}
