package dev.durablesessions.durablestream;

import dev.durablesessions.durablestream.StreamCommand.ForkGrant;
import dev.durablesessions.durablestream.StreamReply.BadRequest;
import dev.durablesessions.durablestream.StreamReply.Conflict;
import dev.durablesessions.durablestream.StreamReply.CreateReply;
import dev.durablesessions.durablestream.StreamReply.Described;
import dev.durablesessions.durablestream.StreamReply.ForkGranted;
import dev.durablesessions.durablestream.StreamReply.Meta;
import dev.durablesessions.durablestream.StreamReply.NotFound;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * Creating a stream (PUT), a fork included. A fork is a protocol between two entities: the
 * path must be free (or hold the same fork), the source must exist and have what the fork asks
 * for, and only then does the source grant a reference ({@link StreamCommand.AcquireFork},
 * written in the source) and the fork is created. A fork that is not created gives the
 * reference back, so a refused fork never keeps its source alive.
 */
public final class StreamCreation {
  private final ClusterSharding sharding;
  private final Duration askTimeout;
  private final StreamReader reader;

  public StreamCreation(ClusterSharding sharding, StreamSettings settings, StreamReader reader) {
    this.sharding = sharding;
    this.askTimeout = settings.askTimeout();
    this.reader = reader;
  }

  /**
   * Creates {@code name} as {@code config} asks ({@code config.forkedFrom()} set: as a fork of
   * that stream) with the request's content type ({@code requestType}, null when it had none)
   * and initial {@code body}.
   */
  public CompletionStage<CreateReply> create(String name, StreamConfig config, String requestType, byte[] body) {
    if (config.forkedFrom() != null) return fork(name, config, requestType, body);
    String contentType = requestType != null ? requestType : StreamRules.DEFAULT_CONTENT_TYPE;
    StreamMessages.Parsed initial = StreamMessages.body(body, StreamRules.isJson(contentType), true);
    if (initial instanceof StreamMessages.Invalid invalid) return done(new BadRequest(invalid.problem()));
    return ask(name, r -> new StreamCommand.Create(config, contentType, null, null, message(initial), r));
  }

  private CompletionStage<CreateReply> fork(String name, StreamConfig config, String requestType, byte[] body) {
    String source = config.forkedFrom();
    return this.<StreamReply.DescribeReply>ask(name, r -> new StreamCommand.Describe(false, r)).thenCompose(existing -> {
      if (!(existing instanceof NotFound)) {
        // Something lives here (or is soft-deleted): an idempotent re-create or a conflict.
        return ask(name, r -> new StreamCommand.Create(config, requestType, null, null, null, r));
      }
      return this.<StreamReply.DescribeReply>ask(source, r -> new StreamCommand.Describe(false, r)).thenCompose(described -> {
        if (described instanceof NotFound) return done(new NotFound("fork source not found"));
        if (described instanceof StreamReply.Gone) return done(new Conflict("fork source is deleted"));
        if (described instanceof StreamReply.Unavailable unavailable) return done(unavailable);
        return forkOf(name, source, ((Described) described).meta(), config, requestType, body);
      });
    });
  }

  /** The checks against the source as it stands, the sub-offset prefix, then the reference and the fork. */
  private CompletionStage<CreateReply> forkOf(String name, String source, Meta sourceMeta, StreamConfig config,
      String requestType, byte[] body) {
    if (config.contentType() != null && !config.contentType().equals(StreamRules.normalise(sourceMeta.contentType()))) {
      return done(new Conflict("a fork has its source's content type"));
    }
    long at = config.forkOffset() == null ? sourceMeta.tail() : config.forkOffset();
    if (at > sourceMeta.tail()) return done(new BadRequest("Stream-Fork-Offset is beyond the source's tail"));
    String contentType = requestType != null ? requestType : sourceMeta.contentType();
    boolean json = StreamRules.isJson(contentType);
    StreamMessages.Parsed initial = StreamMessages.body(body, json, true);
    if (initial instanceof StreamMessages.Invalid invalid) return done(new BadRequest(invalid.problem()));
    return prefix(source, at, config.subOffset(), json).thenCompose(prefix -> {
      if (prefix instanceof StreamMessages.Invalid invalid) return done(new BadRequest(invalid.problem()));
      StreamConfig resolved = new StreamConfig(config.contentType(), config.ttlSeconds(), config.expiresAt(),
          config.closed(), source, at, config.subOffset());
      return this.<StreamReply.ForkReply>ask(source, r -> new StreamCommand.AcquireFork(name, config.contentType(), at, r))
          .thenCompose(granted -> {
            // The source's refusals (not found, deleted, content type, offset, unavailable) answer the create.
            if (!(granted instanceof ForkGranted grant)) return done((CreateReply) granted);
            Meta g = grant.meta();
            ForkGrant forkGrant = new ForkGrant(source, at, g.contentType(), g.ttlSeconds(), g.expiresAt());
            return this.<CreateReply>ask(name, r -> new StreamCommand.Create(resolved, contentType, forkGrant, message(prefix),
                message(initial), r)).thenApply(created -> {
                  if (!(created instanceof StreamReply.Created)) {
                    sharding.entityRefFor(StreamEntity.TYPE_KEY, source).tell(new StreamCommand.ReleaseFork(name));
                  }
                  return created;
                });
          });
    });
  }

  /** The first {@code subOffset} bytes (or values) of the source's message at the fork point; none for 0. */
  private CompletionStage<StreamMessages.Parsed> prefix(String source, long at, long subOffset, boolean json) {
    if (subOffset == 0) return CompletableFuture.completedFuture(new StreamMessages.NoMessage());
    return reader.read(source, at, StreamOffsets.BEYOND, 0, 1, false, true).thenApply(reply -> {
      if (!(reply instanceof StreamReply.Page page) || page.messages().isEmpty()) {
        return new StreamMessages.Invalid("Stream-Fork-Sub-Offset needs a message at the fork offset");
      }
      return StreamMessages.prefix(page.messages().get(0), subOffset, json);
    });
  }

  private static StreamMessage message(StreamMessages.Parsed parsed) {
    return parsed instanceof StreamMessages.Message m ? m.message() : null;
  }

  private <R extends StreamReply> CompletionStage<R> ask(String name, Function<ActorRef<R>, StreamCommand> command) {
    return sharding.entityRefFor(StreamEntity.TYPE_KEY, name).ask(command::apply, askTimeout);
  }

  private static CompletionStage<CreateReply> done(CreateReply reply) {
    return CompletableFuture.completedFuture(reply);
  }
}
