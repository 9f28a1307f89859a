package dev.durablesessions.session;

import dev.durablesessions.CborSerializable;
import dev.durablesessions.session.SessionEvent.AgentStalled;
import dev.durablesessions.session.SessionEvent.AgentStatusChanged;
import dev.durablesessions.session.SessionEvent.ControlHandedBack;
import dev.durablesessions.session.SessionEvent.MessagePosted;
import dev.durablesessions.session.SessionEvent.ParticipantConnected;
import dev.durablesessions.session.SessionEvent.ParticipantDisconnected;
import dev.durablesessions.session.SessionEvent.ParticipantJoined;
import dev.durablesessions.session.SessionEvent.ParticipantLeft;
import dev.durablesessions.session.SessionEvent.ParticipantLost;
import dev.durablesessions.session.SessionEvent.SessionClaimed;
import dev.durablesessions.session.SessionEvent.SessionClosed;
import dev.durablesessions.session.SessionEvent.SessionCreated;
import dev.durablesessions.session.SessionEvent.SessionQueued;
import dev.durablesessions.session.SessionEvent.SignalAnswered;
import dev.durablesessions.session.SessionEvent.SignalSent;
import dev.durablesessions.session.SessionEvent.StreamDelta;
import dev.durablesessions.session.SessionEvent.StreamEnded;
import dev.durablesessions.session.SessionEvent.StreamStarted;
import dev.durablesessions.session.SessionEvent.SuggestionMade;
import dev.durablesessions.session.SessionEvent.TransferAccepted;
import dev.durablesessions.session.SessionEvent.TransferCancelled;
import dev.durablesessions.session.SessionEvent.TransferRequested;
import dev.durablesessions.session.approval.Approvals;
import dev.durablesessions.session.presence.Presence;
import dev.durablesessions.session.producer.ProducerState;
import dev.durablesessions.session.producer.SeqRange;
import dev.durablesessions.session.transfer.Control;
import dev.durablesessions.session.transfer.HandoffNote;
import com.fasterxml.jackson.databind.JsonNode;
import dev.durablesessions.session.state.StateCheckpoints;
import dev.durablesessions.session.state.ToolOutcome;
import dev.durablesessions.session.state.WorkingState;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The session's durable state, rebuilt from its events (and snapshots). {@code head} is the
 * offset of the last event: it equals the journal's highest sequence number because every
 * event gets head + 1. Each method returns a new state; maps are replaced, never mutated.
 *
 * @param openStreams message id to the participant id streaming it
 * @param stalled open streams whose agent has gone silent (message id to agent id)
 * @param openSignals recent signals not yet answered (offset to addressee), bounded
 * @param approvals tool approvals pending, and the ids of recent ones, bounded
 * @param tombstone set once the session is erased: then nothing else is left of it
 * @param checkpoints the document at a few points of the history, for historic views
 * @param pool the agent pool named at creation; null for the default pool
 * @param assignment which agent holds the session's lease (issue 16: dispatch)
 */
public record SessionState(
    String sessionId,
    Instant createdAt,
    Participant createdBy,
    long head,
    Map<String, Participant> participants,
    Map<String, Presence> presence,
    Map<String, String> openStreams,
    Map<String, String> stalled,
    Map<String, AgentStatus> agentStatus,
    Map<Long, Target> openSignals,
    Control control,
    HandoffNote latestNote,
    Map<String, ProducerState> producers,
    JsonNode document,
    Turn turn,
    Map<String, ToolCall> toolCalls,
    Approvals approvals,
    Map<String, Receipt> receipts,
    boolean audience,
    SessionEvent.SessionErased tombstone,
    StateCheckpoints checkpoints,
    String pool,
    dev.durablesessions.session.dispatch.Assignment assignment)
    implements CborSerializable {

  /**
   * Snapshots written before tool approvals existed have none; those written before state
   * checkpoints existed start their record where they are (views before it fold from offset 1).
   */
  public SessionState {
    if (approvals == null) approvals = Approvals.none();
    if (checkpoints == null) {
      checkpoints = head == 0 || document == null || turn == null
          ? StateCheckpoints.start(StateCheckpoints.DEFAULT_EVERY)
          : StateCheckpoints.from(head, turn.number(), turn.attempt(), document, StateCheckpoints.DEFAULT_EVERY);
    }
    // Snapshots written before dispatch have no assignment.
    if (assignment == null) assignment = dev.durablesessions.session.dispatch.Assignment.none();
  }

  /** The current turn: a user message opens the next one, the assistant's reply closes it; a retry reopens it. */
  public record Turn(int number, int attempt, boolean open) implements CborSerializable {}

  /** A recent tool call, who called it; {@code outcome} is null while it runs. */
  public record ToolCall(String name, int turn, String caller, ToolOutcome outcome) implements CborSerializable {}

  /** The highest offset a device confirmed, and when. */
  public record Receipt(Participant participant, String device, long delivered, Instant at) implements CborSerializable {}

  static final int MAX_TOOL_CALLS = 256;

  static final int MAX_OPEN_SIGNALS = 256;

  public static SessionState empty() {
    return new SessionState(null, null, null, 0, Map.of(), Map.of(), Map.of(), Map.of(), Map.of(), Map.of(),
        new Control.AgentInControl(null), null, Map.of(), WorkingState.initial(), new Turn(0, 1, false), Map.of(), Approvals.none(), Map.of(),
        false, null, StateCheckpoints.start(StateCheckpoints.DEFAULT_EVERY), null, null);
  }

  /** What is left of an erased session: its tombstone, nothing else (not even its id: it answers session_erased). */
  static SessionState erased(SessionEvent.SessionErased tombstone) {
    SessionState empty = empty();
    return new SessionState(null, null, null, tombstone.offset(), Map.of(), Map.of(), Map.of(), Map.of(), Map.of(), Map.of(),
        empty.control(), null, Map.of(), empty.document(), empty.turn(), Map.of(), Approvals.none(), Map.of(), false, tombstone,
        empty.checkpoints(), null, null);
  }

  /** A live session: created and not erased. */
  public boolean created() {
    return sessionId != null;
  }

  public boolean erased() {
    return tombstone != null;
  }

  public boolean closed() {
    return control instanceof Control.Closed;
  }

  public boolean isParticipant(Participant p) {
    return participants.containsKey(p.id());
  }

  /** The participant id that owns the open stream, or null if it is not open. */
  public String streamOwner(String messageId) {
    return openStreams.get(messageId);
  }

  public ProducerState producer(String producerId) {
    return producers.get(producerId);
  }

  public Presence presenceOf(String participantId) {
    return presence.get(participantId);
  }

  public SessionState apply(SessionEvent event, int producerWindow) {
    // The tombstone replaces whatever came before. On replay after the purge it is the only
    // event left, so it follows no head; replayed over leftovers of an unfinished purge, it wins.
    if (event instanceof SessionEvent.SessionErased tombstone) return erased(tombstone);
    if (erased()) throw new IllegalStateException("event " + event.offset() + " after the session was erased");
    if (event.offset() != head + 1) {
      throw new IllegalStateException("event offset " + event.offset() + " does not follow head " + head);
    }
    return next(event).advance(event, producerWindow);
  }

  // Java 17 has no pattern switch: an instanceof chain that ends in a throw, so a new event
  // type fails the first test that replays it instead of being silently ignored.
  private SessionState next(SessionEvent event) {
    Instant at = event.at();
    if (event instanceof SessionCreated e) {
      return with(b -> {
        b.sessionId = e.sessionId();
        b.createdAt = at;
        b.createdBy = e.by();
        b.pool = e.pool();
      });
    } else if (event instanceof ParticipantJoined e) {
      Participant p = e.participant();
      return with(b -> {
        b.participants = put(participants, p.id(), p);
        if (!presence.containsKey(p.id())) b.presence = put(presence, p.id(), Presence.offline(at));
      });
    } else if (event instanceof ParticipantLeft e) {
      return with(b -> {
        b.participants = remove(participants, e.participant().id());
        b.presence = remove(presence, e.participant().id());
      });
    } else if (event instanceof ParticipantConnected e) {
      Participant p = e.participant();
      Presence now = presence.getOrDefault(p.id(), Presence.offline(at)).connect(e.device(), at);
      return with(b -> {
        b.participants = participants.containsKey(p.id()) ? participants : put(participants, p.id(), p);
        b.presence = put(presence, p.id(), now);
      });
    } else if (event instanceof ParticipantDisconnected e) {
      Presence was = presence.get(e.participant().id());
      if (was == null) return this;
      return with(b -> b.presence = put(presence, e.participant().id(), was.disconnect(e.device(), at, e.graceUntil())));
    } else if (event instanceof ParticipantLost e) {
      Presence was = presence.get(e.participant().id());
      if (was == null) return this;
      return with(b -> b.presence = put(presence, e.participant().id(), was.lose(at)));
    } else if (event instanceof StreamStarted e) {
      return with(b -> b.openStreams = put(openStreams, e.messageId(), e.by().id()));
    } else if (event instanceof StreamDelta e) {
      return stalled.containsKey(e.messageId()) ? with(b -> b.stalled = remove(stalled, e.messageId())) : this;
    } else if (event instanceof StreamEnded e) {
      Participant owner = participants.get(openStreams.get(e.messageId()));
      // An answer cut off because its agent was lost does not answer the turn: the next agent does.
      boolean closesTurn = turn.open() && owner != null && owner.role().speaksAsAssistant() && e.reason() != EndReason.AGENT_LOST;
      return with(b -> {
        b.openStreams = remove(openStreams, e.messageId());
        b.stalled = remove(stalled, e.messageId());
        if (closesTurn) b.turn = new Turn(turn.number(), turn.attempt(), false);
      });
    } else if (event instanceof AgentStalled e) {
      return with(b -> b.stalled = put(stalled, e.messageId(), e.agent()));
    } else if (event instanceof AgentStatusChanged e) {
      return with(b -> b.agentStatus = put(agentStatus, e.by().id(), e.status()));
    } else if (event instanceof SignalSent e) {
      return with(b -> {
        LinkedHashMap<Long, Target> copy = new LinkedHashMap<>(openSignals);
        copy.put(e.offset(), e.to());
        while (copy.size() > MAX_OPEN_SIGNALS) copy.remove(copy.keySet().iterator().next());
        b.openSignals = Collections.unmodifiableMap(copy);
      });
    } else if (event instanceof SignalAnswered e) {
      return with(b -> b.openSignals = remove(openSignals, e.signal()));
    } else if (event instanceof TransferRequested e) {
      String agent = control instanceof Control.AgentInControl a ? a.agent() : null;
      return with(b -> {
        b.control = new Control.TransferPending(agent, e.invited(), e.note(), at);
        b.latestNote = e.note();
      });
    } else if (event instanceof TransferAccepted e) {
      String agent = control instanceof Control.TransferPending t ? t.agent() : null;
      return with(b -> b.control = new Control.HumanInControl(e.human(), agent));
    } else if (event instanceof TransferCancelled e) {
      String agent = control instanceof Control.TransferPending t ? t.agent() : null;
      return with(b -> b.control = new Control.AgentInControl(agent));
    } else if (event instanceof SessionQueued e) {
      String agent = control instanceof Control.AgentInControl a ? a.agent()
          : control instanceof Control.TransferPending t ? t.agent() : null;
      return with(b -> {
        b.control = new Control.Queued(e.queue(), e.note(), at, agent);
        b.latestNote = e.note();
      });
    } else if (event instanceof SessionClaimed e) {
      String agent = control instanceof Control.Queued q ? q.previousAgent() : null;
      return with(b -> b.control = new Control.HumanInControl(e.by().id(), agent));
    } else if (event instanceof ControlHandedBack e) {
      return with(b -> {
        b.control = new Control.AgentInControl(e.agent());
        if (e.note() != null) b.latestNote = e.note();
      });
    } else if (event instanceof SessionClosed e) {
      return with(b -> b.control = new Control.Closed(e.reason()));
    } else if (event instanceof MessagePosted m) {
      if (m.by().role() == Role.USER) return with(b -> b.turn = new Turn(turn.number() + 1, 1, true));
      if (m.by().role().speaksAsAssistant() && turn.open()) return with(b -> b.turn = new Turn(turn.number(), turn.attempt(), false));
      return this;
    } else if (event instanceof SessionEvent.HandoffNoted n) {
      return with(b -> b.latestNote = n.note());
    } else if (event instanceof SuggestionMade) {
      return this;
    } else if (event instanceof SessionEvent.StateCommitted c) {
      WorkingState.Applied applied = WorkingState.apply(document, c.patch());
      if (applied.document() == null) throw new IllegalStateException("journaled commit " + c.offset() + " does not apply: " + applied.refusal());
      return with(b -> {
        b.document = applied.document();
        b.checkpoints = checkpoints.afterCommit(c.offset(), c.turn(), c.attempt(), applied.document());
      });
    } else if (event instanceof SessionEvent.ToolCalled t) {
      return with(b -> b.toolCalls = bounded(put(toolCalls, t.toolCallId(), new ToolCall(t.name(), t.turn(), t.by().id(), null)), MAX_TOOL_CALLS));
    } else if (event instanceof SessionEvent.ToolResulted r) {
      ToolCall call = toolCalls.get(r.toolCallId());
      if (call == null) return this;
      return with(b -> {
        b.toolCalls = put(toolCalls, r.toolCallId(), new ToolCall(call.name(), call.turn(), call.caller(), r.outcome()));
        b.approvals = approvals.callEnded(r.toolCallId());
      });
    } else if (event instanceof SessionEvent.ToolApprovalRequested r) {
      return with(b -> b.approvals = approvals.requested(r));
    } else if (event instanceof SessionEvent.ToolApprovalAnswered a) {
      return with(b -> b.approvals = approvals.answered(a.approvalId()));
    } else if (event instanceof SessionEvent.TurnRetried r) {
      return with(b -> b.turn = new Turn(r.turn(), r.attempt(), true));
    } else if (event instanceof SessionEvent.ReceiptRecorded r) {
      return with(b -> b.receipts = put(receipts, receiptKey(r.participant().id(), r.device()),
          new Receipt(r.participant(), r.device(), r.delivered(), r.deliveredAt())));
    } else if (event instanceof SessionEvent.AudienceChanged a) {
      return with(b -> b.audience = a.present());
    } else if (event instanceof SessionEvent.AgentAssigned a) {
      return with(b -> b.assignment = assignment.assignedTo(a.agent(), a.epoch(), at));
    } else if (event instanceof SessionEvent.AgentReleased) {
      return with(b -> b.assignment = assignment.ended(at, "released"));
    } else if (event instanceof SessionEvent.AgentFailover) {
      return with(b -> b.assignment = assignment.ended(at, "expired"));
    } else if (event instanceof SessionEvent.AgentWebhookFailed) {
      return this; // a record for people and alerts; the session waits for its agent as before
    }
    throw new IllegalStateException("unhandled event " + event.getClass().getName());
  }

  private SessionState advance(SessionEvent event, int producerWindow) {
    SeqRange range = event.producer();
    Map<String, ProducerState> nextProducers = producers;
    if (range != null) {
      ProducerState known = producers.get(range.producerId());
      ProducerState updated =
          known == null ? ProducerState.first(range, event.offset()) : known.record(range, event.offset(), producerWindow);
      nextProducers = put(producers, range.producerId(), updated);
    }
    Map<String, ProducerState> p = nextProducers;
    return with(b -> {
      b.head = event.offset();
      b.producers = p;
    });
  }

  /** A mutable copy for one transition; the record itself stays immutable. */
  private static final class Builder {
    String sessionId;
    Instant createdAt;
    Participant createdBy;
    long head;
    Map<String, Participant> participants;
    Map<String, Presence> presence;
    Map<String, String> openStreams;
    Map<String, String> stalled;
    Map<String, AgentStatus> agentStatus;
    Map<Long, Target> openSignals;
    Control control;
    HandoffNote latestNote;
    Map<String, ProducerState> producers;
    JsonNode document;
    Turn turn;
    Map<String, ToolCall> toolCalls;
    Approvals approvals;
    Map<String, Receipt> receipts;
    boolean audience;
    SessionEvent.SessionErased tombstone;
    StateCheckpoints checkpoints;
    String pool;
    dev.durablesessions.session.dispatch.Assignment assignment;
  }

  private SessionState with(java.util.function.Consumer<Builder> change) {
    Builder b = new Builder();
    b.sessionId = sessionId;
    b.createdAt = createdAt;
    b.createdBy = createdBy;
    b.head = head;
    b.participants = participants;
    b.presence = presence;
    b.openStreams = openStreams;
    b.stalled = stalled;
    b.agentStatus = agentStatus;
    b.openSignals = openSignals;
    b.control = control;
    b.latestNote = latestNote;
    b.producers = producers;
    b.document = document;
    b.turn = turn;
    b.toolCalls = toolCalls;
    b.approvals = approvals;
    b.receipts = receipts;
    b.audience = audience;
    b.tombstone = tombstone;
    b.checkpoints = checkpoints;
    b.pool = pool;
    b.assignment = assignment;
    change.accept(b);
    return new SessionState(b.sessionId, b.createdAt, b.createdBy, b.head, b.participants, b.presence, b.openStreams,
        b.stalled, b.agentStatus, b.openSignals, b.control, b.latestNote, b.producers, b.document, b.turn, b.toolCalls,
        b.approvals, b.receipts, b.audience, b.tombstone, b.checkpoints, b.pool, b.assignment);
  }

  private static <K, V> Map<K, V> put(Map<K, V> map, K key, V value) {
    LinkedHashMap<K, V> copy = new LinkedHashMap<>(map);
    copy.put(key, value);
    return Collections.unmodifiableMap(copy);
  }

  public static String receiptKey(String participantId, String device) {
    return participantId + "|" + device;
  }

  private static <K, V> Map<K, V> bounded(Map<K, V> map, int max) {
    if (map.size() <= max) return map;
    LinkedHashMap<K, V> copy = new LinkedHashMap<>(map);
    while (copy.size() > max) copy.remove(copy.keySet().iterator().next());
    return Collections.unmodifiableMap(copy);
  }

  private static <K, V> Map<K, V> remove(Map<K, V> map, K key) {
    if (!map.containsKey(key)) return map;
    LinkedHashMap<K, V> copy = new LinkedHashMap<>(map);
    copy.remove(key);
    return Collections.unmodifiableMap(copy);
  }
}
