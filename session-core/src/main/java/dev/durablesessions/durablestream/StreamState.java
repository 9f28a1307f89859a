package dev.durablesessions.durablestream;

import com.fasterxml.jackson.annotation.JsonAutoDetect;
import dev.durablesessions.CborSerializable;
import dev.durablesessions.producer.ProducerRule;
import dev.durablesessions.durablestream.StreamEvent.ProducerStamp;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The state of one stream path, built from its events. Mutable on purpose: a stream holds its
 * messages in memory and appending must not copy them. Only the entity touches it; replies carry
 * copies of the message list (the messages themselves are immutable).
 */
@JsonAutoDetect(fieldVisibility = JsonAutoDetect.Visibility.ANY, getterVisibility = JsonAutoDetect.Visibility.NONE,
    isGetterVisibility = JsonAutoDetect.Visibility.NONE)
public final class StreamState implements CborSerializable {
  public enum Life { ABSENT, LIVE, SOFT_DELETED }

  Life life = Life.ABSENT;
  /** Changes with every create at this path, so ETags of a re-created stream differ. */
  String incarnation = "";
  String contentType;
  boolean json;
  Long ttlSeconds;
  Long expiresAt;
  StreamConfig config;
  boolean closed;
  ProducerStamp closedBy;
  String lastStreamSeq;
  /** Producer-Id to {epoch, last accepted seq}. */
  Map<String, long[]> producers = new HashMap<>();
  String forkSource;
  /** Offset where this stream's own messages start (0 unless it is a fork). */
  long forkOffset;
  List<String> forks = new ArrayList<>();
  List<StreamMessage> messages = new ArrayList<>();
  long lastAccess;

  public Life life() {
    return life;
  }

  public long tail() {
    return forkOffset + messages.size();
  }

  public boolean live() {
    return life == Life.LIVE;
  }

  StreamState apply(StreamEvent event) {
    if (event instanceof StreamEvent.Appended a) {
      messages.add(new StreamMessage(a.data(), a.values()));
      if (a.producer() != null) producers.put(a.producer().id(), new long[] {a.producer().epoch(), a.producer().seq()});
      if (a.streamSeq() != null) lastStreamSeq = a.streamSeq();
      if (a.close()) {
        closed = true;
        closedBy = a.producer();
      }
      lastAccess = Math.max(lastAccess, a.at());
    } else if (event instanceof StreamEvent.Closed c) {
      if (c.producer() != null) producers.put(c.producer().id(), new long[] {c.producer().epoch(), c.producer().seq()});
      closed = true;
      closedBy = c.producer();
      lastAccess = Math.max(lastAccess, c.at());
    } else if (event instanceof StreamEvent.Touched t) {
      lastAccess = Math.max(lastAccess, t.at());
    } else if (event instanceof StreamEvent.Created c) {
      StreamState s = new StreamState();
      s.life = Life.LIVE;
      s.incarnation = c.incarnation();
      s.contentType = c.contentType();
      s.json = StreamRules.isJson(c.contentType());
      s.ttlSeconds = c.ttlSeconds();
      s.expiresAt = c.expiresAt();
      s.config = c.config();
      s.closed = c.closed();
      s.forkSource = c.forkSource();
      s.forkOffset = c.forkOffset();
      s.lastAccess = c.at();
      return s;
    } else if (event instanceof StreamEvent.ForkAcquired f) {
      forks.add(f.fork());
    } else if (event instanceof StreamEvent.ForkReleased f) {
      forks.remove(f.fork());
    } else if (event instanceof StreamEvent.Deleted d) {
      if (d.soft()) {
        life = Life.SOFT_DELETED;
      } else {
        StreamState s = new StreamState();
        s.incarnation = incarnation;
        return s;
      }
    }
    return this;
  }

  /** Whether the stream has expired at {@code now} (epoch ms). */
  boolean expired(long now) {
    if (life != Life.LIVE) return false;
    if (expiresAt != null && now >= expiresAt) return true;
    return ttlSeconds != null && now >= lastAccess + ttlSeconds * 1000;
  }

  /** Where producer {@code id} stands, or null for a producer this stream never saw. */
  ProducerRule.Position producer(String id) {
    long[] known = producers.get(id);
    return known == null ? null : new ProducerRule.Position(known[0], known[1]);
  }
}
