package dev.durablesessions.session;

import dev.durablesessions.CborSerializable;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * What a session sends to a subscriber. After {@link Attached} the session pushes every event
 * with offset >= {@code replayFrom} exactly once and in order, first from its in-memory tail,
 * then live. Everything between the subscriber's offset and {@code replayFrom} is for the
 * subscriber to read from the journal (see {@code ResumeCursor}).
 */
public sealed interface Feed extends CborSerializable permits Feed.Attached, Feed.Events, Feed.Detached, Outcome.Refused {

  record Attached(String sessionId, ActorRef<SessionCommand> session, long head, long replayFrom) implements Feed {}

  /** Events persisted together, in offset order. The list is shared between subscribers: never mutate it. */
  record Events(List<SessionEvent> events) implements Feed {}

  /** The answer to an Unsubscribe: the session no longer counts this subscriber, so its stop is not a crash. */
  record Detached() implements Feed {}
}
