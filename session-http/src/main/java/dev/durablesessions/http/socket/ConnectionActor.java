package dev.durablesessions.http.socket;

import dev.durablesessions.http.auth.Identity;
import dev.durablesessions.http.auth.Tokens;
import dev.durablesessions.http.limits.RateLimits;
import dev.durablesessions.http.limits.SubjectRate;
import dev.durablesessions.session.ErrorCode;
import dev.durablesessions.session.Outcome;
import dev.durablesessions.session.Participant;
import dev.durablesessions.session.SessionCommand;
import dev.durablesessions.session.SessionEntity;
import dev.durablesessions.session.SessionEvent;
import dev.durablesessions.session.metrics.SessionMetrics;
import dev.durablesessions.session.resume.FollowerSettings;
import dev.durablesessions.session.resume.SessionFollower;
import dev.durablesessions.session.resume.SessionJournal;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.http.javadsl.model.ws.Message;
import org.apache.pekko.http.javadsl.model.ws.TextMessage;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.QueueOfferResult;
import org.apache.pekko.stream.UniqueKillSwitch;

/**
 * One device's socket. Frames from the client become session commands, answered with
 * {@code ack} or {@code error}; the session's events come from a {@link SessionFollower} child
 * and go out through a bounded queue, filtered to what this participant may see. When that
 * queue is full, the events that do not fit are dropped and the follower rewinds to the last
 * one queued: once the client has read the queue down, it catches up from the journal on the
 * same socket. Only a client whose queue makes no progress for the stall timeout is told
 * {@code consumer_too_slow} and cut off; one that sends nothing for the heartbeat timeout is
 * closed as dead. Either way it never grows server memory and never slows the session or its
 * other subscribers, and it resumes by reconnecting with its last offset. When the socket ends, the follower tells the session
 * why (socket_closed, heartbeat_timeout, left, ...), which is what presence records.
 */
public final class ConnectionActor {

  public static final int CLOSE_CONSUMER_TOO_SLOW = 4008;
  public static final int CLOSE_SUBSCRIPTION_REFUSED = 4004;
  public static final int CLOSE_SERVER_SHUTDOWN = 4009;
  public static final int CLOSE_HEARTBEAT_TIMEOUT = 4010;
  public static final int CLOSE_TOKEN_EXPIRED = 4011;
  /** The session was erased (mirrors HTTP 410 Gone): nothing to resume. */
  public static final int CLOSE_SESSION_ERASED = 4410;

  public sealed interface Command {}

  /** From the inbound stream (ActorSink protocol). */
  record StreamInit(ActorRef<Ack> ackTo) implements Command {}

  record Incoming(ActorRef<Ack> ackTo, Inbound message) implements Command {}

  enum StreamCompleted implements Command { INSTANCE }

  record StreamFailed(Throwable cause) implements Command {}

  public enum Ack { INSTANCE }

  /** This node is shutting down: the client should reconnect (to any node) with its last offset. */
  public enum ServerClosing implements Command { INSTANCE }

  private record FromFollower(SessionFollower.Delivery delivery) implements Command {}

  private enum FollowerStopped implements Command { INSTANCE }

  private enum Asked { JOIN, APPEND, LEAVE }

  private record Answered(Asked asked, String ref, Outcome outcome, Throwable failure) implements Command {}

  private enum CheckRoom implements Command { INSTANCE }

  private enum CheckHeartbeat implements Command { INSTANCE }

  private enum AbortConnection implements Command { INSTANCE }

  /** The socket's token reached its {@code exp} without a fresh one arriving in an auth frame. */
  private enum TokenExpired implements Command { INSTANCE }

  /** The answer to an auth frame's token. */
  private record Reauthenticated(String ref, String token, Optional<Identity> identity, Throwable failure) implements Command {}

  /** The outbound side of the socket: events and answers, a priority lane for the last word, a kill switch. */
  public record Outbound(BoundedSourceQueue<Message> frames, BoundedSourceQueue<Message> control, UniqueKillSwitch killSwitch) {}

  public static Behavior<Command> create(
      String sessionId,
      Identity identity,
      Tokens tokens,
      String device,
      long afterOffset,
      Outbound outbound,
      SocketSettings settings,
      FollowerSettings followerSettings,
      ClusterSharding sharding,
      SessionJournal journal) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new ConnectionActor(
        ctx, timers, sessionId, identity, tokens, device, afterOffset, outbound, settings, followerSettings, sharding, journal).behavior()));
  }

  private final ActorContext<Command> ctx;
  private final TimerScheduler<Command> timers;
  private final Participant participant;
  private final String sessionId;
  private final Tokens tokens;
  /** The identity of the latest token: the one the socket opened with, or a fresher one from an auth frame. */
  private Identity identity;
  private final String device;
  private final Outbound outbound;
  private final SocketSettings settings;
  private final EntityRef<SessionCommand> session;
  private final ActorRef<SessionFollower.Command> follower;
  /** Inbound acks held back while too many appends are in flight: the socket stops reading. */
  private final Deque<ActorRef<Ack>> heldAcks = new ArrayDeque<>();
  private int inFlight;
  private boolean closing;
  private boolean followerStopping;
  private boolean socketDone;
  private boolean followerDone;
  private boolean followerWantsRoom;
  /** The highest offset queued for the client or filtered out as not visible: the follower hands events over contiguously. */
  private long passed;
  /** Events were dropped for a full queue; the follower was told to rewind and waits for room. */
  private boolean overflowed;
  /** Answers (ack, error, attached) that found the queue full; they go out first when there is room. */
  private final Deque<Message> heldReplies = new ArrayDeque<>();
  /** While waiting for room: the queue's size at the last check, and when it last went down. */
  private int lastQueued;
  private Instant lastProgress = Instant.now();
  private boolean waitingForRoom;
  private boolean roomCheckScheduled;
  private Instant lastInbound = Instant.now();
  private Instant lastReported = Instant.EPOCH;

  private ConnectionActor(
      ActorContext<Command> ctx,
      TimerScheduler<Command> timers,
      String sessionId,
      Identity identity,
      Tokens tokens,
      String device,
      long afterOffset,
      Outbound outbound,
      SocketSettings settings,
      FollowerSettings followerSettings,
      ClusterSharding sharding,
      SessionJournal journal) {
    this.ctx = ctx;
    this.sessionId = sessionId;
    this.tokens = tokens;
    this.identity = identity;
    this.timers = timers;
    this.participant = identity.participant();
    this.device = device;
    this.outbound = outbound;
    this.settings = settings;
    this.passed = afterOffset;
    this.session = sharding.entityRefFor(SessionEntity.TYPE_KEY, sessionId);
    ActorRef<SessionFollower.Delivery> deliveries = ctx.messageAdapter(SessionFollower.Delivery.class, FromFollower::new);
    this.follower = ctx.spawn(SessionFollower.create(sharding, journal, followerSettings, sessionId,
        new SessionCommand.Attach(participant, device, true), afterOffset, deliveries), "follower");
    ctx.watchWith(follower, FollowerStopped.INSTANCE);
    ctx.ask(Outcome.class, session, settings.askTimeout(),
        replyTo -> new SessionCommand.Join(participant, replyTo),
        (outcome, failure) -> new Answered(Asked.JOIN, null, outcome, failure));
    SessionMetrics.CONNECTIONS.labelValues(participant.role().wire()).inc();
    expireWithToken();
    if (!settings.heartbeatTimeout().isZero()) {
      timers.startTimerWithFixedDelay(CheckHeartbeat.INSTANCE, settings.heartbeatTimeout().dividedBy(4));
    }
  }

  private Behavior<Command> behavior() {
    return Behaviors.receive(Command.class)
        .onMessage(StreamInit.class, m -> {
          m.ackTo().tell(Ack.INSTANCE);
          return Behaviors.same();
        })
        .onMessage(Incoming.class, this::onIncoming)
        .onMessage(Answered.class, this::onAnswered)
        .onMessage(FromFollower.class, m -> onDelivery(m.delivery()))
        .onMessage(CheckRoom.class, m -> {
          roomCheckScheduled = false;
          checkRoom();
          return Behaviors.same();
        })
        .onMessage(CheckHeartbeat.class, m -> {
          if (!closing && Duration.between(lastInbound, Instant.now()).compareTo(settings.heartbeatTimeout()) > 0) {
            close(CLOSE_HEARTBEAT_TIMEOUT, "heartbeat_timeout",
                "nothing received for " + settings.heartbeatTimeout().toMillis() + " ms; send heartbeat frames", false);
          }
          return Behaviors.same();
        })
        .onMessage(ServerClosing.class, m -> {
          close(CLOSE_SERVER_SHUTDOWN, "server_shutdown", "this node is shutting down; reconnect with the last offset you processed", false);
          return Behaviors.same();
        })
        .onMessage(TokenExpired.class, m -> {
          close(CLOSE_TOKEN_EXPIRED, "token_expired",
              "the token expired; reconnect with a fresh token and the last offset you processed, or send an auth frame before it expires", false);
          return Behaviors.same();
        })
        .onMessage(Reauthenticated.class, this::onReauthenticated)
        .onMessage(AbortConnection.class, m -> {
          // The client did not even take the closing frame: drop the connection.
          outbound.killSwitch().abort(new IllegalStateException("connection closed by the server"));
          socketDone = true;
          return stopWhenDone();
        })
        .onMessage(FollowerStopped.class, m -> {
          followerDone = true;
          followerStopping = true;
          if (!closing) {
            // The follower gave up (subscription refused): it already sent the reason.
            closing = true;
            completeIfOpen(outbound.frames());
          }
          return stopWhenDone();
        })
        .onMessage(StreamCompleted.class, m -> socketEnded())
        .onMessage(StreamFailed.class, m -> socketEnded())
        .onSignal(org.apache.pekko.actor.typed.PostStop.class, m -> {
          SessionMetrics.CONNECTIONS.labelValues(participant.role().wire()).dec();
          return Behaviors.same();
        })
        .build();
  }

  private Behavior<Command> socketEnded() {
    socketDone = true;
    closing = true;
    stopFollower("socket_closed");
    return stopWhenDone();
  }

  /** The follower unsubscribes, telling the session why; only the first reason counts. */
  private void stopFollower(String reason) {
    if (followerStopping) return;
    followerStopping = true;
    follower.tell(new SessionFollower.Stop(reason));
  }

  private Behavior<Command> stopWhenDone() {
    return socketDone && followerDone ? Behaviors.stopped() : Behaviors.same();
  }

  /**
   * Ends the connection from the server side: the follower tells the session why, a closing
   * frame goes out (on the priority lane if the queue is full of frames the client is not
   * reading), and the socket is dropped if the client does not take it in time.
   */
  private void close(int code, String reason, String message, boolean priority) {
    if (closing) return;
    closing = true;
    stopFollower(reason);
    Message last = TextMessage.create(Frames.closing(code, reason, true, message));
    if (priority) {
      outbound.control().offer(last);
      completeIfOpen(outbound.control());
    } else {
      if (outbound.frames().offer(last) != QueueOfferResult.enqueued()) outbound.control().offer(last);
      completeIfOpen(outbound.frames());
    }
    timers.startSingleTimer(AbortConnection.INSTANCE, settings.slowConsumerAbortAfter());
  }

  // ---------------------------------------------------------------- client to session

  private Behavior<Command> onIncoming(Incoming m) {
    lastInbound = Instant.now();
    if (Duration.between(lastReported, lastInbound).toMillis() >= 1000) {
      lastReported = lastInbound;
      follower.tell(new SessionFollower.Activity(lastInbound));
    }
    if (closing) {
      m.ackTo().tell(Ack.INSTANCE);
      return Behaviors.same();
    }
    Inbound in = m.message();
    if (in instanceof Inbound.TooLarge t) {
      send(Frames.error(null, ErrorCode.FRAME_TOO_LARGE,
          "frame of " + t.bytes() + "+ bytes exceeds the limit of " + settings.maxFrameBytes()));
    } else if (in instanceof Inbound.Binary) {
      send(Frames.error(null, ErrorCode.BINARY_NOT_SUPPORTED, "frames are JSON text"));
    } else if (in instanceof Inbound.Text text) {
      Frames.Parsed parsed = Frames.parse(text.text());
      if (parsed instanceof Frames.Bad bad) {
        send(Frames.error(bad.ref(), bad.code(), bad.message()));
      } else if (parsed instanceof Frames.Ok ok) {
        dispatch(ok.frame());
      }
    }
    if (inFlight < settings.maxInFlight()) m.ackTo().tell(Ack.INSTANCE);
    else heldAcks.add(m.ackTo());
    return Behaviors.same();
  }

  private void dispatch(ClientFrame frame) {
    String ref = frame.ref();
    if (frame instanceof ClientFrame.Heartbeat h) {
      if (h.offset() != null) acknowledge(ref, h.offset());
      return; // its arrival is the point
    }
    if (frame instanceof ClientFrame.Ack a) {
      acknowledge(ref, a.offset() == null ? -1 : a.offset());
      return;
    }
    if (frame instanceof ClientFrame.Auth a) {
      reauthenticate(a);
      return;
    }
    if (frame instanceof ClientFrame.Appending && appendLimited(ref)) return;
    inFlight++;
    if (frame instanceof ClientFrame.Leave) {
      ctx.ask(Outcome.class, session, settings.askTimeout(),
          replyTo -> new SessionCommand.Leave(participant, replyTo),
          (outcome, failure) -> new Answered(Asked.LEAVE, ref, outcome, failure));
    } else if (frame instanceof ClientFrame.Appending a) {
      ctx.ask(Outcome.class, session, settings.askTimeout(),
          replyTo -> new SessionCommand.Append(participant, a.body(), a.producer(), replyTo),
          (outcome, failure) -> new Answered(Asked.APPEND, ref, outcome, failure));
    }
  }

  // ---------------------------------------------------------------- token lifetime

  /** The socket lives as long as its latest token: at its {@code exp} it closes with token_expired (resumable). */
  private void expireWithToken() {
    if (identity.expiresAt() == null) {
      timers.cancel(TokenExpired.INSTANCE);
      return;
    }
    Duration left = Duration.between(Instant.now(), identity.expiresAt());
    timers.startSingleTimer(TokenExpired.INSTANCE, TokenExpired.INSTANCE, left.isNegative() ? Duration.ZERO : left);
  }

  private void reauthenticate(ClientFrame.Auth frame) {
    if (frame.token() == null || frame.token().isBlank()) {
      send(Frames.error(frame.ref(), ErrorCode.INVALID_FRAME, "invalid auth frame: a string \"token\" is required"));
      return;
    }
    ctx.pipeToSelf(tokens.verify(frame.token()), (verified, failure) -> new Reauthenticated(frame.ref(), frame.token(), verified, failure));
  }

  /**
   * A fresh token replaces the socket's only if it names the same participant and still covers
   * the session; then the socket lives until the new token's {@code exp}. Otherwise the old
   * token (and its expiry) stays, and the client is told why.
   */
  private Behavior<Command> onReauthenticated(Reauthenticated m) {
    if (closing) return Behaviors.same();
    Optional<Identity> fresh = m.failure() == null ? m.identity() : Optional.empty();
    if (fresh.isEmpty()) {
      send(Tokens.looksExpired(m.token())
          ? Frames.error(m.ref(), ErrorCode.TOKEN_EXPIRED, "the new token has expired already")
          : Frames.error(m.ref(), ErrorCode.UNAUTHORIZED, "invalid or expired token"));
    } else if (!fresh.get().sameParticipant(identity)) {
      send(Frames.error(m.ref(), ErrorCode.FORBIDDEN, "a socket keeps its participant: the new token must name "
          + identity.subject() + " as " + identity.role().wire()));
    } else if (!fresh.get().mayJoin(sessionId)) {
      send(Frames.error(m.ref(), ErrorCode.FORBIDDEN, identity.subject() + " may not join " + sessionId + " with the new token"));
    } else {
      identity = fresh.get();
      expireWithToken();
      send(Frames.authenticated(m.ref(), identity.expiresAt()));
    }
    return Behaviors.same();
  }

  /** Over the subject's append limit: the frame is answered rate_limited and never reaches the session. */
  private boolean appendLimited(String ref) {
    SubjectRate appends = RateLimits.get(ctx.getSystem()).appends();
    long wait = appends.take(participant.subject());
    if (wait == 0) return false;
    send(Frames.rateLimited(ref, RateLimits.message(participant.subject(), appends.rate(), "appends", wait),
        RateLimits.retryAfterMillis(wait)));
    return true;
  }

  private void acknowledge(String ref, long offset) {
    if (offset < 0) {
      send(Frames.error(ref, ErrorCode.INVALID_OFFSET, "ack needs an offset >= 0"));
      return;
    }
    follower.tell(new SessionFollower.Acknowledged(offset, Instant.now()));
  }

  private Behavior<Command> onAnswered(Answered m) {
    boolean fromFrame = m.asked() != Asked.JOIN;
    if (fromFrame) {
      inFlight--;
      while (!heldAcks.isEmpty() && inFlight < settings.maxInFlight()) heldAcks.poll().tell(Ack.INSTANCE);
    }
    if (closing) return Behaviors.same();
    if (m.failure() != null) {
      ErrorCode code = dev.durablesessions.http.Failures.classify(m.failure(), ctx.getLog(), "socket " + m.asked());
      send(Frames.error(m.ref(), code, code != ErrorCode.TIMEOUT ? dev.durablesessions.http.Failures.message(code, "the session")
          : fromFrame ? "the session did not answer in time; retry with the same producer stamp to stay exactly-once"
          : "the session did not answer the join in time; events still flow, reconnect to join"));
    } else if (m.outcome() instanceof Outcome.Refused r) {
      send(Frames.error(m.ref(), r.code(), r.message()));
    } else if (m.outcome() instanceof Outcome.Accepted a && fromFrame) {
      send(Frames.ack(m.ref(), a));
      if (m.asked() == Asked.LEAVE) {
        // Goodbye said: the ack goes out, then the socket closes normally.
        closing = true;
        stopFollower("left");
        completeIfOpen(outbound.frames());
      }
    }
    return Behaviors.same();
  }

  // ---------------------------------------------------------------- session to client

  private Behavior<Command> onDelivery(SessionFollower.Delivery delivery) {
    if (closing) return Behaviors.same();
    if (delivery instanceof SessionFollower.Attached a) {
      send(Frames.attached(a.sessionId(), participant, device, a.head(), a.afterOffset(), settings.heartbeatTimeout()));
    } else if (delivery instanceof SessionFollower.Deliver d) {
      Instant now = Instant.now();
      for (SessionEvent event : d.events()) {
        long offset = event.offset();
        if (offset <= passed) continue; // handed over again after a rewind: already queued
        if (overflowed) return Behaviors.same(); // dropped: the follower re-reads it once there is room
        if (offset != passed + 1) {
          // Sent before the follower took our rewind; it comes again in order.
          overflow();
          return Behaviors.same();
        }
        if (event.visibleTo(participant)) {
          QueueOfferResult result = outbound.frames().offer(TextMessage.create(Frames.event(event)));
          if (result == QueueOfferResult.dropped()) {
            overflow();
            return Behaviors.same();
          }
          if (result != QueueOfferResult.enqueued()) return socketGone();
          if (!d.wantsReady()) SessionMetrics.DELIVERY_LAG.observe(Math.max(0, Duration.between(event.at(), now).toNanos()) / 1e9);
        }
        passed = offset;
      }
      if (d.wantsReady()) {
        followerWantsRoom = true;
        checkRoom();
      }
    } else if (delivery instanceof SessionFollower.Failed f) {
      send(Frames.error(null, f.code(), f.message()));
      if (f.code() == ErrorCode.SESSION_ERASED) {
        send(Frames.closing(CLOSE_SESSION_ERASED, "session_erased", false, f.message()));
      } else {
        send(Frames.closing(CLOSE_SUBSCRIPTION_REFUSED, "subscription_refused", false, f.code().code() + ": " + f.message()));
      }
      closing = true;
      completeIfOpen(outbound.frames());
    }
    return Behaviors.same();
  }

  /**
   * The queue is full: what did not fit is dropped, and the follower rewinds to the last event
   * queued and hands the rest over again, from the journal, once there is room.
   */
  private void overflow() {
    overflowed = true;
    SessionMetrics.SOCKET_OVERFLOWS.inc();
    follower.tell(new SessionFollower.Rewind(passed));
    followerWantsRoom = true;
    checkRoom();
  }

  /**
   * Held answers go out and catch-up pages are read only once the outbound queue is at most a
   * quarter full. Until then the queue is looked at every few milliseconds; a client that reads
   * none of it for the stall timeout is not reading at all, and is cut off.
   */
  private void checkRoom() {
    if (closing || (!followerWantsRoom && heldReplies.isEmpty())) return;
    int queued = outbound.frames().size();
    Instant now = Instant.now();
    if (!waitingForRoom) {
      waitingForRoom = true;
      lastProgress = now;
      lastQueued = queued;
    }
    if (queued <= settings.outboundBuffer() / 4) {
      while (!heldReplies.isEmpty() && outbound.frames().offer(heldReplies.peek()) == QueueOfferResult.enqueued()) {
        heldReplies.poll();
      }
      if (followerWantsRoom && heldReplies.isEmpty()) {
        followerWantsRoom = false;
        overflowed = false;
        follower.tell(SessionFollower.Ready.INSTANCE);
      }
      if (!followerWantsRoom && heldReplies.isEmpty()) {
        waitingForRoom = false;
        return;
      }
      lastProgress = now;
    } else if (queued < lastQueued) {
      lastProgress = now;
    } else if (Duration.between(lastProgress, now).compareTo(settings.stallTimeout()) > 0) {
      // The closing frame takes the priority lane, ahead of the backlog the client is not reading.
      close(CLOSE_CONSUMER_TOO_SLOW, "consumer_too_slow", "the outbound queue of " + settings.outboundBuffer()
          + " frames was not read for " + settings.stallTimeout().toMillis() + " ms; reconnect with the last offset you processed", true);
      return;
    }
    lastQueued = queued;
    if (!roomCheckScheduled) {
      roomCheckScheduled = true;
      timers.startSingleTimer(CheckRoom.INSTANCE, Duration.ofMillis(2));
    }
  }

  /**
   * Ends an outbound queue. Its stream may have ended already, when the client went away and the
   * StreamCompleted (or StreamFailed) saying so is still on its way; found by fuzzing, where the
   * queue's IllegalStateException stopped the actor when the node shut down at that moment.
   */
  private static void completeIfOpen(BoundedSourceQueue<Message> queue) {
    try {
      queue.complete();
    } catch (IllegalStateException streamAlreadyEnded) {
      // nothing to end: the socket is gone, and socketEnded() follows
    }
  }

  /** Queues an answer (attached, ack, error); one that finds the queue full waits for room, in order. */
  private void send(String json) {
    if (closing) return;
    Message frame = TextMessage.create(json);
    if (heldReplies.isEmpty()) {
      QueueOfferResult result = outbound.frames().offer(frame);
      if (result == QueueOfferResult.enqueued()) return;
      if (result != QueueOfferResult.dropped()) {
        socketGone();
        return;
      }
    }
    if (heldReplies.size() >= settings.maxInFlight() + settings.outboundBuffer()) {
      // More answers than a reading client could ever have outstanding: it does not read at all.
      close(CLOSE_CONSUMER_TOO_SLOW, "consumer_too_slow",
          "the outbound queue of " + settings.outboundBuffer() + " frames is full; reconnect with the last offset you processed", true);
      return;
    }
    heldReplies.add(frame);
    checkRoom();
  }

  private Behavior<Command> socketGone() {
    closing = true; // the stream is gone already
    stopFollower("socket_closed");
    return Behaviors.same();
  }
}
