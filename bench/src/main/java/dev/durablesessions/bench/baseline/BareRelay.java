package dev.durablesessions.bench.baseline;

import com.typesafe.config.ConfigFactory;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.ws.Message;
import org.apache.pekko.http.javadsl.model.ws.TextMessage;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.OverflowStrategy;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.typed.javadsl.ActorSource;

/**
 * The bare-stack baseline of the socket scenarios: a Pekko HTTP WebSocket relay with no
 * persistence, sharding, authentication or coalescing, serving the paths the bench uses
 * ({@code POST /v1/sessions}, {@code /v1/sessions/{id}/ws}, {@code /health}). Each socket is a
 * stream whose incoming frames go to its session's actor and whose outgoing frames come from
 * an actor-fed source, the shape of the node's connection without what the node does between.
 * Started by the bench in its own JVM with the node's JVM flags; port from {@code DS_HTTP_PORT}.
 */
public final class BareRelay extends AllDirectives {
  private final ActorSystem<Void> system;
  private final Materializer materializer;
  private final int socketBuffer;
  private final Map<String, ActorRef<SessionRelay.Command>> sessions = new ConcurrentHashMap<>();

  BareRelay(ActorSystem<Void> system) {
    this.system = system;
    this.materializer = Materializer.matFromSystem(system);
    this.socketBuffer = system.settings().config().getInt("baseline.relay.socket-buffer");
  }

  public static void main(String[] args) {
    Jvm.commonPoolAsTheNode();
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "bare-relay", ConfigFactory.load("baseline-relay"));
    Http.get(system).newServerAt("127.0.0.1", Jvm.httpPort()).bind(new BareRelay(system).routes())
        .whenComplete((binding, failure) -> {
          if (failure != null) {
            failure.printStackTrace();
            system.terminate();
          }
        });
    system.getWhenTerminated().thenRun(() -> System.exit(0));
  }

  Route routes() {
    return concat(
        path("health", () -> get(() -> complete("ok"))),
        pathPrefix("v1", () -> pathPrefix("sessions", () -> concat(
            pathEnd(() -> post(() -> complete(StatusCodes.CREATED, "{}"))), // sessions exist on first socket
            path(PathMatchers.segment().slash("ws"), id -> handleWebSocketMessages(socket(session(id))))))));
  }

  ActorRef<SessionRelay.Command> session(String id) {
    return sessions.computeIfAbsent(id, key -> system.systemActorOf(SessionRelay.create(), "session-" + key, Props.empty()));
  }

  /** One socket: frames in to the session, the session's event frames out; either side ending ends both. */
  Flow<Message, Message, NotUsed> socket(ActorRef<SessionRelay.Command> session) {
    Pair<ActorRef<String>, Source<String, NotUsed>> out = ActorSource.<String>actorRef(
        frame -> false, frame -> java.util.Optional.empty(), socketBuffer, OverflowStrategy.fail()).preMaterialize(materializer);
    session.tell(new SessionRelay.Attach(out.first()));
    Sink<Message, NotUsed> in = Flow.<Message>create()
        .mapAsync(1, message -> {
          if (!message.isText()) {
            message.asBinaryMessage().getStreamedData().runWith(Sink.ignore(), materializer);
            return CompletableFuture.completedFuture("");
          }
          TextMessage text = message.asTextMessage();
          return text.isStrict() ? CompletableFuture.completedFuture(text.getStrictText())
              : text.getStreamedText().runFold(new StringBuilder(), StringBuilder::append, materializer).thenApply(StringBuilder::toString);
        })
        .filter(text -> !text.isEmpty())
        .to(Sink.foreach(text -> session.tell(new SessionRelay.Frame(text))));
    return Flow.fromSinkAndSourceCoupled(in, out.second().map(frame -> (Message) TextMessage.create(frame)));
  }
}
