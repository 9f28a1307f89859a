package dev.durablesessions.http.worker;

import dev.durablesessions.http.ApiError;
import dev.durablesessions.http.auth.Identity;
import dev.durablesessions.http.rest.SessionQueries;
import dev.durablesessions.http.socket.Connections;
import dev.durablesessions.session.ErrorCode;
import dev.durablesessions.session.Role;
import dev.durablesessions.session.dispatch.Dispatcher;
import dev.durablesessions.session.dispatch.Pools;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.ws.Message;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.typed.javadsl.ActorSink;

/**
 * The agent worker socket ({@code GET /v1/workers}) and the dispatch listing
 * ({@code GET /v1/pools}), PROTOCOL.md. Both behind the bearer token check of the API.
 */
public final class WorkerRoutes extends AllDirectives {
  private static final int OUTBOUND_BUFFER = 1024;
  private static final int MAX_FRAME_BYTES = 64 * 1024;

  private final ActorSystem<?> system;
  private final ActorRef<Dispatcher.Command> dispatcher;
  private final Pools pools;
  private final SessionQueries queries;
  private final Duration askTimeout;
  private final java.util.Set<ActorRef<WorkerConnection.Command>> open = java.util.concurrent.ConcurrentHashMap.newKeySet();

  public WorkerRoutes(ActorSystem<?> system, SessionQueries queries, Duration askTimeout) {
    this.system = system;
    this.pools = Pools.fromConfig(system.settings().config());
    this.dispatcher = Dispatcher.proxy(system);
    this.queries = queries;
    this.askTimeout = askTimeout;
    // Worker sockets close before the node leaves, so workers reconnect elsewhere at once.
    org.apache.pekko.actor.CoordinatedShutdown.get(system).addTask(
        org.apache.pekko.actor.CoordinatedShutdown.PhaseServiceRequestsDone(), "close-worker-sockets", () -> {
          open.forEach(c -> c.tell(WorkerConnection.ServerClosing.INSTANCE));
          return java.util.concurrent.CompletableFuture.completedFuture(Done.getInstance());
        });
  }

  public Route workers(Identity identity) {
    return pathEnd(() -> get(() -> {
      if (identity.role() != Role.AGENT) {
        return complete(ApiError.response(ErrorCode.FORBIDDEN, "agent workers connect with a token of role agent"));
      }
      return extractWebSocketUpgrade(upgrade -> complete(upgrade.handleMessagesWith(flow(identity))));
    }));
  }

  public Route pools(Identity identity) {
    return pathEnd(() -> get(() -> {
      if (identity.role() != Role.ADMIN && identity.role() != Role.SUPPORT) {
        return complete(ApiError.response(ErrorCode.FORBIDDEN, "the dispatch listing is for roles admin and support"));
      }
      CompletionStage<Dispatcher.Listing> listing =
          AskPattern.ask(dispatcher, Dispatcher.GetListing::new, askTimeout, system.scheduler());
      return onComplete(listing, tried -> tried.isSuccess()
          ? complete(dev.durablesessions.http.rest.SessionRoutes.json(StatusCodes.OK, visible(tried.get(), identity)))
          : complete(ApiError.response(ErrorCode.TIMEOUT, "the dispatcher did not answer in time")));
    }));
  }

  /** Waiting sessions the token does not cover are left out. */
  private static Map<String, Object> visible(Dispatcher.Listing listing, Identity identity) {
    List<Object> pools = new ArrayList<>();
    for (Dispatcher.PoolView p : listing.pools()) {
      Map<String, Object> view = new LinkedHashMap<>();
      view.put("name", p.name());
      view.put("mode", p.mode());
      view.put("leaseTimeoutMs", p.leaseTimeoutMs());
      view.put("heartbeatIntervalMs", p.heartbeatIntervalMs());
      view.put("workers", p.workers());
      view.put("waiting", p.waiting().stream().filter(w -> identity.mayJoin(w.sessionId())).toList());
      pools.add(view);
    }
    return Map.of("pools", pools);
  }

  private Flow<Message, Message, NotUsed> flow(Identity identity) {
    Materializer mat = Materializer.matFromSystem(system);
    Pair<BoundedSourceQueue<Message>, Source<Message, NotUsed>> out = Source.<Message>queue(OUTBOUND_BUFFER).preMaterialize(mat);
    ActorRef<WorkerConnection.Command> connection = system.systemActorOf(
        Behaviors.supervise(WorkerConnection.create(identity, out.first(), dispatcher, pools, queries)).onFailure(SupervisorStrategy.stop()),
        "worker-" + java.util.UUID.randomUUID(), org.apache.pekko.actor.typed.Props.empty());
    open.add(connection);
    Sink<Message, NotUsed> in = Flow.<Message>create()
        .mapAsync(1, message -> Connections.bounded(message, MAX_FRAME_BYTES, mat))
        .to(ActorSink.actorRefWithBackpressure(
            connection,
            (ActorRef<WorkerConnection.Ack> ackTo, dev.durablesessions.http.socket.Inbound m) -> new WorkerConnection.Incoming(ackTo, m),
            WorkerConnection.StreamInit::new,
            WorkerConnection.Ack.INSTANCE,
            WorkerConnection.StreamCompleted.INSTANCE,
            WorkerConnection.StreamFailed::new));
    Source<Message, NotUsed> outbound = out.second().watchTermination((nu, done) -> {
      done.whenComplete((d, f) -> {
        open.remove(connection);
        connection.tell(WorkerConnection.StreamCompleted.INSTANCE);
      });
      return nu;
    });
    return Flow.fromSinkAndSourceCoupled(in, outbound);
  }
}
