/**
 * One assignment of a worker: a lease on one session, handed to the worker's handler. It
 * carries what the `assign` frame said, an AbortSignal that says when to stop, and helpers to
 * join the session under the lease and to release it.
 */
import { Agent, type AgentOptions } from '../agent/agent.js';
import { connect, type SessionConnection } from '../connection/connection.js';
import type { ConnectOptions } from '../connection/options.js';
import { DurableSessionsError } from '../errors.js';
import type { AssignReason, LeaseRef, WorkerAssignFrame } from '../protocol/worker-frames.js';
import type { RestClient } from '../rest/client.js';
import type { ResumePackage } from '../rest/types.js';
import type { SessionEvent } from '../protocol/events.js';
import { loadHotStart, type AnswerLedger, type HotStart } from './hot-start.js';

/**
 * Why an assignment ended:
 * - `revoked`: the node ended the lease (`revoke`: lease expired, session closed or erased);
 * - `lost`: a reconnect's `welcome` reported the lease as lost;
 * - `fenced`: the session refused a write of join()'s connection with `stale_lease`: the lease
 *   has moved on (the node's `revoke` may still be on its way);
 * - `released`: the worker released it (`release()`);
 * - `worker_closed`: the worker was closed (`close()`), or replaced by another process of the
 *   same subject.
 */
export type AssignmentEndReason = 'revoked' | 'lost' | 'fenced' | 'released' | 'worker_closed';

export interface AssignmentEnd {
  reason: AssignmentEndReason;
  /** The node's reason for `revoked` (`lease_expired`, `session_closed`, …), the refusal for `fenced`. */
  detail?: string;
}

/** What join() connects with, besides what the assignment fixes (session, lease, offset). */
export type JoinOptions = Partial<Omit<ConnectOptions, 'url' | 'sessionId' | 'lease' | 'token' | 'getToken'>> & { agent?: AgentOptions };

/** @internal what an assignment needs from its worker. */
export interface AssignmentHost {
  connectOptions(): Pick<ConnectOptions, 'url' | 'getToken' | 'WebSocket' | 'fetch' | 'device'>;
  release(assignment: Assignment, reason: string | undefined): Promise<void>;
  /** A write under the lease was refused with `stale_lease`. */
  fenced(assignment: Assignment, message: string): void;
  /** A REST client with the worker's token. */
  rest(): RestClient;
}

export class Assignment implements LeaseRef {
  readonly sessionId: string;
  /** The lease epoch: every write of join()'s connection is made under it. */
  readonly lease: number;
  readonly reason: AssignReason;
  /** The session's head when it was assigned. */
  readonly offset: number;
  /** The resume package, as the `assign` frame carried it. */
  readonly resume: ResumePackage;
  /**
   * Aborted when the worker must stop working on the session: the lease was revoked, reported
   * lost after a reconnect, a write under it was refused (`stale_lease`), it was released, or
   * the worker closed. `signal.reason` is a DurableSessionsError (`stale_lease` when the lease
   * ended, `connection_closed` when the worker let go); `ended` says which.
   */
  readonly signal: AbortSignal;

  private readonly controller = new AbortController();
  private endValue: AssignmentEnd | undefined;
  private agentValue: Agent | undefined;
  /** The session's events from join() on, until a hot start takes them over. */
  private early: SessionEvent[] | undefined;
  private following: ((event: SessionEvent) => void) | undefined;

  /** @internal created by the worker for an `assign` frame. */
  constructor(
    frame: WorkerAssignFrame,
    private readonly host: AssignmentHost,
  ) {
    this.sessionId = frame.sessionId;
    this.lease = frame.lease;
    this.reason = frame.reason;
    this.offset = frame.offset;
    this.resume = frame.resume;
    this.signal = this.controller.signal;
  }

  /** How the assignment ended; undefined while it lasts. */
  get ended(): AssignmentEnd | undefined {
    return this.endValue;
  }

  /** The session connection opened by join(), if any. */
  get session(): SessionConnection | undefined {
    return this.agentValue?.connection;
  }

  /** The agent of join(), if it was called. */
  get agent(): Agent | undefined {
    return this.agentValue;
  }

  /**
   * Join the session as its agent under this lease: `connect()` with `lease` and, unless given,
   * `offset` = the assignment's offset (what came before is in the resume package and the hot
   * start). Resolves when the connection is live. Called again, it returns the same agent.
   * The connection is closed when the assignment ends.
   */
  async join(options: JoinOptions = {}): Promise<Agent> {
    if (this.endValue !== undefined) throw this.signal.reason;
    if (this.agentValue === undefined) {
      const { agent: agentOptions, ...connectOptions } = options;
      const base = this.host.connectOptions();
      const connection = connect({
        ...base,
        // Not after the package's head: what follows it is the socket's to deliver.
        offset: Math.min(this.offset, this.resume.head),
        ...connectOptions,
        sessionId: this.sessionId,
        lease: this.lease,
      });
      this.early = [];
      connection.on('frame', (frame) => {
        if (frame.type === 'error' && frame.code === 'stale_lease') this.host.fenced(this, frame.message);
      });
      connection.on('event', (event) => {
        if (this.following !== undefined) this.following(event);
        else this.early?.push(event);
      });
      this.agentValue = new Agent(connection, agentOptions ?? {});
    }
    await this.agentValue.connection.whenLive();
    return this.agentValue;
  }

  /**
   * What this agent has to answer: the user messages without a complete answer and the answers
   * a failover cut off, from the session's history up to the resume package's head (see
   * hot-start.ts; `from` skips history known to be answered). After join(), the returned ledger
   * goes on following the session: every event of join()'s connection is applied to it (those
   * that arrived during the hot start too), and `onChange` is called after each.
   */
  async hotStart(options: { from?: number; onChange?: (ledger: AnswerLedger, event: SessionEvent) => void } = {}): Promise<HotStart & { ledger: AnswerLedger }> {
    const rest = this.agentValue?.connection.rest ?? this.host.rest();
    const start = await loadHotStart(rest, this.resume, { ...(options.from === undefined ? {} : { from: options.from }), signal: this.signal });
    if (this.early !== undefined && this.following === undefined) {
      const ledger = start.ledger;
      const follow = (event: SessionEvent) => {
        if (ledger.apply(event)) options.onChange?.(ledger, event);
      };
      for (const event of this.early.splice(0)) follow(event);
      this.early = undefined;
      this.following = follow;
      return { ...start, unanswered: ledger.unanswered, interrupted: ledger.interrupted, open: ledger.open, offset: ledger.offset };
    }
    return start;
  }

  /**
   * Let go of the session (`release`): the session writes `agent.released` and ends what this
   * worker was streaming there as `cancelled`, and the room is free. Resolves when the node
   * recorded it (`released`) or the lease ended otherwise meanwhile; the signal is aborted
   * either way. The worker never releases on its own when the handler returns: a session goes
   * on with the user's next message, which the same worker answers.
   */
  async release(reason?: string): Promise<void> {
    if (this.endValue !== undefined) return;
    // Send what is buffered before the release ends the streams.
    await this.agentValue?.flush().catch(() => undefined);
    await this.host.release(this, reason);
  }

  /** @internal the worker ends the assignment. */
  end(end: AssignmentEnd): void {
    if (this.endValue !== undefined) return;
    this.endValue = end;
    const leaseEnded = end.reason === 'revoked' || end.reason === 'lost' || end.reason === 'fenced';
    const why =
      end.reason === 'revoked'
        ? `the node revoked lease ${this.lease} of ${this.sessionId} (${end.detail ?? 'no reason'})`
        : end.reason === 'lost'
          ? `lease ${this.lease} of ${this.sessionId} was lost while the worker was away`
          : end.reason === 'fenced'
            ? `the session refused a write under lease ${this.lease} of ${this.sessionId}: ${end.detail ?? 'stale_lease'}`
            : end.reason === 'released'
              ? `lease ${this.lease} of ${this.sessionId} was released`
              : 'the worker closed';
    this.controller.abort(new DurableSessionsError({ code: leaseEnded ? 'stale_lease' : 'connection_closed', message: why, source: 'client' }));
    this.agentValue?.connection.close();
  }
}
