package dev.durablesessions.http.socket;

import dev.durablesessions.http.auth.Identity;
import dev.durablesessions.http.auth.Tokens;
import dev.durablesessions.http.limits.RateLimits;
import dev.durablesessions.session.resume.FollowerSettings;
import dev.durablesessions.session.resume.SessionJournal;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.http.javadsl.model.ws.Message;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.KillSwitches;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.UniqueKillSwitch;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.typed.javadsl.ActorSink;
import org.apache.pekko.util.ByteString;

/**
 * The parent of every connection actor on this node: it spawns one per socket (stopped, not
 * restarted, if it fails: the client reconnects and resumes) and builds the socket's flow.
 */
public final class Connections {

  public sealed interface Command {}

  /** Open a socket for {@code identity} on {@code sessionId}, resuming after {@code afterOffset}. */
  public record Open(String sessionId, Identity identity, Tokens tokens, String device, ConnectionActor.Opening opening,
      ActorRef<Opened> replyTo)
      implements Command {}

  /** The answer to {@link Open}. */
  public sealed interface Opened {}

  /** The socket's flow, to upgrade the request with. */
  public record Socket(Flow<Message, Message, NotUsed> flow) implements Opened {}

  /** The subject already holds {@code limit} open sockets on this node: nothing was started. */
  public record TooManySockets(int limit) implements Opened {}

  /** A connection actor stopped: its subject holds one socket fewer. */
  private record SocketEnded(String subject) implements Command {}

  /** Coordinated shutdown: tell every socket to reconnect elsewhere, then stop. */
  public record CloseAll(ActorRef<Done> replyTo) implements Command {}

  public static Behavior<Command> create(
      SocketSettings settings, FollowerSettings followerSettings, ClusterSharding sharding, SessionJournal journal) {
    return Behaviors.setup(ctx -> {
      // Sockets close before sessions hand off, so no follower re-subscribes to a region that is shutting down.
      ActorRef<Command> self = ctx.getSelf();
      CoordinatedShutdown.get(ctx.getSystem()).addTask(CoordinatedShutdown.PhaseServiceRequestsDone(), "close-sockets",
          () -> AskPattern.<Command, Done>ask(self, CloseAll::new, Duration.ofSeconds(5), ctx.getSystem().scheduler()));
      int maxSockets = RateLimits.get(ctx.getSystem()).openSockets();
      // Open sockets per subject, counted here where every socket of the node starts and ends:
      // a socket counts until its connection actor stops. A subject leaves the map at zero.
      Map<String, Integer> sockets = new HashMap<>();
      return Behaviors.receive(Command.class)
          .onMessage(Open.class, open -> {
            String subject = open.identity().subject();
            int held = sockets.getOrDefault(subject, 0);
            if (maxSockets > 0 && held >= maxSockets) {
              RateLimits.socketRefused();
              open.replyTo().tell(new TooManySockets(maxSockets));
              return Behaviors.same();
            }
            sockets.put(subject, held + 1);
            open.replyTo().tell(new Socket(open(ctx, open, settings, followerSettings, sharding, journal)));
            return Behaviors.same();
          })
          .onMessage(SocketEnded.class, ended -> {
            sockets.computeIfPresent(ended.subject(), (subject, held) -> held > 1 ? held - 1 : null);
            return Behaviors.same();
          })
          .onMessage(CloseAll.class, close -> {
            ctx.getChildren().forEach(child -> child.unsafeUpcast().tell(ConnectionActor.ServerClosing.INSTANCE));
            close.replyTo().tell(Done.getInstance());
            return Behaviors.same();
          })
          .build();
    });
  }

  private static Flow<Message, Message, NotUsed> open(
      ActorContext<Command> ctx, Open open, SocketSettings settings, FollowerSettings followerSettings,
      ClusterSharding sharding, SessionJournal journal) {
    Materializer mat = Materializer.matFromSystem(ctx.getSystem());
    // The outbound side, materialized once (one stream actor per socket, not one per stage):
    // the frames queue, the control lane that goes ahead of it, and the kill switch.
    Pair<Pair<Pair<BoundedSourceQueue<Message>, BoundedSourceQueue<Message>>, UniqueKillSwitch>, Source<Message, NotUsed>> out =
        Source.<Message>queue(settings.outboundBuffer())
            .mergePreferredMat(Source.<Message>queue(4), true, true, Keep.both())
            .viaMat(KillSwitches.single(), Keep.both())
            .preMaterialize(mat);
    var lanes = out.first().first();
    ConnectionActor.Outbound outbound = new ConnectionActor.Outbound(lanes.first(), lanes.second(), out.first().second());

    ActorRef<ConnectionActor.Command> connection = ctx.spawnAnonymous(
        Behaviors.supervise(ConnectionActor.create(open.sessionId(), open.identity(), open.tokens(), open.device(), open.opening(), outbound,
                settings, pagedFor(settings, followerSettings, open.opening().batch()), sharding, journal))
            .onFailure(SupervisorStrategy.stop()));
    ctx.watchWith(connection, new SocketEnded(open.identity().subject()));

    int max = settings.maxFrameBytes();
    Sink<Message, NotUsed> in = Flow.<Message>create()
        .mapAsync(1, message -> bounded(message, max, mat))
        .to(ActorSink.actorRefWithBackpressure(
            connection,
            (ActorRef<ConnectionActor.Ack> ackTo, Inbound m) -> new ConnectionActor.Incoming(ackTo, m),
            ConnectionActor.StreamInit::new,
            ConnectionActor.Ack.INSTANCE,
            ConnectionActor.StreamCompleted.INSTANCE,
            ConnectionActor.StreamFailed::new));
    return Flow.fromSinkAndSourceCoupled(in, out.second());
  }

  /**
   * A backlog page, or a tail replay, must fit in half the socket's queue with room to spare for
   * live events: one frame per event, or on a batching socket a few events frames per page.
   */
  static FollowerSettings pagedFor(SocketSettings settings, FollowerSettings followerSettings, boolean batch) {
    if (batch) return followerSettings.withPageSize(Math.min(settings.batchPageSize(), settings.outboundBuffer() / 2 * settings.batchMaxEvents()));
    return followerSettings.withPageSize(Math.min(followerSettings.pageSize(), settings.outboundBuffer() / 2));
  }

  /**
   * A client message, read up to the size limit. Pekko HTTP 1.3 has no WebSocket frame limit of
   * its own, so an oversized message is drained (never buffered whole) and reported as such.
   */
  public static CompletionStage<Inbound> bounded(Message message, int maxBytes, Materializer mat) {
    if (message.isText()) {
      var text = message.asTextMessage();
      if (text.isStrict()) {
        String s = text.getStrictText();
        long bytes = s.length() > maxBytes / 4 ? s.getBytes(StandardCharsets.UTF_8).length : s.length();
        return CompletableFuture.completedFuture(bytes > maxBytes ? new Inbound.TooLarge(bytes) : new Inbound.Text(s));
      }
      return text.getStreamedText().runWith(
          Sink.fold(new StringBuilder[] {new StringBuilder()}, (acc, part) -> {
            if (acc[0] != null && acc[0].length() + part.length() > maxBytes) acc[0] = null;
            else if (acc[0] != null) acc[0].append(part);
            return acc;
          }), mat)
          .thenApply(acc -> {
            if (acc[0] == null) return new Inbound.TooLarge(maxBytes + 1L);
            String s = acc[0].toString();
            return s.getBytes(StandardCharsets.UTF_8).length > maxBytes ? new Inbound.TooLarge(maxBytes + 1L) : new Inbound.Text(s);
          });
    }
    return message.asBinaryMessage().getStreamedData().runWith(Sink.<ByteString>ignore(), mat)
        .thenApply(done -> new Inbound.Binary());
  }
}
