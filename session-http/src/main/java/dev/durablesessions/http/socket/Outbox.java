package dev.durablesessions.http.socket;

import dev.durablesessions.session.Participant;
import dev.durablesessions.session.SessionEvent;
import dev.durablesessions.session.metrics.SessionMetrics;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import org.apache.pekko.http.javadsl.model.ws.Message;
import org.apache.pekko.http.javadsl.model.ws.TextMessage;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.QueueOfferResult;

/**
 * A socket's outbound side and its backpressure: the bounded queue of frames the client reads,
 * answers held back while it is full, and the bookkeeping that lets the follower hand events
 * over contiguously and rewind when they do not fit. It decides; {@link ConnectionActor} acts
 * on the decision (tells the follower, schedules the next look, closes). Owned by that actor.
 */
final class Outbox {
  /** What became of an answer (attached, ack, error). */
  enum Answer { QUEUED, HELD, FLOODED, GONE }

  /** What became of a batch of events from the follower. */
  enum Delivery { DELIVERED, DROPPED, OVERFLOWED, GONE }

  /** What a look at the queue found. */
  enum Room { NOTHING_WAITING, FOLLOWER_READY, ANSWERS_SENT, LOOK_AGAIN, STALLED }

  private final ConnectionActor.Outbound lanes;
  private final SocketSettings settings;
  /** The client asked for {@code events} frames ({@code batch=true}). */
  private final boolean batching;
  /** The highest offset queued for the client or filtered out as not visible: the follower hands events over contiguously. */
  private long passed;
  /** Events were dropped for a full queue; the follower was told to rewind and waits for room. */
  private boolean overflowed;
  private boolean followerWantsRoom;
  /** Answers (ack, error, attached) that found the queue full; they go out first when there is room. */
  private final Deque<Message> heldAnswers = new ArrayDeque<>();
  /** While waiting for room: is the client reading the queue down? */
  private final StallWatch stallWatch;

  Outbox(ConnectionActor.Outbound lanes, SocketSettings settings, long afterOffset, boolean batching) {
    this.lanes = lanes;
    this.batching = batching;
    this.settings = settings;
    this.passed = afterOffset;
    this.stallWatch = new StallWatch(settings.stallTimeout(), LONGEST_COUNTED_GAP);
  }

  /**
   * Looks come every few milliseconds; a longer gap between two means the node itself was not
   * running (GC, starved CPU), and only this much of it counts against the client.
   */
  static final Duration LONGEST_COUNTED_GAP = Duration.ofMillis(200);

  /** The offset the follower rewinds to after an overflow: the last event queued or skipped. */
  long passed() {
    return passed;
  }

  /** Queues an answer; one that finds the queue full waits for room, in order. */
  Answer answer(ServerFrame answer) {
    Message frame = TextMessage.create(Frames.write(answer));
    if (heldAnswers.isEmpty()) {
      QueueOfferResult result = lanes.frames().offer(frame);
      if (result == QueueOfferResult.enqueued()) return Answer.QUEUED;
      if (result != QueueOfferResult.dropped()) return Answer.GONE;
    }
    // More answers than a reading client could ever have outstanding: it does not read at all.
    if (heldAnswers.size() >= settings.maxInFlight() + settings.outboundBuffer()) return Answer.FLOODED;
    heldAnswers.add(frame);
    return Answer.HELD;
  }

  /**
   * Queues the events {@code viewer} may see, skipping those already queued (handed over again
   * after a rewind). An event that does not fit is dropped with everything after it: OVERFLOWED,
   * and the follower must rewind to {@link #passed()}. Events arriving while a rewind is pending
   * are DROPPED: they come again in order. On a socket that asked for batches, two or more
   * visible events go out as {@code events} frames of at most {@link SocketSettings#batchMaxEvents}
   * events and about {@link SocketSettings#batchMaxChars} characters; a lone event as its own frame.
   */
  Delivery deliver(List<SessionEvent> events, boolean fromJournal, Participant viewer) {
    Instant now = Instant.now();
    Batch batch = new Batch();
    for (SessionEvent event : events) {
      long offset = event.offset();
      if (offset <= batch.covered) continue;
      if (overflowed) return Delivery.DROPPED;
      // Sent before the follower took our rewind; it comes again in order.
      if (offset != batch.covered + 1) {
        Delivery flushed = batch.flush();
        return flushed != null ? flushed : overflow();
      }
      if (event.visibleTo(viewer)) {
        String json = fromJournal ? EventJson.once(event) : EventJson.shared(event);
        if (batch.full(json)) {
          Delivery flushed = batch.flush();
          if (flushed != null) return flushed;
        }
        batch.add(json);
        if (!fromJournal) SessionMetrics.DELIVERY_LAG.observe(Math.max(0, Duration.between(event.at(), now).toNanos()) / 1e9);
      }
      batch.covered = offset;
      if (batch.isEmpty()) passed = offset;
    }
    Delivery flushed = batch.flush();
    if (flushed != null) return flushed;
    if (fromJournal) followerWantsRoom = true;
    return Delivery.DELIVERED;
  }

  /**
   * Events waiting to go out as one frame. {@code covered} is the last offset looked at (queued,
   * waiting here, or not visible); {@link #passed} moves up to it whenever nothing is waiting.
   */
  private final class Batch {
    private final List<String> texts = new ArrayList<>();
    private int chars;
    long covered = passed;

    boolean isEmpty() {
      return texts.isEmpty();
    }

    /** True if {@code json} must start the next frame. */
    boolean full(String json) {
      if (texts.isEmpty()) return false;
      if (!batching) return true;
      return texts.size() >= settings.batchMaxEvents() || chars + json.length() > settings.batchMaxChars();
    }

    void add(String json) {
      texts.add(json);
      chars += json.length() + 1;
    }

    /** Offers what waits as one frame; null if it went out (or nothing waited), else what became of the delivery. */
    Delivery flush() {
      if (texts.isEmpty()) return null;
      String frame = texts.size() == 1 ? texts.get(0) : Frames.events(texts, chars);
      texts.clear();
      chars = 0;
      QueueOfferResult result = lanes.frames().offer(TextMessage.create(frame));
      if (result == QueueOfferResult.dropped()) return overflow();
      if (result != QueueOfferResult.enqueued()) return Delivery.GONE;
      passed = covered;
      return null;
    }
  }

  private Delivery overflow() {
    overflowed = true;
    followerWantsRoom = true;
    SessionMetrics.SOCKET_OVERFLOWS.inc();
    return Delivery.OVERFLOWED;
  }

  /**
   * Held answers go out and the follower may read its next page only once the queue is at most
   * a quarter full. Until then the caller looks again every few milliseconds; a client that
   * reads none of it for the stall timeout is not reading at all: STALLED.
   */
  Room lookForRoom(Instant now) {
    if (!followerWantsRoom && heldAnswers.isEmpty()) return Room.NOTHING_WAITING;
    int queued = lanes.frames().size();
    if (queued <= settings.outboundBuffer() / 4) {
      while (!heldAnswers.isEmpty() && lanes.frames().offer(heldAnswers.peek()) == QueueOfferResult.enqueued()) {
        heldAnswers.poll();
      }
      stallWatch.reset();
      if (heldAnswers.isEmpty()) {
        if (!followerWantsRoom) return Room.ANSWERS_SENT;
        followerWantsRoom = false;
        overflowed = false;
        return Room.FOLLOWER_READY;
      }
    } else if (stallWatch.stalled(now, queued)) {
      return Room.STALLED;
    }
    return Room.LOOK_AGAIN;
  }

  /**
   * The last frame, then the end of the stream. On the priority lane it goes ahead of a backlog
   * the client is not reading; otherwise after what is queued (or on the priority lane if the
   * queue is full).
   */
  void closeWith(ServerFrame.Closing closing, boolean priority) {
    Message last = TextMessage.create(Frames.write(closing));
    if (priority) {
      lanes.control().offer(last);
      completeIfOpen(lanes.control());
    } else {
      if (lanes.frames().offer(last) != QueueOfferResult.enqueued()) lanes.control().offer(last);
      completeIfOpen(lanes.frames());
    }
  }

  /** Ends the stream after what is queued. */
  void complete() {
    completeIfOpen(lanes.frames());
  }

  /** Drops the connection: the client did not even take the closing frame. */
  void abort() {
    lanes.killSwitch().abort(new IllegalStateException("connection closed by the server"));
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
      // nothing to end: the socket is gone, and the actor's socketEnded() follows
    }
  }
}
