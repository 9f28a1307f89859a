package dev.durablesessions.durablestream;

import com.fasterxml.jackson.annotation.JsonAutoDetect;
import dev.durablesessions.CborSerializable;
import dev.durablesessions.durablestream.StreamEvent.ProducerStamp;
import dev.durablesessions.durablestream.StreamReply.Meta;
import dev.durablesessions.producer.ProducerRule;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The state of one stream path, built from its events; only {@link #apply} changes it.
 * Mutable on purpose: a stream holds its messages in memory and appending must not copy them.
 * Only the entity touches it; replies carry copies of the message list (the messages themselves
 * are immutable). Its fields are also a deleted stream's snapshot: renaming one makes old
 * snapshots unreadable.
 */
@JsonAutoDetect(fieldVisibility = JsonAutoDetect.Visibility.ANY, getterVisibility = JsonAutoDetect.Visibility.NONE,
    isGetterVisibility = JsonAutoDetect.Visibility.NONE)
public final class StreamState implements CborSerializable {
  /** The phases of a path: no stream; a stream; deleted but kept for the forks that still read it. */
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
  /** The last access written to the journal (the entity may know a later one, see {@link StreamEvent.Touched}). */
  long lastAccess;

  public Life life() {
    return life;
  }

  public boolean absent() {
    return life == Life.ABSENT;
  }

  public boolean live() {
    return life == Life.LIVE;
  }

  public boolean softDeleted() {
    return life == Life.SOFT_DELETED;
  }

  public long tail() {
    return forkOffset + messages.size();
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
      if (!d.soft()) {
        StreamState s = new StreamState();
        s.incarnation = incarnation;
        return s;
      }
      life = Life.SOFT_DELETED;
    } else {
      throw new IllegalStateException("unhandled event " + event.getClass().getName());
    }
    return this;
  }

  /**
   * When a live stream expires (epoch ms) if it was last accessed at {@code lastAccess}: the
   * earlier of Stream-Expires-At and the sliding TTL's end; null when it never does.
   */
  Long deadline(long lastAccess) {
    if (life != Life.LIVE || ttlSeconds == null && expiresAt == null) return null;
    long deadline = expiresAt != null ? expiresAt : Long.MAX_VALUE;
    return ttlSeconds != null ? Math.min(deadline, lastAccess + ttlSeconds * 1000) : deadline;
  }

  /** Where producer {@code id} stands, or null for a producer this stream never saw. */
  ProducerRule.Position producer(String id) {
    long[] known = producers.get(id);
    return known == null ? null : new ProducerRule.Position(known[0], known[1]);
  }

  /** The stream's metadata; null when there is no stream. */
  Meta meta() {
    return absent() ? null : metaAfter(tail(), closed);
  }

  /** The metadata as an append not yet applied will leave it: its tail and closed flag then. */
  Meta metaAfter(long tail, boolean closed) {
    return new Meta(incarnation, contentType, tail, closed, ttlSeconds, expiresAt, config, forkOffset);
  }

  /**
   * A read from memory: messages after {@code from} up to {@code upTo}, at most {@code maxBytes}
   * (always one message), or where a fork's own messages do not reach back far enough, which
   * source to read first. Absent and soft-deleted streams answer their refusal (a soft-deleted
   * one is read only for its forks, {@code allowSoftDeleted}).
   */
  StreamReply.ReadReply read(long from, long upTo, int maxBytes, boolean allowSoftDeleted) {
    if (absent()) return StreamReply.NotFound.STREAM;
    if (softDeleted() && !allowSoftDeleted) return StreamReply.Gone.STREAM;
    long tail = tail();
    long start = from == StreamOffsets.NOW ? tail : from == StreamOffsets.FROM_START ? 0 : from;
    if (start > tail) return new StreamReply.BadRequest("offset is beyond the stream's tail");
    long limit = Math.min(upTo, tail);
    if (start < forkOffset) return new StreamReply.Inherit(meta(), forkSource, Math.min(forkOffset, limit));
    List<StreamMessage> out = new ArrayList<>();
    int bytes = 0;
    for (long o = start; o < limit; o++) {
      StreamMessage m = messages.get((int) (o - forkOffset));
      if (!out.isEmpty() && bytes + m.size() > maxBytes) break;
      out.add(m);
      bytes += m.size();
    }
    return new StreamReply.Page(meta(), out, start, start + out.size(), start + out.size() == tail);
  }
}
