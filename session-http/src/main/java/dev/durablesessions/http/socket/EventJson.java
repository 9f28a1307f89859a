package dev.durablesessions.http.socket;

import dev.durablesessions.http.Json;
import dev.durablesessions.session.SessionEvent;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The JSON text of live events, written once per node and shared by every socket that sends
 * them. A session publishes each persisted event as one object to all its subscribers on a
 * node, so the sockets of ten devices ask for the text of the same instance: the first writes
 * it, the others find it here. Keyed by identity (an event is immutable once published), and
 * bounded: the recent events of the node stay, older ones are forgotten in insertion order
 * (a forgotten one is only written again, never wrong). Catch-up pages read from the journal
 * are fresh instances seen by one socket, so they bypass the cache.
 */
final class EventJson {
  private EventJson() {}

  /** Recent live events kept; at 50,000 frames/s this is the last few hundred milliseconds. */
  static final int CAPACITY = 16_384;

  private record Key(SessionEvent event, int hash) {
    Key(SessionEvent event) {
      this(event, System.identityHashCode(event));
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Key k && k.event == event;
    }

    @Override
    public int hashCode() {
      return hash;
    }
  }

  private static final ConcurrentHashMap<Key, String> TEXT = new ConcurrentHashMap<>();
  /** Insertion order, for eviction: a ring of the keys put last. */
  private static final Key[] RING = new Key[CAPACITY];
  private static final AtomicLong PUT = new AtomicLong();

  /** The event's JSON, shared with every other socket of this node that sends the same instance. */
  static String shared(SessionEvent event) {
    Key key = new Key(event);
    String text = TEXT.get(key);
    if (text != null) return text;
    text = Json.writeEvent(event);
    if (TEXT.putIfAbsent(key, text) == null) {
      int slot = (int) (PUT.getAndIncrement() % CAPACITY);
      Key old;
      synchronized (RING) {
        old = RING[slot];
        RING[slot] = key;
      }
      if (old != null) TEXT.remove(old);
    }
    return text;
  }

  /** The event's JSON, not kept (an event only this socket sends: a journal page). */
  static String once(SessionEvent event) {
    return Json.writeEvent(event);
  }

  /** Entries held now (for tests). */
  static int size() {
    return TEXT.size();
  }
}
