/**
 * The agent worker socket (PROTOCOL §4 `GET /v1/workers`): the frames a worker sends and the
 * frames the node answers with. Frames are JSON text frames with a `type`, as on the session
 * socket; the first client frame is `hello`.
 */
import type { ServerErrorCode } from './errors.js';
import type { ResumePackage } from '../rest/types.js';

/** One lease: the session and the lease's epoch. */
export interface LeaseRef {
  sessionId: string;
  lease: number;
}

interface WorkerClientFrameBase<T extends string> {
  type: T;
  /** Echoed in the `error` that refuses the frame. */
  ref?: string;
}

/** Announces the worker. `holding`: the leases a reconnecting worker still works on. */
export interface WorkerHelloFrame extends WorkerClientFrameBase<'hello'> {
  pool: string;
  /** 0..10000. */
  capacity: number;
  holding?: LeaseRef[];
}
/** Renews every lease the worker holds (any frame does too). */
export interface WorkerHeartbeatFrame extends WorkerClientFrameBase<'heartbeat'> {}
/** The worker lets go of one session. `reason`: at most 200 characters. */
export interface WorkerReleaseFrame extends WorkerClientFrameBase<'release'>, LeaseRef {
  reason?: string;
}
/** Changes how many sessions the worker takes (0 drains it). */
export interface WorkerCapacityFrame extends WorkerClientFrameBase<'capacity'> {
  capacity: number;
}
export type WorkerClientFrame = WorkerHelloFrame | WorkerHeartbeatFrame | WorkerReleaseFrame | WorkerCapacityFrame;

/** The answer to `hello`. */
export interface WorkerWelcomeFrame {
  type: 'welcome';
  /** The worker's ID: its token's subject. */
  worker: string;
  pool: string;
  capacity: number;
  /** A worker not heard from for this long loses all its leases. */
  leaseTimeoutMs: number;
  /** Send a heartbeat this often. */
  heartbeatIntervalMs: number;
  /** Leases of `holding` still held (renewed). */
  kept: LeaseRef[];
  /** Leases of `holding` that ended: stop working on those sessions. */
  lost: LeaseRef[];
}

/** Why a session was assigned: the `reason` of its `agent.assigned` event. */
export type AssignReason = 'needs_agent' | 'failover';

/** A new lease on one session. */
export interface WorkerAssignFrame extends LeaseRef {
  type: 'assign';
  reason: AssignReason;
  /** The session's head when it was assigned: join with this offset (or an earlier one). */
  offset: number;
  /** The resume package, as `GET /v1/sessions/{id}/resume` returns it. */
  resume: ResumePackage;
}

export type RevokeReason = 'lease_expired' | 'session_closed' | 'session_erased' | 'lost';

/** The lease ended without the worker's release: stop working on the session at once. */
export interface WorkerRevokeFrame extends LeaseRef {
  type: 'revoke';
  reason: RevokeReason;
}

/** The session recorded the worker's `release`. */
export interface WorkerReleasedFrame extends LeaseRef {
  type: 'released';
}

export interface WorkerErrorFrame {
  type: 'error';
  code: ServerErrorCode;
  message: string;
  ref?: string;
}

/**
 * Why the node closes a worker socket: `replaced` (the same worker connected again),
 * `token_expired`, `server_shutdown`, `heartbeat_timeout` (nothing heard for the lease timeout),
 * or the code of a refused `hello` (`unknown_pool`, `invalid_frame`).
 */
export type WorkerClosingCode = 'replaced' | 'token_expired' | 'server_shutdown' | 'heartbeat_timeout' | 'unknown_pool' | 'invalid_frame' | (string & {});

/** The last frame before the node closes the worker socket. */
export interface WorkerClosingFrame {
  type: 'closing';
  code: WorkerClosingCode;
  /** Human-readable. */
  reason: string;
  /** true: reconnecting (listing what the worker holds) works. */
  resumable: boolean;
}

export type WorkerServerFrame =
  | WorkerWelcomeFrame
  | WorkerAssignFrame
  | WorkerRevokeFrame
  | WorkerReleasedFrame
  | WorkerErrorFrame
  | WorkerClosingFrame;
