package dev.durablesessions.http.socket;

import dev.durablesessions.http.Failures;
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
import java.util.List;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.http.javadsl.model.ws.Message;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.UniqueKillSwitch;

/**
 * One device's socket. Frames from the client ({@link Frames#parse}) become session commands,
 * answered with {@code ack} or {@code error}; the session's events come from a
 * {@link SessionFollower} child and go out through the {@link Outbox}, filtered to what this
 * participant may see. When the outbox is full, the events that do not fit are dropped and the
 * follower rewinds to the last one queued: once the client has read the queue down, it catches
 * up from the journal on the same socket. Only a client whose queue makes no progress for the
 * stall timeout is told {@code consumer_too_slow} and cut off; one that sends nothing for the
 * heartbeat timeout is closed as dead; one whose token runs out without an {@code auth} frame
 * ({@link TokenRenewal}) is closed with {@code token_expired}. Either way it never grows server
 * memory and never slows the session or its other subscribers, and it resumes by reconnecting
 * with its last offset. When the socket ends, the follower tells the session why
 * (socket_closed, heartbeat_timeout, left, ...), which is what presence records.
 *
 * <p>Why this file passes 400 lines: what is left here is the actor's wiring (asks, timers,
 * the follower child, the order in which frames go out) for decisions made elsewhere: parsing
 * and writing in {@link Frames}, backpressure in {@link Outbox}, token renewal in
 * {@link TokenRenewal}, the attached frame's visibleHead in {@link VisibleHead}. Splitting the
 * wiring further would pass the actor's context and state between classes.
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

  /** A journal page read to find the attached frame's visibleHead (events null if the read failed). */
  private record VisibleHeadPage(VisibleHead.Read read, List<SessionEvent> events, Throwable failure) implements Command {}

  private record ReadVisibleHead(VisibleHead.Read read) implements Command {}

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
    return create(sessionId, identity, tokens, device, new Opening(afterOffset, null, false), outbound, settings, followerSettings,
        sharding, journal);
  }

  /**
   * How the client opened the socket: resume after {@code afterOffset}; {@code lease}, the dispatch
   * lease epoch every append is made under (null: none); {@code batch}, events frames wanted.
   */
  public record Opening(long afterOffset, Long lease, boolean batch) {}

  public static Behavior<Command> create(
      String sessionId,
      Identity identity,
      Tokens tokens,
      String device,
      Opening opening,
      Outbound outbound,
      SocketSettings settings,
      FollowerSettings followerSettings,
      ClusterSharding sharding,
      SessionJournal journal) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new ConnectionActor(
        ctx, timers, sessionId, identity, tokens, device, opening, outbound, settings, followerSettings, sharding, journal)
        .behavior()));
  }

  private final ActorContext<Command> ctx;
  /** The dispatch lease this socket writes under, or null: a worker's stale socket is fenced by the session. */
  private final Long lease;
  private final TimerScheduler<Command> timers;
  private final Participant participant;
  private final String sessionId;
  private final Tokens tokens;
  /** The identity of the latest token: the one the socket opened with, or a fresher one from an auth frame. */
  private Identity identity;
  private final String device;
  private final Outbox outbox;
  private final SocketSettings settings;
  private final FollowerSettings followerSettings;
  private final SessionJournal journal;
  private final EntityRef<SessionCommand> session;
  private final ActorRef<SessionFollower.Command> follower;
  /** Inbound acks held back while too many appends are in flight: the socket stops reading. */
  private final Deque<ActorRef<Ack>> heldAcks = new ArrayDeque<>();
  private int inFlight;
  private boolean closing;
  private boolean followerStopping;
  private boolean socketDone;
  private boolean followerDone;
  private boolean roomCheckScheduled;
  private Instant lastInbound = Instant.now();
  private Instant lastReported = Instant.EPOCH;
  /** While the attached frame waits for its visibleHead: the search and the deliveries that must follow the frame. */
  private VisibleHead visibleHead;
  private SessionFollower.Attached attaching;
  private final Deque<SessionFollower.Delivery> afterAttached = new ArrayDeque<>();

  private ConnectionActor(
      ActorContext<Command> ctx,
      TimerScheduler<Command> timers,
      String sessionId,
      Identity identity,
      Tokens tokens,
      String device,
      Opening opening,
      Outbound outbound,
      SocketSettings settings,
      FollowerSettings followerSettings,
      ClusterSharding sharding,
      SessionJournal journal) {
    long afterOffset = opening.afterOffset();
    this.ctx = ctx;
    this.lease = opening.lease();
    this.sessionId = sessionId;
    this.tokens = tokens;
    this.identity = identity;
    this.timers = timers;
    this.participant = identity.participant();
    this.device = device;
    this.outbox = new Outbox(outbound, settings, afterOffset, opening.batch());
    this.settings = settings;
    this.followerSettings = followerSettings;
    this.journal = journal;
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
        .onMessage(VisibleHeadPage.class, this::onVisibleHeadPage)
        .onMessage(ReadVisibleHead.class, m -> {
          readVisibleHead(m.read());
          return Behaviors.same();
        })
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
          outbox.abort();
          socketDone = true;
          return stopWhenDone();
        })
        .onMessage(FollowerStopped.class, m -> {
          followerDone = true;
          followerStopping = true;
          if (!closing) {
            // The follower gave up (subscription refused): it already sent the reason.
            closing = true;
            outbox.complete();
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
    outbox.closeWith(new ServerFrame.Closing(code, reason, true, message), priority);
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
    Frames.Parsed parsed = Frames.read(m.message(), settings.maxFrameBytes());
    if (parsed instanceof Frames.Bad bad) {
      send(new ServerFrame.Error(bad.ref(), bad.code(), bad.message()));
    } else if (parsed instanceof Frames.Ok ok) {
      dispatch(ok.frame());
    }
    if (inFlight < settings.maxInFlight()) m.ackTo().tell(Ack.INSTANCE);
    else heldAcks.add(m.ackTo());
    return Behaviors.same();
  }

  private void dispatch(ClientFrame frame) {
    String ref = frame.ref();
    if (frame instanceof ClientFrame.Heartbeat h) {
      if (h.offset() != null) acknowledge(ref, h.offset());
      // its arrival is the point
    } else if (frame instanceof ClientFrame.Ack a) {
      acknowledge(ref, a.offset() == null ? -1 : a.offset());
    } else if (frame instanceof ClientFrame.Auth a) {
      reauthenticate(a);
    } else if (frame instanceof ClientFrame.Leave) {
      inFlight++;
      ctx.ask(Outcome.class, session, settings.askTimeout(),
          replyTo -> new SessionCommand.Leave(participant, replyTo),
          (outcome, failure) -> new Answered(Asked.LEAVE, ref, outcome, failure));
    } else if (frame instanceof ClientFrame.Append a) {
      if (appendLimited(ref)) return;
      inFlight++;
      ctx.ask(Outcome.class, session, settings.askTimeout(),
          replyTo -> new SessionCommand.Append(participant, a.body(), a.producer(), lease, replyTo),
          (outcome, failure) -> new Answered(Asked.APPEND, ref, outcome, failure));
    } else {
      throw new IllegalStateException("unhandled client frame " + frame);
    }
  }

  /** Over the subject's append limit: the frame is answered rate_limited and never reaches the session. */
  private boolean appendLimited(String ref) {
    SubjectRate appends = RateLimits.get(ctx.getSystem()).appends();
    long wait = appends.take(participant.subject());
    if (wait == 0) return false;
    send(new ServerFrame.Error(ref, ErrorCode.RATE_LIMITED, RateLimits.message(participant.subject(), appends.rate(), "appends", wait),
        RateLimits.retryAfterMillis(wait)));
    return true;
  }

  private void acknowledge(String ref, long offset) {
    if (offset < 0) {
      send(new ServerFrame.Error(ref, ErrorCode.INVALID_OFFSET, "ack needs an offset >= 0"));
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
      ErrorCode code = Failures.classify(m.failure(), ctx.getLog(), "socket " + m.asked());
      send(new ServerFrame.Error(m.ref(), code, code != ErrorCode.TIMEOUT ? Failures.message(code, "the session")
          : fromFrame ? "the session did not answer in time; retry with the same producer stamp to stay exactly-once"
          : "the session did not answer the join in time; events still flow, reconnect to join"));
    } else if (m.outcome() instanceof Outcome.Refused r) {
      send(new ServerFrame.Error(m.ref(), r.code(), r.message()));
    } else if (m.outcome() instanceof Outcome.Accepted a && fromFrame) {
      send(new ServerFrame.Ack(m.ref(), a));
      if (m.asked() == Asked.LEAVE) {
        // Goodbye said: the ack goes out, then the socket closes normally.
        closing = true;
        stopFollower("left");
        outbox.complete();
      }
    }
    return Behaviors.same();
  }

  // ---------------------------------------------------------------- token lifetime

  private void expireWithToken() {
    Optional<Duration> left = TokenRenewal.lifeLeft(identity, Instant.now());
    if (left.isEmpty()) timers.cancel(TokenExpired.INSTANCE);
    else timers.startSingleTimer(TokenExpired.INSTANCE, TokenExpired.INSTANCE, left.get());
  }

  private void reauthenticate(ClientFrame.Auth frame) {
    if (frame.token() == null || frame.token().isBlank()) {
      send(new ServerFrame.Error(frame.ref(), ErrorCode.INVALID_FRAME, TokenRenewal.MISSING_TOKEN));
      return;
    }
    ctx.pipeToSelf(tokens.verify(frame.token()), (verified, failure) -> new Reauthenticated(frame.ref(), frame.token(), verified, failure));
  }

  private Behavior<Command> onReauthenticated(Reauthenticated m) {
    if (closing) return Behaviors.same();
    Optional<Identity> fresh = m.failure() == null ? m.identity() : Optional.empty();
    TokenRenewal.Outcome outcome = TokenRenewal.decide(identity, sessionId, m.token(), fresh);
    if (outcome instanceof TokenRenewal.Renewed renewed) {
      identity = renewed.identity();
      expireWithToken();
      send(new ServerFrame.AuthAck(m.ref(), identity.expiresAt()));
    } else if (outcome instanceof TokenRenewal.Refused refused) {
      send(new ServerFrame.Error(m.ref(), refused.code(), refused.message()));
    }
    return Behaviors.same();
  }

  // ---------------------------------------------------------------- session to client

  private Behavior<Command> onDelivery(SessionFollower.Delivery delivery) {
    if (closing) return Behaviors.same();
    if (attaching != null) {
      afterAttached.add(delivery); // the attached frame goes first, once its visibleHead is known
    } else if (delivery instanceof SessionFollower.Attached a) {
      attaching = a;
      visibleHead = new VisibleHead(participant, a.afterOffset(), a.head(), followerSettings.pageSize());
      onVisibleHeadStep(visibleHead.start());
    } else if (delivery instanceof SessionFollower.Deliver d) {
      Outbox.Delivery result = outbox.deliver(d.events(), d.wantsReady(), participant);
      if (result == Outbox.Delivery.OVERFLOWED) {
        // What did not fit is dropped; the follower re-reads it from the journal once there is room.
        follower.tell(new SessionFollower.Rewind(outbox.passed()));
        checkRoom();
      } else if (result == Outbox.Delivery.GONE) {
        socketGone();
      } else if (result == Outbox.Delivery.DELIVERED && d.wantsReady()) {
        checkRoom();
      }
    } else if (delivery instanceof SessionFollower.Failed f) {
      send(new ServerFrame.Error(null, f.code(), f.message()));
      if (f.code() == ErrorCode.SESSION_ERASED) {
        send(new ServerFrame.Closing(CLOSE_SESSION_ERASED, "session_erased", false, f.message()));
      } else {
        send(new ServerFrame.Closing(CLOSE_SUBSCRIPTION_REFUSED, "subscription_refused", false, f.code().code() + ": " + f.message()));
      }
      closing = true;
      outbox.complete();
    }
    return Behaviors.same();
  }

  private void onVisibleHeadStep(VisibleHead.Step step) {
    if (step instanceof VisibleHead.Read read) {
      readVisibleHead(read);
    } else if (step instanceof VisibleHead.Found found) {
      SessionFollower.Attached a = attaching;
      attaching = null;
      visibleHead = null;
      send(new ServerFrame.Attached(a.sessionId(), participant, device, a.head(), a.afterOffset(), found.visibleHead(),
          settings.heartbeatTimeout()));
      while (!afterAttached.isEmpty() && attaching == null) onDelivery(afterAttached.poll());
    }
  }

  private void readVisibleHead(VisibleHead.Read read) {
    if (closing || visibleHead == null) return;
    ctx.pipeToSelf(journal.read(sessionId, read.from(), read.to()), (events, failure) -> new VisibleHeadPage(read, events, failure));
  }

  private Behavior<Command> onVisibleHeadPage(VisibleHeadPage m) {
    if (closing || visibleHead == null) return Behaviors.same();
    VisibleHead.Step step = m.failure() == null ? visibleHead.onPage(m.read(), m.events()) : m.read();
    if (m.failure() != null) ctx.getLog().warn("journal read for session {} failed, retrying: {}", sessionId, m.failure().toString());
    if (step.equals(m.read())) timers.startSingleTimer(new ReadVisibleHead(m.read()), followerSettings.readRetryDelay());
    else onVisibleHeadStep(step);
    return Behaviors.same();
  }

  /** Held answers and the follower's next page wait for room in the outbox; a client that reads nothing is cut off. */
  private void checkRoom() {
    if (closing) return;
    switch (outbox.lookForRoom(Instant.now())) {
      case NOTHING_WAITING, ANSWERS_SENT -> { }
      case FOLLOWER_READY -> follower.tell(SessionFollower.Ready.INSTANCE);
      case STALLED -> // The closing frame takes the priority lane, ahead of the backlog the client is not reading.
          close(CLOSE_CONSUMER_TOO_SLOW, "consumer_too_slow", "the outbound queue of " + settings.outboundBuffer()
              + " frames was not read for " + settings.stallTimeout().toMillis() + " ms; reconnect with the last offset you processed", true);
      case LOOK_AGAIN -> {
        if (!roomCheckScheduled) {
          roomCheckScheduled = true;
          timers.startSingleTimer(CheckRoom.INSTANCE, Duration.ofMillis(2));
        }
      }
    }
  }

  /** Queues an answer (attached, ack, error); one that finds the queue full waits for room, in order. */
  private void send(ServerFrame answer) {
    if (closing) return;
    switch (outbox.answer(answer)) {
      case QUEUED -> { }
      case HELD -> checkRoom();
      case GONE -> socketGone();
      case FLOODED -> close(CLOSE_CONSUMER_TOO_SLOW, "consumer_too_slow",
          "the outbound queue of " + settings.outboundBuffer() + " frames is full; reconnect with the last offset you processed", true);
    }
  }

  private Behavior<Command> socketGone() {
    closing = true; // the stream is gone already
    stopFollower("socket_closed");
    return Behaviors.same();
  }
}
