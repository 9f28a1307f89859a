package dev.durablesessions.durablestream;

import dev.durablesessions.durablestream.StreamCommand.AppendItem;
import dev.durablesessions.durablestream.StreamEvent.ProducerStamp;
import dev.durablesessions.durablestream.StreamReply.AppendReply;
import dev.durablesessions.durablestream.StreamReply.Meta;
import dev.durablesessions.producer.ProducerRule;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The protocol's decision for appends to a live stream, in its order: closed, content type,
 * producer ({@link ProducerRule}), {@code Stream-Seq}. A batch is decided append by append
 * against the stream as the appends before it leave it (a draft over the committed state,
 * which only the event handler changes), so a batch ends exactly as the same appends sent one
 * by one. Pure: the entity writes {@link #events()} and answers with {@link #replies}.
 */
final class AppendDecisions {

  /** One append's fate. */
  sealed interface Decision {}

  /** Refused now, whatever the write does. */
  record Refused(AppendReply reply) implements Decision {}

  /**
   * Accepted: its event (null for a repeated close, which changes nothing) and what the
   * stream looks like right after it (tail, closed), to answer with once written.
   */
  record Accepted(StreamEvent event, long tail, boolean closed, ProducerStamp producer) implements Decision {
    AppendReply reply(StreamState written) {
      Meta meta = written.metaAfter(tail, closed);
      if (producer == null) return new StreamReply.Appended(meta);
      if (event instanceof StreamEvent.Appended) return new StreamReply.ProducerAppended(meta, producer.epoch(), producer.seq());
      return new StreamReply.ProducerClosed(meta, producer.epoch(), producer.seq());
    }
  }

  private final List<Decision> decisions;
  private final List<StreamEvent> events;

  private AppendDecisions(List<Decision> decisions, List<StreamEvent> events) {
    this.decisions = decisions;
    this.events = events;
  }

  /** Decides {@code items} in order against the live stream {@code committed}; {@code at} is the time of the write. */
  static AppendDecisions decide(StreamState committed, List<AppendItem> items, long at) {
    Draft draft = new Draft(committed);
    List<Decision> decisions = new ArrayList<>(items.size());
    List<StreamEvent> events = new ArrayList<>(items.size());
    for (AppendItem item : items) {
      Decision d = draft.decide(item, at);
      decisions.add(d);
      if (d instanceof Accepted a && a.event() != null) events.add(a.event());
    }
    return new AppendDecisions(decisions, events);
  }

  List<Decision> decisions() {
    return decisions;
  }

  /** What to write, in order; empty when every append was refused or changes nothing. */
  List<StreamEvent> events() {
    return events;
  }

  /** The answers once {@link #events()} are written and applied, giving {@code written}. */
  List<AppendReply> replies(StreamState written) {
    List<AppendReply> replies = new ArrayList<>(decisions.size());
    for (Decision d : decisions) {
      if (d instanceof Refused r) replies.add(r.reply());
      else replies.add(((Accepted) d).reply(written));
    }
    return replies;
  }

  /** The answers when the write failed: refusals stand, the appends that were to be written are {@code unavailable}. */
  List<AppendReply> repliesUnwritten(StreamReply.Unavailable unavailable) {
    List<AppendReply> replies = new ArrayList<>(decisions.size());
    for (Decision d : decisions) replies.add(d instanceof Refused r ? r.reply() : unavailable);
    return replies;
  }

  /** The stream as a batch's earlier appends leave it: closed flag, producers, Stream-Seq and tail. */
  private static final class Draft {
    final StreamState committed;
    boolean closed;
    ProducerStamp closedBy;
    String lastStreamSeq;
    long tail;
    final Map<String, ProducerRule.Position> producers = new HashMap<>(4);

    Draft(StreamState s) {
      committed = s;
      closed = s.closed;
      closedBy = s.closedBy;
      lastStreamSeq = s.lastStreamSeq;
      tail = s.tail();
    }

    ProducerRule.Verdict check(ProducerStamp p) {
      ProducerRule.Position known = producers.containsKey(p.id()) ? producers.get(p.id()) : committed.producer(p.id());
      return ProducerRule.check(known, p.epoch(), p.seq());
    }

    Meta meta() {
      return committed.metaAfter(tail, closed);
    }

    Decision decide(AppendItem c, long at) {
      ProducerStamp p = c.producer();
      if (closed) {
        if (p != null && p.equals(closedBy)) return refused(new StreamReply.Duplicate(meta(), p.epoch(), p.seq()));
        if (p != null && check(p) instanceof ProducerRule.Fenced f) return refused(new StreamReply.StaleEpoch(f.currentEpoch()));
        if (c.body() == null && p == null) return new Accepted(null, tail, true, null);
        return refused(new StreamReply.Closed(meta()));
      }
      if (c.body() != null && !StreamRules.normalise(committed.contentType).equals(c.contentType())) {
        return refused(new StreamReply.Conflict("content type differs from the stream's"));
      }
      if (p != null) {
        ProducerRule.Verdict verdict = check(p);
        if (verdict instanceof ProducerRule.Repeat r) return refused(new StreamReply.Duplicate(meta(), r.epoch(), r.lastSeq()));
        if (verdict instanceof ProducerRule.Fenced f) return refused(new StreamReply.StaleEpoch(f.currentEpoch()));
        if (verdict instanceof ProducerRule.NewEpochNotAtZero) {
          return refused(new StreamReply.BadRequest("a new producer epoch must start at seq 0"));
        }
        if (verdict instanceof ProducerRule.Gap g) return refused(new StreamReply.SeqGap(g.expected(), g.received()));
      }
      if (c.streamSeq() != null && lastStreamSeq != null && c.streamSeq().compareTo(lastStreamSeq) <= 0) {
        return refused(new StreamReply.Conflict("Stream-Seq must be greater than the last one (" + lastStreamSeq + ")"));
      }
      StreamEvent event = c.body() == null ? new StreamEvent.Closed(p, at)
          : new StreamEvent.Appended(c.body().data(), c.body().values(), p, c.streamSeq(), c.close(), at);
      if (p != null) producers.put(p.id(), new ProducerRule.Position(p.epoch(), p.seq()));
      if (c.streamSeq() != null && c.body() != null) lastStreamSeq = c.streamSeq();
      if (c.body() != null) tail++;
      if (c.body() == null || c.close()) {
        closed = true;
        closedBy = p;
      }
      return new Accepted(event, tail, closed, p);
    }

    private static Refused refused(AppendReply reply) {
      return new Refused(reply);
    }
  }
}
