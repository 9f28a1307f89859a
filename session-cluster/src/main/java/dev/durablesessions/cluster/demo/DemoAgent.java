package dev.durablesessions.cluster.demo;

import dev.durablesessions.session.AppendBody;
import dev.durablesessions.session.EndReason;
import dev.durablesessions.session.Outcome;
import dev.durablesessions.session.Participant;
import dev.durablesessions.session.Role;
import dev.durablesessions.session.SessionCommand;
import dev.durablesessions.session.SessionEntity;
import dev.durablesessions.session.SessionEvent;
import dev.durablesessions.session.SignalKind;
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
 * token by token (about 30 tokens per second by default), takes steering into account, and
 * stops at once when interrupted or cancelled. It is a participant like any other (role
 * agent), uses an idempotent producer, and follows the session through a {@link SessionFollower}.
 */
public final class DemoAgent {
  public static final Participant AGENT = Participant.of("demo-agent", Role.AGENT);

  interface Command {}

  private record FromFollower(SessionFollower.Delivery delivery) implements Command {}

  private record Started(SummaryReply reply, Throwable failure) implements Command {}

  private record Answered(Outcome outcome) implements Command {}

  private enum NextToken implements Command { INSTANCE }

  public static Behavior<Command> create(
      ClusterSharding sharding, SessionJournal journal, FollowerSettings followerSettings, String sessionId, Duration tokenInterval) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
        new DemoAgent(ctx, timers, sharding, journal, followerSettings, sessionId, tokenInterval).starting()));
  }

  private final ActorContext<Command> ctx;
  private final TimerScheduler<Command> timers;
  private final ClusterSharding sharding;
  private final SessionJournal journal;
  private final FollowerSettings followerSettings;
  private final String sessionId;
  private final Duration tokenInterval;
  private final EntityRef<SessionCommand> session;
  private final ActorRef<Outcome> answers;
  /** A new epoch per incarnation fences whatever an older one still has in flight. */
  private final long epoch = System.currentTimeMillis();
  private long seq;
  private ActorRef<SessionFollower.Command> follower;
  private final Deque<SessionEvent.MessagePosted> questions = new ArrayDeque<>();
  private String streaming;
  private final Deque<String> tokens = new ArrayDeque<>();

  private DemoAgent(
      ActorContext<Command> ctx, TimerScheduler<Command> timers, ClusterSharding sharding, SessionJournal journal,
      FollowerSettings followerSettings, String sessionId, Duration tokenInterval) {
    this.ctx = ctx;
    this.timers = timers;
    this.sharding = sharding;
    this.journal = journal;
    this.followerSettings = followerSettings;
    this.sessionId = sessionId;
    this.tokenInterval = tokenInterval;
    this.session = sharding.entityRefFor(SessionEntity.TYPE_KEY, sessionId);
    this.answers = ctx.messageAdapter(Outcome.class, Answered::new);
  }

  private Behavior<Command> starting() {
    ctx.ask(SummaryReply.class, session, Duration.ofSeconds(10), SessionCommand.GetSummary::new, Started::new);
    return Behaviors.receive(Command.class)
        .onMessage(Started.class, started -> {
          if (!(started.reply() instanceof SummaryReply.Summary summary)) {
            ctx.getLog().warn("demo agent could not start in {}: {}", sessionId, started);
            return Behaviors.stopped();
          }
          session.tell(new SessionCommand.Join(AGENT, answers));
          // A previous incarnation of this agent may have died mid-answer: close what it left open.
          for (String open : summary.openStreams()) {
            if (open.startsWith("demo-")) {
              // Unstamped: it may be refused (another agent's stream), and a refusal must not use up a sequence.
              session.tell(new SessionCommand.Append(AGENT, new AppendBody.EndStream(open, EndReason.ERROR, "agent restarted"), null, answers));
            }
          }
          // Answer only what arrives from now on.
          ActorRef<SessionFollower.Delivery> deliveries = ctx.messageAdapter(SessionFollower.Delivery.class, FromFollower::new);
          follower = ctx.spawn(SessionFollower.create(sharding, journal, followerSettings, sessionId, AGENT, summary.head(), deliveries), "follower");
          return running();
        })
        .build();
  }

  private Behavior<Command> running() {
    return Behaviors.receive(Command.class)
        .onMessage(FromFollower.class, m -> onDelivery(m.delivery()))
        .onMessage(NextToken.class, m -> nextToken())
        .onMessage(Answered.class, m -> {
          if (m.outcome() instanceof Outcome.Refused r) ctx.getLog().debug("demo agent append refused in {}: {}", sessionId, r);
          return Behaviors.same();
        })
        .build();
  }

  private Behavior<Command> onDelivery(SessionFollower.Delivery delivery) {
    if (delivery instanceof SessionFollower.Deliver d) {
      for (SessionEvent event : d.events()) onEvent(event);
      if (d.wantsReady()) follower.tell(SessionFollower.Ready.INSTANCE);
    } else if (delivery instanceof SessionFollower.Failed f) {
      ctx.getLog().info("demo agent leaves {}: {}", sessionId, f.message());
      return Behaviors.stopped();
    }
    return Behaviors.same();
  }

  private void onEvent(SessionEvent event) {
    if (event.by().id().equals(AGENT.id())) return;
    if (event instanceof SessionEvent.MessagePosted m && (m.by().role() == Role.USER || m.by().role() == Role.HUMAN)) {
      questions.add(m);
      if (streaming == null) startAnswer();
    } else if (event instanceof SessionEvent.SignalSent s && s.to().addresses(AGENT)) {
      if (s.kind() == SignalKind.INTERRUPT || s.kind() == SignalKind.CANCEL) {
        if (streaming != null) {
          // Stop now: no further token after the signal has been seen.
          timers.cancel(NextToken.INSTANCE);
          tokens.clear();
          append(new AppendBody.EndStream(streaming, EndReason.CANCELLED, null));
          streaming = null;
        }
        questions.clear();
      } else if (s.kind() == SignalKind.STEER && streaming != null && s.text() != null) {
        tokens.addFirst("[steered: " + s.text() + "] ");
      }
    }
  }

  private void startAnswer() {
    SessionEvent.MessagePosted question = questions.poll();
    if (question == null) return;
    streaming = "demo-" + question.offset();
    tokens.addAll(answerTo(question.text()));
    append(new AppendBody.StartStream(streaming));
    timers.startTimerAtFixedRate(NextToken.INSTANCE, tokenInterval);
  }

  private Behavior<Command> nextToken() {
    if (streaming == null) return Behaviors.same();
    String token = tokens.poll();
    if (token != null) {
      append(new AppendBody.AppendDelta(streaming, token));
    } else {
      timers.cancel(NextToken.INSTANCE);
      append(new AppendBody.EndStream(streaming, EndReason.COMPLETE, null));
      streaming = null;
      startAnswer();
    }
    return Behaviors.same();
  }

  private void append(AppendBody body) {
    session.tell(new SessionCommand.Append(AGENT, body, new ProducerStamp("demo-agent/" + sessionId, epoch, seq++), answers));
  }

  static List<String> answerTo(String question) {
    String quoted = question.length() > 80 ? question.substring(0, 80) + "..." : question;
    String answer = "You said: \"" + quoted + "\". This answer streams from the Durable Sessions demo agent one token at a time. "
        + "Drop the connection now and reconnect with the last offset you saw: you will get exactly the rest, nothing twice. "
        + "Open a second device on the same session and it sees the same stream. Send an interrupt signal and I stop at once.";
    List<String> out = new java.util.ArrayList<>();
    for (String word : answer.split(" ")) out.add(word + " ");
    return out;
  }
}
