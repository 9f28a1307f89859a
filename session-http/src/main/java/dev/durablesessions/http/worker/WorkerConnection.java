package dev.durablesessions.http.worker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.durablesessions.http.Json;
import dev.durablesessions.http.auth.Identity;
import dev.durablesessions.http.rest.SessionQueries;
import dev.durablesessions.http.socket.Inbound;
import dev.durablesessions.session.dispatch.Dispatcher;
import dev.durablesessions.session.dispatch.Pool;
import dev.durablesessions.session.dispatch.Pools;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.http.javadsl.model.ws.Message;
import org.apache.pekko.http.javadsl.model.ws.TextMessage;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.QueueOfferResult;

/**
 * One agent worker's socket ({@code GET /v1/workers}, PROTOCOL.md): reads its frames, keeps
 * what it holds, registers it with the {@link Dispatcher} on its hello and on every frame
 * after (at most every {@link #RENEW_EVERY}), and turns the dispatcher's messages into frames,
 * an assignment with the session's resume package. Nothing here decides anything: the
 * dispatcher places sessions, the sessions take leases.
 */
public final class WorkerConnection {
  private WorkerConnection() {}

  public sealed interface Command {}

  record StreamInit(ActorRef<Ack> ackTo) implements Command {}

  record Incoming(ActorRef<Ack> ackTo, Inbound message) implements Command {}

  enum StreamCompleted implements Command { INSTANCE }

  record StreamFailed(Throwable cause) implements Command {}

  public enum Ack { INSTANCE }

  private record FromDispatcher(Dispatcher.ToWorker message) implements Command {}

  private record ResumeRead(Dispatcher.Assigned assigned, SessionQueries.Answer answer, Throwable failure) implements Command {}

  private enum CheckSilence implements Command { INSTANCE }

  private enum TokenExpired implements Command { INSTANCE }

  /** This node is shutting down. */
  public enum ServerClosing implements Command { INSTANCE }

  static final int MAX_CAPACITY = 10_000;
  private static final Duration HELLO_WITHIN = Duration.ofSeconds(10);
  private static final Duration RENEW_EVERY = Duration.ofMillis(200);
  /** Lateness of the silence check that still counts as the worker's silence; beyond it, the node itself did not run. */
  private static final Duration PAUSE_TOLERANCE = Duration.ofMillis(300);

  /** Reads the resume package an assignment carries (a seam for tests; the node reads it through {@link SessionQueries}). */
  @FunctionalInterface
  interface ResumeReader {
    CompletionStage<SessionQueries.Answer> resume(String sessionId, Identity identity);
  }

  public static Behavior<Command> create(
      Identity identity, BoundedSourceQueue<Message> out, ActorRef<Dispatcher.Command> dispatcher, Pools pools, SessionQueries queries) {
    return create(identity, out, dispatcher, pools, (sessionId, who) -> queries.resume(sessionId, who, Optional.of(0L)));
  }

  static Behavior<Command> create(
      Identity identity, BoundedSourceQueue<Message> out, ActorRef<Dispatcher.Command> dispatcher, Pools pools, ResumeReader resumes) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
        new WorkerConnection.Socket(ctx, timers, identity, out, dispatcher, pools, resumes).behavior()));
  }

  private static final class Socket {
    private final ActorContext<Command> ctx;
    private final TimerScheduler<Command> timers;
    private final Identity identity;
    private final BoundedSourceQueue<Message> out;
    private final ActorRef<Dispatcher.Command> dispatcher;
    private final Pools pools;
    private final ResumeReader resumes;
    private final ActorRef<Dispatcher.ToWorker> self;
    /** Sessions this worker holds now, with their leases. */
    private final Map<String, Long> holding = new LinkedHashMap<>();
    /**
     * Sessions of {@link #holding} the worker knows it holds: their {@code assign} went out, or the
     * {@code welcome} listed them as kept. A lease that ends before its {@code assign} went out
     * (the resume read is still running) ends silently: a {@code revoke} for a lease the worker
     * never saw would only confuse it.
     */
    private final Set<String> announced = new HashSet<>();
    private Pool pool;
    private int capacity;
    private Instant lastHeard = Instant.now();
    /** When the silence check last ran: a check far later than its interval means this node paused, which is not the worker's silence. */
    private Instant lastChecked;
    private Instant lastRenewed = Instant.EPOCH;
    private boolean closed;

    Socket(ActorContext<Command> ctx, TimerScheduler<Command> timers, Identity identity, BoundedSourceQueue<Message> out,
        ActorRef<Dispatcher.Command> dispatcher, Pools pools, ResumeReader resumes) {
      this.ctx = ctx;
      this.timers = timers;
      this.identity = identity;
      this.out = out;
      this.dispatcher = dispatcher;
      this.pools = pools;
      this.resumes = resumes;
      this.self = ctx.messageAdapter(Dispatcher.ToWorker.class, FromDispatcher::new);
      timers.startSingleTimer(CheckSilence.INSTANCE, HELLO_WITHIN);
      if (identity.expiresAt() != null) {
        Duration left = Duration.between(Instant.now(), identity.expiresAt());
        timers.startSingleTimer(TokenExpired.INSTANCE, left.isNegative() ? Duration.ZERO : left);
      }
    }

    Behavior<Command> behavior() {
      return Behaviors.receive(Command.class)
          .onMessage(StreamInit.class, m -> {
            m.ackTo().tell(Ack.INSTANCE);
            return Behaviors.same();
          })
          .onMessage(Incoming.class, m -> {
            m.ackTo().tell(Ack.INSTANCE);
            onFrame(m.message());
            return Behaviors.same();
          })
          .onMessage(FromDispatcher.class, m -> {
            onDispatcher(m.message());
            return Behaviors.same();
          })
          .onMessage(ResumeRead.class, this::onResume)
          .onMessage(CheckSilence.class, m -> checkSilence())
          .onMessage(TokenExpired.class, m -> close("token_expired", "the token has expired; reconnect with a fresh one, listing what you hold", true))
          .onMessage(ServerClosing.class, m -> close("server_shutdown", "this node is shutting down; reconnect (to any node), listing what you hold", true))
          .onMessage(StreamCompleted.class, m -> ended())
          .onMessage(StreamFailed.class, m -> ended())
          .build();
    }

    // ------------------------------------------------------------ from the worker

    private void onFrame(Inbound inbound) {
      if (closed) return;
      lastHeard = Instant.now();
      if (!(inbound instanceof Inbound.Text text)) {
        error("invalid_frame", inbound instanceof Inbound.TooLarge ? "the frame is too large" : "frames are JSON text", null);
        return;
      }
      JsonNode frame;
      try {
        frame = Json.readClient(text.text());
      } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
        error("invalid_frame", "not JSON: " + e.getOriginalMessage(), null);
        return;
      }
      String ref = frame.path("ref").isTextual() ? frame.path("ref").textValue() : null;
      String type = frame.path("type").isTextual() ? frame.path("type").textValue() : null;
      if (type == null) {
        error("invalid_frame", "a frame is a JSON object with a string type", ref);
        return;
      }
      if (pool == null && !type.equals("hello")) {
        error("invalid_frame", "the first frame is hello", ref);
        return;
      }
      switch (type) {
        case "hello" -> hello(frame, ref);
        case "heartbeat" -> renew(true);
        case "release" -> release(frame, ref);
        case "capacity" -> {
          Integer c = capacityOf(frame, ref);
          if (c != null) {
            capacity = c;
            renew(true);
          }
        }
        default -> error("invalid_frame", "unknown frame type " + type + " (hello, heartbeat, release, capacity)", ref);
      }
    }

    private void hello(JsonNode frame, String ref) {
      if (pool != null) {
        error("invalid_frame", "hello was sent already", ref);
        return;
      }
      String poolName = frame.path("pool").isTextual() ? frame.path("pool").textValue() : null;
      if (poolName == null) {
        refuseHello("invalid_frame", "hello names its pool", ref);
        return;
      }
      Pool named = pools.get(poolName);
      if (named == null || named.mode() != Pool.Mode.WORKERS) {
        refuseHello("unknown_pool", named == null ? "no pool " + poolName + " on this node" : "pool " + poolName + " is not a workers pool", ref);
        return;
      }
      Integer c = capacityOf(frame, ref);
      if (c == null) {
        refuseHello(null, null, ref);
        return;
      }
      Map<String, Long> held = new LinkedHashMap<>();
      JsonNode list = frame.path("holding");
      if (!list.isMissingNode() && !list.isNull()) {
        if (!list.isArray()) {
          refuseHello("invalid_frame", "holding is an array of {sessionId, lease}", ref);
          return;
        }
        for (JsonNode h : list) {
          if (!h.path("sessionId").isTextual() || !h.path("lease").canConvertToLong() || !h.path("lease").isIntegralNumber()
              || h.path("lease").asLong() < 1) {
            refuseHello("invalid_frame", "holding is an array of {sessionId, lease}, lease an integer >= 1", ref);
            return;
          }
          held.put(h.path("sessionId").textValue(), h.path("lease").asLong());
        }
      }
      pool = named;
      capacity = c;
      timers.startTimerWithFixedDelay(CheckSilence.INSTANCE, pool.heartbeatInterval());
      dispatcher.tell(new Dispatcher.WorkerUp(identity.subject(), identity.subject(), pool.name(), capacity, identity.sessions(),
          held, true, self));
      lastRenewed = Instant.now();
    }

    private void refuseHello(String code, String message, String ref) {
      if (code != null) error(code, message, ref);
      close(code == null ? "invalid_frame" : code, "the hello was refused", false);
    }

    private Integer capacityOf(JsonNode frame, String ref) {
      JsonNode c = frame.path("capacity");
      if (!c.isIntegralNumber() || !c.canConvertToInt() || c.asInt() < 0 || c.asInt() > MAX_CAPACITY) {
        error("invalid_frame", "capacity is an integer from 0 to " + MAX_CAPACITY, ref);
        return null;
      }
      return c.asInt();
    }

    private void release(JsonNode frame, String ref) {
      JsonNode lease = frame.path("lease");
      JsonNode reason = frame.path("reason");
      if (!frame.path("sessionId").isTextual() || !lease.isIntegralNumber() || !lease.canConvertToLong()
          || (!reason.isMissingNode() && !reason.isNull() && (!reason.isTextual() || reason.textValue().length() > 200))) {
        error("invalid_frame", "release has sessionId (string), lease (integer) and an optional reason (at most 200 characters)", ref);
        return;
      }
      String sessionId = frame.path("sessionId").textValue();
      Long held = holding.get(sessionId);
      if (held == null || held != lease.asLong()) {
        error("stale_lease", "this worker does not hold lease " + lease.asLong() + " of " + sessionId, ref);
        return;
      }
      dispatcher.tell(new Dispatcher.Release(identity.subject(), sessionId, lease.asLong(),
          reason.isTextual() ? reason.textValue() : "released"));
      renew(false);
    }

    /** Registers again with what this worker holds: renews its leases (and re-registers it with a new dispatcher incarnation). */
    private void renew(boolean now) {
      Instant at = Instant.now();
      if (!now && Duration.between(lastRenewed, at).compareTo(RENEW_EVERY) < 0) return;
      lastRenewed = at;
      dispatcher.tell(new Dispatcher.WorkerUp(identity.subject(), identity.subject(), pool.name(), capacity, identity.sessions(),
          Map.copyOf(holding), false, self));
    }

    private Behavior<Command> checkSilence() {
      if (closed) return Behaviors.same();
      if (pool == null) return close("invalid_frame", "no hello within " + HELLO_WITHIN.toSeconds() + " s", false);
      Instant now = Instant.now();
      if (lastChecked != null) {
        Duration late = Duration.between(lastChecked, now).minus(pool.heartbeatInterval()).minus(PAUSE_TOLERANCE);
        if (late.compareTo(Duration.ZERO) > 0) lastHeard = lastHeard.plus(late);
      }
      lastChecked = now;
      if (Duration.between(lastHeard, now).compareTo(pool.leaseTimeout()) > 0) {
        return close("heartbeat_timeout", "nothing heard for the pool's lease timeout; reconnect, listing what you hold", true);
      }
      return Behaviors.same();
    }

    // ------------------------------------------------------------ from the dispatcher

    private void onDispatcher(Dispatcher.ToWorker message) {
      if (closed) return;
      if (message instanceof Dispatcher.Welcome w) {
        holding.clear();
        holding.putAll(w.kept());
        announced.clear();
        announced.addAll(w.kept().keySet());
        ObjectNode f = frame("welcome");
        f.put("worker", w.worker()).put("pool", w.pool()).put("capacity", w.capacity())
            .put("leaseTimeoutMs", w.leaseTimeoutMs()).put("heartbeatIntervalMs", w.heartbeatIntervalMs());
        f.set("kept", leases(w.kept()));
        f.set("lost", leases(w.lost()));
        send(f);
      } else if (message instanceof Dispatcher.Assigned a) {
        holding.put(a.sessionId(), a.lease());
        announced.remove(a.sessionId());
        // The worker gets the session's resume package with its assignment: what is open, what is unanswered.
        ctx.pipeToSelf(resumes.resume(a.sessionId(), identity), (answer, failure) -> new ResumeRead(a, answer, failure));
      } else if (message instanceof Dispatcher.Revoked r) {
        if (holding.remove(r.sessionId(), r.lease()) && announced.remove(r.sessionId())) {
          ObjectNode f = frame("revoke");
          f.put("sessionId", r.sessionId()).put("lease", r.lease()).put("reason", r.reason());
          send(f);
        }
      } else if (message instanceof Dispatcher.Released r) {
        if (holding.remove(r.sessionId(), r.lease())) announced.remove(r.sessionId());
        ObjectNode f = frame("released");
        f.put("sessionId", r.sessionId()).put("lease", r.lease());
        send(f);
      } else if (message instanceof Dispatcher.ReleaseRefused r) {
        ObjectNode f = frame("error");
        f.put("code", r.code()).put("message", r.message());
        send(f);
      } else if (message instanceof Dispatcher.Replaced) {
        close("replaced", "this worker connected again elsewhere", false);
      }
    }

    private Behavior<Command> onResume(ResumeRead read) {
      Dispatcher.Assigned a = read.assigned();
      if (closed || !Long.valueOf(a.lease()).equals(holding.get(a.sessionId()))) return Behaviors.same(); // revoked meanwhile
      ObjectNode f = frame("assign");
      f.put("sessionId", a.sessionId()).put("lease", a.lease()).put("reason", a.reason()).put("offset", a.offset());
      if (read.answer() instanceof SessionQueries.Answer.Ok ok) {
        f.set("resume", Json.MAPPER.valueToTree(ok.body()));
      } else {
        // The worker can read it itself (GET .../resume); the assignment stands either way.
        ctx.getLog().info("no resume package for the assignment of {} to {}: {}", a.sessionId(), identity.subject(),
            read.failure() != null ? read.failure().toString() : read.answer());
        f.putNull("resume");
      }
      announced.add(a.sessionId());
      send(f);
      return Behaviors.same();
    }

    // ------------------------------------------------------------ frames

    private static ObjectNode frame(String type) {
      ObjectNode f = Json.MAPPER.createObjectNode();
      f.put("type", type);
      return f;
    }

    private static com.fasterxml.jackson.databind.node.ArrayNode leases(Map<String, Long> leases) {
      var array = Json.MAPPER.createArrayNode();
      leases.forEach((s, l) -> array.addObject().put("sessionId", s).put("lease", l));
      return array;
    }

    private void error(String code, String message, String ref) {
      ObjectNode f = frame("error");
      f.put("code", code).put("message", message);
      if (ref != null) f.put("ref", ref);
      send(f);
    }

    private void send(ObjectNode frame) {
      QueueOfferResult r = out.offer(TextMessage.create(Json.write(frame)));
      if (!(r instanceof QueueOfferResult.Enqueued$)) {
        // A worker that does not read its frames cannot hold sessions: cut it; its leases end after the lease timeout.
        ctx.getLog().warn("worker {} does not read its frames ({}); closing its socket", identity.subject(), r);
        closed = true;
        out.fail(new IllegalStateException("worker too slow"));
      }
    }

    private Behavior<Command> close(String code, String reason, boolean resumable) {
      if (!closed) {
        ObjectNode f = frame("closing");
        f.put("code", code).put("reason", reason).put("resumable", resumable);
        send(f);
        closed = true;
        out.complete();
      }
      return Behaviors.same();
    }

    private Behavior<Command> ended() {
      if (pool != null) dispatcher.tell(new Dispatcher.WorkerDown(identity.subject(), self));
      return Behaviors.stopped();
    }
  }

  /** For tests and docs: the frame types a worker may send. */
  static final List<String> CLIENT_FRAMES = List.of("hello", "heartbeat", "release", "capacity");
}
