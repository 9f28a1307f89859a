package dev.durablesessions.session;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import dev.durablesessions.CborSerializable;
import dev.durablesessions.session.producer.SeqRange;
import java.time.Instant;

/**
 * Everything that happens in a session. Every event carries its offset (the journal sequence
 * number), the participant that caused it and when; {@code producer} names the idempotent
 * producer sequences it stands for, if any. The {@code type} names are stable: they are what
 * the journal stores and what clients see, so a class may be renamed but a name never changes.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
  @JsonSubTypes.Type(value = SessionEvent.SessionCreated.class, name = "session.created"),
  @JsonSubTypes.Type(value = SessionEvent.ParticipantJoined.class, name = "participant.joined"),
  @JsonSubTypes.Type(value = SessionEvent.ParticipantLeft.class, name = "participant.left"),
  @JsonSubTypes.Type(value = SessionEvent.MessagePosted.class, name = "message"),
  @JsonSubTypes.Type(value = SessionEvent.StreamStarted.class, name = "stream.started"),
  @JsonSubTypes.Type(value = SessionEvent.StreamDelta.class, name = "stream.delta"),
  @JsonSubTypes.Type(value = SessionEvent.StreamEnded.class, name = "stream.ended"),
  @JsonSubTypes.Type(value = SessionEvent.SignalSent.class, name = "signal"),
})
@JsonInclude(JsonInclude.Include.NON_NULL)
public sealed interface SessionEvent extends CborSerializable {
  long offset();

  Participant by();

  Instant at();

  SeqRange producer();

  record SessionCreated(long offset, Participant by, Instant at, SeqRange producer, String sessionId)
      implements SessionEvent {}

  record ParticipantJoined(long offset, Participant by, Instant at, SeqRange producer, Participant participant)
      implements SessionEvent {}

  record ParticipantLeft(long offset, Participant by, Instant at, SeqRange producer, Participant participant)
      implements SessionEvent {}

  /** A complete message in one piece. */
  record MessagePosted(long offset, Participant by, Instant at, SeqRange producer, String messageId, String text)
      implements SessionEvent {}

  record StreamStarted(long offset, Participant by, Instant at, SeqRange producer, String messageId)
      implements SessionEvent {}

  /** Text of one streamed message; {@code parts} says how many appended deltas were coalesced into it. */
  record StreamDelta(long offset, Participant by, Instant at, SeqRange producer, String messageId, String text, int parts)
      implements SessionEvent {}

  record StreamEnded(long offset, Participant by, Instant at, SeqRange producer, String messageId, EndReason reason, String error)
      implements SessionEvent {}

  /** Interrupt, steer, cancel or a custom signal, addressed to a role or a participant. */
  record SignalSent(long offset, Participant by, Instant at, SeqRange producer, SignalKind kind, Target to, String text)
      implements SessionEvent {}
}
