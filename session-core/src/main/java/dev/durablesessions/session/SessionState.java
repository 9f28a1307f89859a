package dev.durablesessions.session;

import dev.durablesessions.CborSerializable;
import dev.durablesessions.session.SessionEvent.MessagePosted;
import dev.durablesessions.session.SessionEvent.ParticipantJoined;
import dev.durablesessions.session.SessionEvent.ParticipantLeft;
import dev.durablesessions.session.SessionEvent.SessionCreated;
import dev.durablesessions.session.SessionEvent.SignalSent;
import dev.durablesessions.session.SessionEvent.StreamDelta;
import dev.durablesessions.session.SessionEvent.StreamEnded;
import dev.durablesessions.session.SessionEvent.StreamStarted;
import dev.durablesessions.session.producer.ProducerState;
import dev.durablesessions.session.producer.SeqRange;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The session's durable state, rebuilt from its events (and snapshots). {@code head} is the
 * offset of the last event: it equals the journal's highest sequence number because every
 * event gets head + 1. Each method returns a new state; maps are replaced, never mutated.
 */
public record SessionState(
    String sessionId,
    Instant createdAt,
    Participant createdBy,
    long head,
    Map<String, Participant> participants,
    Map<String, String> openStreams,
    Map<String, ProducerState> producers)
    implements CborSerializable {

  public static SessionState empty() {
    return new SessionState(null, null, null, 0, Map.of(), Map.of(), Map.of());
  }

  public boolean created() {
    return sessionId != null;
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

  public SessionState apply(SessionEvent event, int producerWindow) {
    if (event.offset() != head + 1) {
      throw new IllegalStateException("event offset " + event.offset() + " does not follow head " + head);
    }
    // Java 17 has no pattern switch: an instanceof chain that ends in a throw, so a new event
    // type fails the first test that replays it instead of being silently ignored.
    SessionState next;
    if (event instanceof SessionCreated e) {
      next = new SessionState(e.sessionId(), e.at(), e.by(), head, participants, openStreams, producers);
    } else if (event instanceof ParticipantJoined e) {
      next = withParticipants(put(participants, e.participant().id(), e.participant()));
    } else if (event instanceof ParticipantLeft e) {
      next = withParticipants(remove(participants, e.participant().id()));
    } else if (event instanceof StreamStarted e) {
      next = withOpenStreams(put(openStreams, e.messageId(), e.by().id()));
    } else if (event instanceof StreamEnded e) {
      next = withOpenStreams(remove(openStreams, e.messageId()));
    } else if (event instanceof MessagePosted || event instanceof StreamDelta || event instanceof SignalSent) {
      next = this;
    } else {
      throw new IllegalStateException("unhandled event " + event.getClass().getName());
    }
    return next.advance(event, producerWindow);
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
    return new SessionState(sessionId, createdAt, createdBy, event.offset(), participants, openStreams, nextProducers);
  }

  private SessionState withParticipants(Map<String, Participant> p) {
    return new SessionState(sessionId, createdAt, createdBy, head, p, openStreams, producers);
  }

  private SessionState withOpenStreams(Map<String, String> s) {
    return new SessionState(sessionId, createdAt, createdBy, head, participants, s, producers);
  }

  private static <V> Map<String, V> put(Map<String, V> map, String key, V value) {
    LinkedHashMap<String, V> copy = new LinkedHashMap<>(map);
    copy.put(key, value);
    return Collections.unmodifiableMap(copy);
  }

  private static <V> Map<String, V> remove(Map<String, V> map, String key) {
    if (!map.containsKey(key)) return map;
    LinkedHashMap<String, V> copy = new LinkedHashMap<>(map);
    copy.remove(key);
    return Collections.unmodifiableMap(copy);
  }
}
