package dev.durablesessions.bench.baseline;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;

/**
 * The bare-stack baseline of the append figure: a Pekko HTTP route that asks a no-op sharded
 * entity ({@link NoOpStream}, Cluster Sharding on a one-node cluster) for every
 * {@code POST /v1/stream/{name}} and answers 204 with its offset in {@code Stream-Next-Offset}.
 * No persistence, no auth, no protocol checks. Enough of the Durable Streams protocol for the
 * peers' load script to run: {@code PUT} creates nothing, {@code GET} reads an empty, up-to-date
 * stream (so its read figures and loss counts mean nothing here), {@code DELETE} does nothing.
 * Started by the bench in its own JVM with the node's JVM flags; port from {@code DS_HTTP_PORT}.
 */
public final class BareAppends extends AllDirectives {
  private final ActorSystem<Void> system;
  private final ClusterSharding sharding;
  private final Duration askTimeout;

  BareAppends(ActorSystem<Void> system) {
    this.system = system;
    this.sharding = ClusterSharding.get(system);
    this.askTimeout = system.settings().config().getDuration("baseline.appends.ask-timeout");
  }

  public static void main(String[] args) {
    Jvm.commonPoolAsTheNode();
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "bare-appends", ConfigFactory.load("baseline-appends"));
    Cluster cluster = Cluster.get(system);
    cluster.manager().tell(Join.create(cluster.selfMember().address())); // a cluster of one
    NoOpStream.initSharding(ClusterSharding.get(system));
    Http.get(system).newServerAt("127.0.0.1", Jvm.httpPort()).bind(new BareAppends(system).routes())
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
        path("health", () -> get(() -> Cluster.get(system).selfMember().status() == MemberStatus.up()
            ? complete("ok") : complete(StatusCodes.SERVICE_UNAVAILABLE, "joining"))),
        pathPrefix("v1", () -> pathPrefix("stream", () -> extractUnmatchedPath(name -> concat(
            put(() -> complete(HttpResponse.create().withStatus(StatusCodes.CREATED).addHeaders(offset(0)))),
            post(() -> entity(Unmarshaller.entityToString(), body -> onSuccess(
                sharding.entityRefFor(NoOpStream.KEY, name).<NoOpStream.Appended>ask(replyTo -> new NoOpStream.Append(body, replyTo), askTimeout),
                appended -> complete(HttpResponse.create().withStatus(StatusCodes.NO_CONTENT).addHeaders(offset(appended.offset())))))),
            get(() -> complete(HttpResponse.create().withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, "[]"))
                .addHeaders(List.of(RawHeader.create("Stream-Next-Offset", format(0)), RawHeader.create("Stream-Up-To-Date", "true"))))),
            delete(() -> complete(StatusCodes.NO_CONTENT)))))));
  }

  /** Zero-padded, so offsets order as strings, as the load script checks. */
  static String format(long offset) {
    return String.format("%016d", offset);
  }

  static List<HttpHeader> offset(long offset) {
    return List.of(RawHeader.create("Stream-Next-Offset", format(offset)));
  }
}
