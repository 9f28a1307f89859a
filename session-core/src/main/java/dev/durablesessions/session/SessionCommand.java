package dev.durablesessions.session;

import dev.durablesessions.CborSerializable;
import dev.durablesessions.session.producer.ProducerStamp;
import org.apache.pekko.actor.typed.ActorRef;

/** The session entity's protocol. */
public sealed interface SessionCommand extends CborSerializable {

  /** Create the session in agent pool {@code pool} (null: the default pool, decided when read). */
  record Create(Participant by, String pool, ActorRef<Outcome> replyTo) implements SessionCommand {}

  /** Make the participant a member; no event if it already is one. */
  record Join(Participant participant, ActorRef<Outcome> replyTo) implements SessionCommand {}

  /** The participant says goodbye. */
  record Leave(Participant participant, ActorRef<Outcome> replyTo) implements SessionCommand {}

  /**
   * Append from {@code by}; {@code producer} is null for appends without idempotency. {@code lease}
   * is the epoch of the dispatch lease the writer holds (null: none claimed); a stale one is fenced.
   */
  record Append(Participant by, AppendBody body, ProducerStamp producer, Long lease, ActorRef<Outcome> replyTo)
      implements SessionCommand {
    public Append(Participant by, AppendBody body, ProducerStamp producer, ActorRef<Outcome> replyTo) {
      this(by, body, producer, null, replyTo);
    }
  }

  /**
   * Dispatch: give the session to worker {@code agent} as lease {@code expectedEpoch + 1}; refused
   * with lease_conflict if the session has an agent or is at another epoch (compare and set).
   */
  record Assign(String agent, long expectedEpoch, String reason, ActorRef<Outcome> replyTo) implements SessionCommand {}

  /** Dispatch: lease {@code epoch} of {@code agent} ends, released by its worker or expired; stale_lease if not current. */
  record EndLease(String agent, long epoch, dev.durablesessions.session.dispatch.LeaseRules.Ending ending, String reason,
      ActorRef<Outcome> replyTo) implements SessionCommand {}

  /**
   * Dispatch: a webhook pool's call for need {@code idempotencyKey} failed for good; the session
   * records it as {@code agent.webhook_failed} (refused, like any write, once closed or erased).
   */
  record RecordWebhookFailure(String pool, int attempts, Integer lastStatus, String error, String idempotencyKey,
      ActorRef<Outcome> replyTo) implements SessionCommand {}

  /**
   * Deliver every event after {@code afterOffset}, then live, to {@code subscriber}. The session
   * replays a backlog from its tail only if it is at most {@code maxReplay} events; a larger one
   * is left to the subscriber to read from the journal at its own pace.
   */
  record Subscribe(ActorRef<Feed> subscriber, Attach attach, long afterOffset, int maxReplay)
      implements SessionCommand {}

  /**
   * Who is attaching: the participant and its device. With {@code presence} the attachment
   * counts for presence (connected, disconnected, lost); readers that only watch set it false.
   */
  record Attach(Participant participant, String device, boolean presence) implements dev.durablesessions.CborSerializable {}

  /**
   * Renews a subscription. A session incarnation that does not know the subscriber (it moved,
   * restarted or passivated) treats it as a {@link Subscribe} from {@code deliveredOffset}.
   */
  record KeepAlive(ActorRef<Feed> subscriber, Attach attach, long deliveredOffset, int maxReplay, java.time.Instant lastActivity)
      implements SessionCommand {}

  /** The subscriber goes away; {@code reason} says why (socket_closed, heartbeat_timeout, ...) or "left". */
  record Unsubscribe(ActorRef<Feed> subscriber, String reason) implements SessionCommand {}

  /** A device confirmed it processed every event up to {@code offset} (delivery receipts). */
  record Acknowledge(ActorRef<Feed> subscriber, long offset, java.time.Instant at) implements SessionCommand {}

  /** A change of who has the floor (transfers, claim, handback, close). */
  record ChangeControl(Participant by, dev.durablesessions.session.transfer.ControlRequest request, ActorRef<Outcome> replyTo)
      implements SessionCommand {}

  record GetSummary(ActorRef<SummaryReply> replyTo) implements SessionCommand {}

  /** The durable state now: working state document, turn, tool calls, receipts, note. */
  record GetState(ActorRef<StateReply> replyTo) implements SessionCommand {}

  /**
   * Erase the session: write its tombstone, cut off every subscriber, delete its events and
   * snapshots, record who did it. {@code by} is an admin ({@code reason} admin), or the
   * retention task (role system, reason retention, for a closed session only). Idempotent: on
   * an erased session it finishes an interrupted deletion and answers with the first record.
   */
  record Erase(Participant by, dev.durablesessions.session.erasure.ErasureReason reason,
      ActorRef<ErasureReply> replyTo) implements SessionCommand {}

  /** Sharding's stop message: write held deltas, then stop. */
  enum Passivate implements SessionCommand { INSTANCE }

  /** Internal: the coalescing linger expired. */
  enum FlushDeltas implements SessionCommand { INSTANCE }

  /** Internal: a watched subscriber stopped. */
  record SubscriberTerminated(ActorRef<Feed> subscriber) implements SessionCommand {}

  /** Internal: a disconnected participant's grace period may have run out. */
  record GraceExpired(String participantId) implements SessionCommand {}

  /** Internal: an open stream may have gone silent. */
  record StallCheck(String messageId) implements SessionCommand {}

  /** Internal: after recovery, devices that did not re-attach are disconnected. */
  enum ReattachCheck implements SessionCommand { INSTANCE }

  /** From the dispatcher: report the session's need again (after an assignment was refused). */
  enum ReportNeed implements SessionCommand { INSTANCE }
}
