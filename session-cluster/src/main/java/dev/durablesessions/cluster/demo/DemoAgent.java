package dev.durablesessions.cluster.demo;

import dev.durablesessions.session.AgentStatus;
import dev.durablesessions.session.AppendBody;
import dev.durablesessions.session.EndReason;
import dev.durablesessions.session.ErrorCode;
import dev.durablesessions.session.Outcome;
import dev.durablesessions.session.Participant;
import dev.durablesessions.session.Role;
import dev.durablesessions.session.SessionCommand;
import dev.durablesessions.session.SessionEntity;
import dev.durablesessions.session.SessionEvent;
import dev.durablesessions.session.SignalKind;
import dev.durablesessions.session.SignalOutcome;
import dev.durablesessions.session.SummaryReply;
import dev.durablesessions.session.producer.ProducerStamp;
import dev.durablesessions.session.resume.FollowerSettings;
import dev.durablesessions.session.resume.SessionFollower;
import dev.durablesessions.session.resume.SessionJournal;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;

/**
 * A demo agent in one session: it answers every user or human message by streaming a reply
 * token by token (about 30 tokens per second by default), publishes its status, takes
 * steering into account, stops at once when interrupted or cancelled, and answers every
 * signal addressed to it with consumed or ignored. It is a participant like any other (role
 * agent, device "builtin"), follows the session through a {@link SessionFollower}, and writes
 * through an idempotent producer one append at a time (a refused append does not use up a
 * sequence, so it never gaps itself). While a human has the floor it stays silent; when the
 * floor comes back it answers what users asked after the human's last word.
 */
public final class DemoAgent {
  public static final Participant AGENT = Participant.of("demo-agent", Role.AGENT);
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(DemoAgent.class);

  interface Command {}

  private record FromFollower(SessionFollower.Delivery delivery) implements Command {}

  private record Started(SummaryReply reply, Throwable failure) implements Command {}

  private record Answered(InFlight sent, Outcome outcome, Throwable failure) implements Command {}

  /** An append sent with its producer sequence, awaiting the session's answer. Identity matters: a resend is a new one. */
  private static final class InFlight {
    private final long seq;
    private final AppendBody body;

    InFlight(long seq, AppendBody body) {
      this.seq = seq;
      this.body = body;
    }

    long seq() {
      return seq;
    }

    AppendBody body() {
      return body;
    }
  }

  private enum NextToken implements Command { INSTANCE }

  private enum Resend implements Command { INSTANCE }

  /** @param lease the dispatch lease this agent writes under (every write refused once it is not the session's current one) */
  public static Behavior<Command> create(
      ClusterSharding sharding, SessionJournal journal, FollowerSettings followerSettings, String sessionId, Duration tokenInterval,
      long lease) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
        new DemoAgent(ctx, timers, sharding, journal, followerSettings, sessionId, tokenInterval, lease).starting()));
  }

  private final ActorContext<Command> ctx;
  private final TimerScheduler<Command> timers;
  private final ClusterSharding sharding;
  private final SessionJournal journal;
  private final FollowerSettings followerSettings;
  private final String sessionId;
  private final Duration tokenInterval;
  private final EntityRef<SessionCommand> session;
  private final long lease;
  /** A new epoch per incarnation fences whatever an older one still has in flight. */
  private final long epoch = System.currentTimeMillis();
  private long nextSeq;
  private ActorRef<SessionFollower.Command> follower;
  private final Deque<SessionEvent.MessagePosted> questions = new ArrayDeque<>();
  private String streaming;
  /**
   * How far before its starting head a new incarnation looks for unanswered questions: far enough
   * to reach the question of an answer cut off by a failover (its tokens are events too).
   */
  private static final int LOOK_BACK = 2000;
  /** While catching up to this offset (the head at start), events are only looked at; -1 after. */
  private long replayUntil = -1;
  /** User messages before the starting head no answer followed, by offset. */
  private final java.util.TreeMap<Long, SessionEvent.MessagePosted> unanswered = new java.util.TreeMap<>();
  /** Every user message seen before the starting head, by offset: an answer to one that was cut off is redone. */
  private final java.util.Map<Long, SessionEvent.MessagePosted> asked = new java.util.HashMap<>();
  /** Questions before the starting head whose answer was started once (a redo needs a new message ID). */
  private final java.util.Set<Long> answeredOnce = new java.util.HashSet<>();
  private final java.util.Set<Long> redone = new java.util.HashSet<>();
  /** User messages since the human side last spoke, while this agent has not the floor: answered once it comes back. */
  private final List<SessionEvent.MessagePosted> waitingForTheFloor = new java.util.ArrayList<>();
  /** The streams this incarnation started (any other stream by this agent is a previous incarnation's). */
  private final java.util.Set<String> startedHere = new java.util.HashSet<>();
  private boolean hasFloor = true;
  private final Deque<String> tokens = new ArrayDeque<>();
  /** Appends wait here, then go out pipelined (up to WINDOW unanswered), in order. */
  private static final int WINDOW = 32;
  private final Deque<AppendBody> outbox = new ArrayDeque<>();
  private final Deque<InFlight> inFlight = new ArrayDeque<>();

  private DemoAgent(
      ActorContext<Command> ctx, TimerScheduler<Command> timers, ClusterSharding sharding, SessionJournal journal,
      FollowerSettings followerSettings, String sessionId, Duration tokenInterval, long lease) {
    this.ctx = ctx;
    this.lease = lease;
    this.timers = timers;
    this.sharding = sharding;
    this.journal = journal;
    this.followerSettings = followerSettings;
    this.sessionId = sessionId;
    this.tokenInterval = tokenInterval;
    this.session = sharding.entityRefFor(SessionEntity.TYPE_KEY, sessionId);
  }

  private Behavior<Command> starting() {
    ctx.ask(SummaryReply.class, session, Duration.ofSeconds(10), SessionCommand.GetSummary::new, Started::new);
    return Behaviors.receive(Command.class)
        .onMessage(Started.class, started -> {
          if (!(started.reply() instanceof SummaryReply.Summary summary)) {
            LOG.warn("demo agent could not start in {}: {}", sessionId, started);
            return Behaviors.stopped();
          }
          if (summary.control() instanceof dev.durablesessions.session.transfer.Control.Closed) return Behaviors.stopped();
          hasFloor = summary.control().floorAllows(AGENT);
          LOG.debug("demo agent starts in {} under lease {} at head {} (open streams {})", sessionId, lease, summary.head(), summary.openStreams());
          // A previous incarnation of this agent may have died mid-answer: close what it left open.
          for (String open : summary.openStreams()) {
            if (open.startsWith("demo-")) outbox.add(new AppendBody.EndStream(open, EndReason.ERROR, "agent restarted"));
          }
          sendNext();
          // Questions asked while no incarnation of this agent was running (the session moved and
          // this agent started after they arrived) are still answered: follow from a little
          // before the head and answer the user messages in that window that no answer followed.
          replayUntil = summary.head();
          long from = Math.max(0, summary.head() - LOOK_BACK);
          ActorRef<SessionFollower.Delivery> deliveries = ctx.messageAdapter(SessionFollower.Delivery.class, FromFollower::new);
          follower = ctx.spawn(SessionFollower.create(sharding, journal, followerSettings, sessionId,
              new SessionCommand.Attach(AGENT, "builtin", true), from, deliveries), "follower");
          if (from == replayUntil) finishLookBack();
          return running();
        })
        .build();
  }

  private Behavior<Command> running() {
    return Behaviors.receive(Command.class)
        .onMessage(FromFollower.class, m -> onDelivery(m.delivery()))
        .onMessage(NextToken.class, m -> nextToken())
        .onMessage(Answered.class, this::onAnswered)
        .onMessage(Resend.class, m -> {
          sendNext();
          return Behaviors.same();
        })
        .build();
  }

  private Behavior<Command> onDelivery(SessionFollower.Delivery delivery) {
    if (delivery instanceof SessionFollower.Deliver d) {
      for (SessionEvent event : d.events()) onEvent(event);
      if (d.wantsReady()) follower.tell(SessionFollower.Ready.INSTANCE);
    } else if (delivery instanceof SessionFollower.Failed f) {
      LOG.info("demo agent leaves {}: {}", sessionId, f.message());
      return Behaviors.stopped();
    }
    return Behaviors.same();
  }

  private void onEvent(SessionEvent event) {
    if (event.offset() <= replayUntil) {
      lookBack(event);
      if (event.offset() == replayUntil) finishLookBack();
      return;
    }
    if (event.by().id().equals(AGENT.id())) {
      // A stream this incarnation did not start: the agent's previous incarnation (still
      // stopping on the node the session just left) had its appends delivered after this one
      // read the session's open streams. Nobody will finish it: close it, as at start.
      if (event instanceof SessionEvent.StreamStarted started && !startedHere.contains(started.messageId())) {
        enqueue(new AppendBody.EndStream(started.messageId(), EndReason.ERROR, "agent restarted"));
      }
      return;
    }
    if (event instanceof SessionEvent.SessionQueued || event instanceof SessionEvent.TransferAccepted
        || event instanceof SessionEvent.SessionClaimed || event instanceof SessionEvent.SessionClosed) {
      hasFloor = false; // a human (or nobody) speaks for the assistant side now
      questions.clear();
      waitingForTheFloor.clear();
    } else if (event instanceof SessionEvent.ControlHandedBack h) {
      hasFloor = h.agent() == null || h.agent().equals(AGENT.id());
      // What users asked after the human's last word is still unanswered: answer it now.
      if (hasFloor) questions.addAll(waitingForTheFloor);
      waitingForTheFloor.clear();
      if (hasFloor && streaming == null) startAnswer();
    } else if (event instanceof SessionEvent.MessagePosted m && m.by().role() == Role.USER) {
      if (!hasFloor) {
        waitingForTheFloor.add(m);
        return;
      }
      questions.add(m);
      if (streaming == null) startAnswer();
    } else if (event instanceof SessionEvent.MessagePosted m) {
      waitingForTheFloor.clear(); // someone on the other side (a human, support, another agent) answered what was asked so far
    } else if (event instanceof SessionEvent.SignalSent s && s.to().addresses(AGENT)) {
      boolean consumed = false;
      if (s.kind() == SignalKind.INTERRUPT || s.kind() == SignalKind.CANCEL) {
        consumed = streaming != null || !questions.isEmpty();
        if (streaming != null) stopAnswer(EndReason.CANCELLED);
        questions.clear();
      } else if (s.kind() == SignalKind.STEER && streaming != null && s.text() != null) {
        tokens.addFirst("[steered: " + s.text() + "] ");
        consumed = true;
      }
      enqueue(new AppendBody.AnswerSignal(s.offset(), consumed ? SignalOutcome.CONSUMED : SignalOutcome.IGNORED,
          consumed ? null : "nothing to " + s.kind().wire()));
    } else if (event instanceof SessionEvent.StreamEnded e && e.messageId().equals(streaming)) {
      // ended by someone else (a transfer, a close): stop producing for it
      timers.cancel(NextToken.INSTANCE);
      tokens.clear();
      String ended = streaming;
      outbox.removeIf(b -> b instanceof AppendBody.AppendDelta d && d.messageId().equals(ended));
      streaming = null;
      enqueue(new AppendBody.SetStatus(AgentStatus.IDLE, null));
    }
  }

  /** Before the head this incarnation started at: note user messages, and drop those an answer followed. */
  private void lookBack(SessionEvent event) {
    if (event instanceof SessionEvent.MessagePosted m && m.by().role() == Role.USER) {
      unanswered.put(m.offset(), m);
      asked.put(m.offset(), m);
    } else if (event instanceof SessionEvent.StreamStarted started) {
      Long question = questionOf(started.messageId());
      if (question != null) {
        unanswered.remove(question);
        answeredOnce.add(question);
      }
    } else if (event instanceof SessionEvent.StreamEnded ended) {
      Long question = questionOf(ended.messageId());
      // An answer cut off when its agent was lost (a failover) is answered again, from the start.
      if (question != null && ended.reason() == EndReason.AGENT_LOST && asked.containsKey(question)) {
        unanswered.put(question, asked.get(question));
      } else if (question != null) {
        unanswered.remove(question);
      }
    } else if (event instanceof SessionEvent.SessionQueued || event instanceof SessionEvent.TransferAccepted
        || event instanceof SessionEvent.SessionClaimed || event instanceof SessionEvent.SessionClosed
        || event instanceof SessionEvent.ControlHandedBack) {
      unanswered.clear(); // what was asked before the floor changed hands is not this agent's to answer now
    }
  }

  /** The offset of the question an answer of this agent ({@code demo-<offset>}, or {@code demo-<offset>-<lease>} when redone) is for. */
  static Long questionOf(String messageId) {
    if (messageId == null || !messageId.startsWith("demo-")) return null;
    String rest = messageId.substring("demo-".length());
    int dash = rest.indexOf('-');
    try {
      return Long.parseLong(dash < 0 ? rest : rest.substring(0, dash));
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private void finishLookBack() {
    replayUntil = -1;
    if (hasFloor) {
      for (SessionEvent.MessagePosted q : unanswered.values()) {
        if (answeredOnce.contains(q.offset())) redone.add(q.offset());
      }
      questions.addAll(unanswered.values());
    }
    unanswered.clear();
    asked.clear();
    answeredOnce.clear();
    if (streaming == null) startAnswer();
  }

  private void startAnswer() {
    SessionEvent.MessagePosted question = questions.poll();
    if (question == null) return;
    // A redone answer (its first one was cut off by a failover) gets its own ID: message IDs are never reused.
    streaming = redone.remove(question.offset()) ? "demo-" + question.offset() + "-" + lease : "demo-" + question.offset();
    startedHere.add(streaming);
    tokens.addAll(answerTo(question.text()));
    enqueue(new AppendBody.SetStatus(AgentStatus.THINKING, null));
    enqueue(new AppendBody.StartStream(streaming));
    enqueue(new AppendBody.SetStatus(AgentStatus.STREAMING, null));
    timers.startTimerAtFixedRate(NextToken.INSTANCE, tokenInterval);
  }

  private void stopAnswer(EndReason reason) {
    // Stop now: no further token after the signal has been seen, even one already queued.
    timers.cancel(NextToken.INSTANCE);
    tokens.clear();
    String stopped = streaming;
    outbox.removeIf(b -> b instanceof AppendBody.AppendDelta d && d.messageId().equals(stopped));
    enqueue(new AppendBody.EndStream(stopped, reason, null));
    enqueue(new AppendBody.SetStatus(AgentStatus.IDLE, null));
    streaming = null;
  }

  private Behavior<Command> nextToken() {
    if (streaming == null) return Behaviors.same();
    String token = tokens.poll();
    if (token != null) {
      enqueue(new AppendBody.AppendDelta(streaming, token));
    } else {
      timers.cancel(NextToken.INSTANCE);
      enqueue(new AppendBody.EndStream(streaming, EndReason.COMPLETE, null));
      enqueue(new AppendBody.SetStatus(AgentStatus.IDLE, null));
      streaming = null;
      startAnswer();
    }
    return Behaviors.same();
  }

  private void enqueue(AppendBody body) {
    outbox.add(body);
    sendNext();
  }

  private void sendNext() {
    while (inFlight.size() < WINDOW && !outbox.isEmpty()) {
      InFlight sent = new InFlight(nextSeq++, outbox.poll());
      inFlight.add(sent);
      ProducerStamp stamp = new ProducerStamp("demo-agent", epoch, sent.seq());
      ctx.ask(Outcome.class, session, Duration.ofSeconds(5),
          replyTo -> new SessionCommand.Append(AGENT, sent.body(), stamp, lease, replyTo),
          (outcome, failure) -> new Answered(sent, outcome, failure));
    }
  }

  /**
   * Accepted: done. Refused: that sequence was not used, so everything sent after it will be
   * refused as a gap; those are taken back and sent again with renumbered sequences. Timed
   * out: everything from it on is sent again (with the same sequence first: a duplicate if it
   * was written after all).
   */
  private Behavior<Command> onAnswered(Answered m) {
    if (!inFlight.contains(m.sent())) return Behaviors.same(); // taken back already; its answer is the expected gap refusal
    Outcome.Refused refused = m.outcome() instanceof Outcome.Refused r ? r : null;
    if (refused != null && refused.code() == ErrorCode.STALE_LEASE) {
      LOG.info("demo agent leaves {}: its lease {} moved on", sessionId, lease);
      return Behaviors.stopped(); // fenced: another agent has the session now
    }
    if (m.outcome() instanceof Outcome.Accepted) {
      inFlight.remove(m.sent());
      sendNext();
      return Behaviors.same();
    }
    // Not written. A gap (appends before it were lost on the way, say while the session moved),
    // an unanswered ask, or a session that could not write now: the append itself is fine and is
    // sent again, in order. Any other refusal is of this append: it is dropped.
    boolean gap = refused != null && refused.code() == ErrorCode.SEQUENCE_GAP;
    boolean later = refused != null && (refused.code() == ErrorCode.UNAVAILABLE || refused.code() == ErrorCode.TIMEOUT);
    boolean keep = m.failure() != null || gap || later;
    if (!gap) {
      LOG.info("demo agent append {} in {} {}", m.sent().seq(), sessionId,
          refused != null ? "refused: " + refused : "unanswered: " + m.failure());
    }
    Deque<AppendBody> takenBack = new ArrayDeque<>();
    while (!inFlight.isEmpty() && inFlight.peekLast().seq() >= m.sent().seq()) {
      InFlight last = inFlight.pollLast();
      if (last != m.sent() || keep) takenBack.addFirst(last.body());
    }
    while (!takenBack.isEmpty()) outbox.addFirst(takenBack.pollLast());
    nextSeq = m.sent().seq();
    // After a gap, the earlier appends still out decide: written (then these follow) or
    // unanswered (then everything from there is sent again). After a refusal for now, pause.
    if (gap && !inFlight.isEmpty()) return Behaviors.same();
    if (later || gap) {
      timers.startSingleTimer(Resend.INSTANCE, Duration.ofMillis(500));
      return Behaviors.same();
    }
    sendNext();
    return Behaviors.same();
  }

  /**
   * About 2 s of tokens; a question with the word "long" in it gets ten times as many (about
   * 20 s), long enough to press Ctrl-C, reload a page or type an interrupt in the middle.
   */
  static List<String> answerTo(String question) {
    String quoted = question.length() > 80 ? question.substring(0, 80) + "..." : question;
    String answer = "You said: \"" + quoted + "\". This answer streams from the Durable Sessions demo agent one token at a time. "
        + "Drop the connection now and reconnect with the last offset you saw: you will get exactly the rest, nothing twice. "
        + "Open a second device on the same session and it sees the same stream. Send an interrupt signal and I stop at once.";
    boolean asksForLong = java.util.Arrays.asList(question.toLowerCase(java.util.Locale.ROOT).split("\\W+")).contains("long");
    List<String> out = new java.util.ArrayList<>();
    for (int part = 1; part <= (asksForLong ? 10 : 1); part++) {
      if (asksForLong) out.add("(" + part + "/10) ");
      for (String word : answer.split(" ")) out.add(word + " ");
    }
    return out;
  }
}
