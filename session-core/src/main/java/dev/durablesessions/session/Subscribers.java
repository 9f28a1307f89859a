package dev.durablesessions.session;

import dev.durablesessions.session.Outcome.Refused;
import dev.durablesessions.session.SessionCommand.Attach;
import dev.durablesessions.session.SessionCommand.SubscriberTerminated;
import dev.durablesessions.session.metrics.SessionMetrics;
import dev.durablesessions.session.presence.Attachment;
import dev.durablesessions.session.presence.PresenceRules;
import dev.durablesessions.session.resume.RecentEvents;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;

/**
 * Who this incarnation of a session delivers to, and the delivery itself: attaching a
 * subscriber (from the in-memory tail when it covers the gap, else by telling it to read the
 * journal first), fan-out of every confirmed write, watching for subscribers that die, and
 * cutting everybody off at erasure. Runtime only: subscribers renew themselves with
 * keep-alives, so an incarnation that lost them re-learns them. Owned by one session actor.
 */
final class Subscribers {
  private final String sessionId;
  private final ActorContext<SessionCommand> ctx;
  private final RecentEvents recent;
  private final Map<ActorRef<Feed>, Attachment> attachments = new HashMap<>();
  private boolean streamingToNobody;

  Subscribers(String sessionId, ActorContext<SessionCommand> ctx, RecentEvents recent) {
    this.sessionId = sessionId;
    this.ctx = ctx;
    this.recent = recent;
  }

  Collection<Attachment> attachments() {
    return attachments.values();
  }

  Attachment get(ActorRef<Feed> subscriber) {
    return attachments.get(subscriber);
  }

  void update(ActorRef<Feed> subscriber, Attachment attachment) {
    attachments.put(subscriber, attachment);
  }

  int size() {
    return attachments.size();
  }

  boolean audiencePresent() {
    return PresenceRules.audiencePresent(attachments.values());
  }

  /**
   * Attaches {@code subscriber} after {@code afterOffset}, or refuses it (and tells it why).
   * Events after its offset come from the tail when the tail covers them and there are at most
   * {@code maxReplay}; otherwise it reads {@code (afterOffset, head]} from the journal and is
   * pushed only what comes after the head.
   */
  Refused attach(SessionState state, ActorRef<Feed> subscriber, Attach attach, long afterOffset, int maxReplay, Instant now) {
    Refused refused = null;
    if (afterOffset < 0) refused = new Refused(ErrorCode.INVALID_OFFSET, "offset must be >= 0");
    else if (afterOffset > state.head()) {
      refused = new Refused(ErrorCode.OFFSET_BEYOND_HEAD, "offset " + afterOffset + " is beyond the head " + state.head());
    }
    if (refused != null) {
      subscriber.tell(refused);
      return refused;
    }
    if (attachments.put(subscriber, Attachment.start(attach, now, afterOffset)) == null) {
      ctx.watchWith(subscriber, new SubscriberTerminated(subscriber));
    }
    long head = state.head();
    if (head - afterOffset <= maxReplay && recent.covers(afterOffset, head)) {
      subscriber.tell(new Feed.Attached(sessionId, ctx.getSelf(), head, afterOffset + 1));
      List<SessionEvent> backlog = afterOffset < head ? recent.after(afterOffset) : List.of();
      if (!backlog.isEmpty()) subscriber.tell(new Feed.Events(backlog));
    } else {
      subscriber.tell(new Feed.Attached(sessionId, ctx.getSelf(), head, head + 1));
    }
    return null;
  }

  /** Forgets a subscriber (it unsubscribed or died); null if it was not attached. */
  Attachment remove(ActorRef<Feed> subscriber) {
    Attachment gone = attachments.remove(subscriber);
    if (gone != null) ctx.unwatch(subscriber);
    return gone;
  }

  /** Fan-out of one confirmed write: every subscriber gets the same batch, in offset order. */
  void publish(SessionState state, List<SessionEvent> events) {
    boolean nobody = !state.openStreams().isEmpty() && !audiencePresent();
    if (nobody != streamingToNobody) {
      streamingToNobody = nobody;
      if (nobody) SessionMetrics.STREAMING_TO_NOBODY.inc();
      else SessionMetrics.STREAMING_TO_NOBODY.dec();
    }
    if (attachments.isEmpty()) return;
    Feed.Events message = new Feed.Events(events);
    for (ActorRef<Feed> subscriber : attachments.keySet()) subscriber.tell(message);
  }

  /** Erasure: every subscriber is told why (its socket closes with that code) and forgotten. */
  void cutOff(Refused why) {
    for (ActorRef<Feed> subscriber : attachments.keySet()) {
      ctx.unwatch(subscriber);
      subscriber.tell(why);
    }
    attachments.clear();
    stopped();
  }

  /** The actor stops: the gauge it counted in forgets it. */
  void stopped() {
    if (streamingToNobody) {
      streamingToNobody = false;
      SessionMetrics.STREAMING_TO_NOBODY.dec();
    }
  }

  /** The devices of one participant attached now, as the summary shows them. */
  List<SummaryReply.DeviceView> devicesOf(String participantId) {
    List<SummaryReply.DeviceView> devices = new ArrayList<>();
    for (Attachment a : attachments.values()) {
      if (a.attach().presence() && a.attach().participant().id().equals(participantId)) {
        devices.add(new SummaryReply.DeviceView(a.attach().device(), a.since(), a.lastActivity(), a.delivered(),
            a.acked() < 0 ? null : a.acked()));
      }
    }
    return devices;
  }
}
