/**
 * An agent worker (PROTOCOL §4 `GET /v1/workers`): one socket to the node on which the worker
 * announces its pool and capacity, receives assignments (leases on sessions) and releases
 * them. Each assignment is handed to the handler, which joins the session under its lease.
 *
 * - Heartbeats every `heartbeatIntervalMs` of `welcome` renew every lease.
 * - Reconnect: capped exponential backoff with full jitter, the cap held under a quarter of
 *   the lease timeout while the worker holds leases, and a `hello` that lists them in
 *   `holding`, so that a worker back in time keeps them; those the node reports `lost` are
 *   aborted. Whether a lease still holds is the node's to say (`welcome`, `revoke`, or a write
 *   refused with `stale_lease`): the worker never gives one up on its own clock, which could
 *   disagree with the node's and leave a session held by a worker that stopped answering it.
 * - The worker never releases a session because its handler returned: a session goes on with
 *   the user's next message. The handler releases with `assignment.release()` when it is done
 *   with the session for good; `close({ release: true })` releases everything.
 */
import { TokenSource, type TokenOptions } from '../auth.js';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from '../connection/backoff.js';
import type { ConnectOptions } from '../connection/options.js';
import { clientError } from '../connection/refusal.js';
import { defaultWebSocket, messageText, OPEN, wsBaseUrl, type WebSocketConstructor, type WebSocketLike } from '../connection/websocket.js';
import { Emitter } from '../emitter.js';
import { DurableSessionsError } from '../errors.js';
import type {
  LeaseRef,
  WorkerAssignFrame,
  WorkerClientFrame,
  WorkerClosingFrame,
  WorkerErrorFrame,
  WorkerServerFrame,
  WorkerWelcomeFrame,
} from '../protocol/worker-frames.js';
import { RestClient, type FetchLike } from '../rest/client.js';
import { randomId } from '../util.js';
import { Assignment, type AssignmentEnd, type AssignmentHost } from './assignment.js';

/**
 * - `connecting`: before the first `welcome`;
 * - `ready`: welcomed; assignments arrive;
 * - `reconnecting`: the socket was lost after a `welcome`; a new one is on its way (the leases
 *   are kept until the lease timeout);
 * - `closed`: for good (`close()`, a refused `hello`, or replaced by another process of the
 *   same subject).
 */
export type WorkerState = 'connecting' | 'ready' | 'reconnecting' | 'closed';

/** Optional logging; each method is called with a message and structured fields. */
export interface WorkerLogger {
  debug?(message: string, fields?: Record<string, unknown>): void;
  info?(message: string, fields?: Record<string, unknown>): void;
  warn?(message: string, fields?: Record<string, unknown>): void;
  error?(message: string, fields?: Record<string, unknown>): void;
}

export interface WorkerOptions extends TokenOptions {
  /** The node's base URL: `http(s)://…` or `ws(s)://…`. */
  url: string;
  /** The pool this worker serves. */
  pool: string;
  /** How many sessions it takes at once (0..10000). */
  capacity: number;
  /**
   * Called once per assignment. Its promise settling does not release the session (see
   * `Assignment.release`); a rejection is reported as an `error` event.
   */
  handler: (assignment: Assignment) => unknown;
  /** A WebSocket implementation where there is no global one (Node 20: the `ws` package). */
  WebSocket?: WebSocketConstructor;
  /** A fetch implementation for the REST calls (default: the global fetch). */
  fetch?: FetchLike;
  /** The device of this worker's session sockets (default `worker-<random>`, one per worker object). */
  device?: string;
  backoff?: Partial<BackoffPolicy>;
  /** Override the heartbeat interval of `welcome`. */
  heartbeatIntervalMs?: number;
  /** Random numbers in [0, 1) for the backoff jitter (default Math.random). */
  random?: () => number;
  logger?: WorkerLogger;
}

export interface WorkerEvents {
  state: [state: WorkerState, previous: WorkerState];
  welcome: [frame: WorkerWelcomeFrame];
  /** A new assignment, just before the handler is called. */
  assign: [assignment: Assignment];
  /** An assignment ended (revoked, lost, expired, released, worker closed). */
  ended: [assignment: Assignment, end: AssignmentEnd];
  error: [error: DurableSessionsError];
  closed: [error: DurableSessionsError | undefined];
  /** Every frame received, parsed. */
  frame: [frame: WorkerServerFrame];
  /** Every frame sent. */
  sent: [frame: WorkerClientFrame];
}

function releaseRef(assignment: LeaseRef): string {
  return `release:${assignment.sessionId}:${assignment.lease}`;
}

/** Start a worker; it connects at once and stays connected until closed. */
export function startWorker(options: WorkerOptions): Worker {
  const worker = new Worker(options);
  worker.start();
  return worker;
}

export class Worker {
  readonly pool: string;
  readonly device: string;
  private readonly options: WorkerOptions;
  private readonly emitter: Emitter<WorkerEvents>;
  private readonly tokens: TokenSource;
  private readonly WebSocketImpl: WebSocketConstructor;
  private readonly policy: BackoffPolicy;
  private readonly random: () => number;
  private readonly restClient: RestClient;
  private readonly host: AssignmentHost;

  private stateValue: WorkerState = 'connecting';
  private capacityValue: number;
  private ws: WebSocketLike | undefined;
  private welcomed: WorkerWelcomeFrame | undefined;
  /** The latest welcome, kept while the socket is down (its lease timeout still applies). */
  private lastWelcome: WorkerWelcomeFrame | undefined;
  private closingFrame: WorkerClosingFrame | undefined;
  private refusedHello: WorkerErrorFrame | undefined;
  private attempt = 0;
  private everWelcomed = false;
  private readonly assignments = new Map<string, Assignment>();
  private readonly releases = new Map<Assignment, { reason: string | undefined; done: () => void }>();
  private finalError: DurableSessionsError | undefined;
  private closedWaiters: (() => void)[] = [];

  private heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: WorkerOptions) {
    if (!Number.isInteger(options.capacity) || options.capacity < 0 || options.capacity > 10_000) {
      throw new RangeError('capacity is an integer 0..10000');
    }
    this.options = options;
    this.pool = options.pool;
    this.capacityValue = options.capacity;
    this.device = options.device ?? `worker-${randomId()}`;
    this.emitter = new Emitter<WorkerEvents>((error, event) => {
      if (event === 'error') return;
      this.report(clientError('listener_error', `a '${String(event)}' listener threw: ${error instanceof Error ? error.message : String(error)}`, error));
    });
    this.tokens = new TokenSource(options);
    this.WebSocketImpl = options.WebSocket ?? defaultWebSocket();
    this.policy = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.random = options.random ?? Math.random;
    this.restClient = new RestClient({ url: options.url, tokenSource: this.tokens, ...(options.fetch ? { fetch: options.fetch } : {}) });
    this.host = {
      connectOptions: () => this.connectOptions(),
      release: (assignment, reason) => this.release(assignment, reason),
      fenced: (assignment, message) => this.endLease(assignment, { reason: 'fenced', detail: message }),
      rest: () => this.restClient,
    };
  }

  // ---- observing ----

  get state(): WorkerState {
    return this.stateValue;
  }

  get capacity(): number {
    return this.capacityValue;
  }

  /** The worker's ID (its token's subject), once welcomed. */
  get id(): string | undefined {
    return this.welcomed?.worker;
  }

  /** The latest `welcome`. */
  get welcome(): WorkerWelcomeFrame | undefined {
    return this.welcomed;
  }

  /** The leases this worker holds now, as it would list them in `holding`. */
  get holdings(): LeaseRef[] {
    return [...this.assignments.values()].map((a) => ({ sessionId: a.sessionId, lease: a.lease }));
  }

  /** The assignments in progress. */
  get current(): Assignment[] {
    return [...this.assignments.values()];
  }

  on<K extends keyof WorkerEvents>(event: K, listener: (...args: WorkerEvents[K]) => void): () => void {
    return this.emitter.on(event, listener);
  }

  once<K extends keyof WorkerEvents>(event: K, listener: (...args: WorkerEvents[K]) => void): () => void {
    return this.emitter.once(event, listener);
  }

  /** Resolves when welcomed (at once if it is); rejects if the worker closes first. */
  whenReady(): Promise<void> {
    if (this.stateValue === 'ready') return Promise.resolve();
    if (this.stateValue === 'closed') return Promise.reject(this.closedError());
    return new Promise((resolve, reject) => {
      const offState = this.emitter.on('state', (state) => {
        if (state === 'ready') {
          offState();
          resolve();
        } else if (state === 'closed') {
          offState();
          reject(this.closedError());
        }
      });
    });
  }

  // ---- controlling ----

  /** Change how many sessions the worker takes (0 drains it: it keeps what it holds). */
  setCapacity(capacity: number): void {
    if (!Number.isInteger(capacity) || capacity < 0 || capacity > 10_000) throw new RangeError('capacity is an integer 0..10000');
    this.capacityValue = capacity;
    if (this.welcomed !== undefined) this.send({ type: 'capacity', capacity });
    // Not welcomed: the next hello carries it.
  }

  /**
   * Stop the worker. With `release: true`, every session it holds is released first (the node
   * records `agent.released` at once, and the sessions get an agent again with the next user
   * message); without, the sockets just close and the leases end after the lease timeout (the
   * sessions fail over). Every assignment's signal is aborted, every socket and timer closed.
   */
  async close(options: { release?: boolean; timeoutMs?: number } = {}): Promise<void> {
    if (this.stateValue === 'closed') return;
    if (options.release === true && this.assignments.size > 0 && this.welcomed !== undefined) {
      const releases = [...this.assignments.values()].map((a) => a.release('worker closed'));
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([Promise.all(releases), new Promise((r) => (timer = setTimeout(r, options.timeoutMs ?? 5000)))]);
      clearTimeout(timer);
    }
    this.finish(undefined);
  }

  /** Resolves when the worker has closed (for any reason). */
  closed(): Promise<void> {
    if (this.stateValue === 'closed') return Promise.resolve();
    return new Promise((resolve) => this.closedWaiters.push(resolve));
  }

  // ---- lifecycle ----

  /** @internal started by startWorker(). */
  start(): void {
    void this.openSocket();
  }

  private async openSocket(): Promise<void> {
    this.reconnectTimer = undefined;
    if (this.stateValue === 'closed') return;
    let token: string;
    try {
      token = await this.tokens.current();
    } catch (cause) {
      this.report(clientError('unauthorized', 'getToken failed', cause));
      this.scheduleReconnect();
      return;
    }
    if (this.isClosed()) return; // close() may have run while the token was fetched
    const url = `${wsBaseUrl(this.options.url)}/v1/workers?access_token=${encodeURIComponent(token)}`;
    let ws: WebSocketLike;
    try {
      ws = new this.WebSocketImpl(url);
    } catch (cause) {
      this.report(clientError('network_error', 'could not open a WebSocket', cause));
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    this.closingFrame = undefined;
    this.refusedHello = undefined;
    ws.onopen = () => {
      if (this.ws !== ws) return;
      const holding = this.holdings;
      this.send({ type: 'hello', pool: this.pool, capacity: this.capacityValue, ...(holding.length > 0 ? { holding } : {}) });
    };
    ws.onmessage = (event) => {
      if (this.ws !== ws) return;
      let frame: WorkerServerFrame;
      try {
        frame = JSON.parse(messageText(event.data) ?? '') as WorkerServerFrame;
      } catch (cause) {
        this.report(clientError('protocol_violation', 'the node sent a frame that is not JSON', cause));
        return;
      }
      this.onFrame(frame);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.onSocketEnd();
    };
    ws.onerror = () => {
      if (this.ws !== ws) return;
      this.onSocketEnd();
      try {
        ws.close();
      } catch {
        // already closing
      }
    };
  }

  private onFrame(frame: WorkerServerFrame): void {
    this.emitter.emit('frame', frame);
    switch (frame.type) {
      case 'welcome':
        return this.onWelcome(frame);
      case 'assign':
        return this.onAssign(frame);
      case 'revoke':
        return this.endLease(frame, { reason: 'revoked', detail: frame.reason });
      case 'released':
        return this.endLease(frame, { reason: 'released' });
      case 'error':
        return this.onError(frame);
      case 'closing':
        this.closingFrame = frame;
        this.log('info', 'the node is closing the worker socket', { code: frame.code, reason: frame.reason });
        return;
      default:
        this.report(clientError('protocol_violation', `unknown worker frame ${String((frame as { type?: unknown }).type)}`));
    }
  }

  private onWelcome(frame: WorkerWelcomeFrame): void {
    this.welcomed = frame;
    this.lastWelcome = frame;
    this.everWelcomed = true;
    this.attempt = 0;
    for (const lease of frame.lost) this.endLease(lease, { reason: 'lost' });
    // A kept lease this worker no longer works on (it ended here while the socket was down):
    // hand it back rather than hold a session nobody answers.
    for (const lease of frame.kept) {
      if (this.assignments.get(lease.sessionId)?.lease !== lease.lease) {
        this.log('warn', 'the node kept a lease this worker no longer works on; releasing it', { ...lease });
        this.send({ type: 'release', sessionId: lease.sessionId, lease: lease.lease, reason: 'not worked on any more' });
      }
    }
    // Anything held that the node named neither kept nor lost was not held on its side either.
    const kept = new Set(frame.kept.map((l) => `${l.sessionId}\u0000${l.lease}`));
    for (const a of [...this.assignments.values()]) {
      if (!kept.has(`${a.sessionId}\u0000${a.lease}`)) this.endLease(a, { reason: 'lost' });
    }
    clearInterval(this.heartbeatTimer);
    const interval = this.options.heartbeatIntervalMs ?? frame.heartbeatIntervalMs;
    if (interval > 0) this.heartbeatTimer = setInterval(() => this.send({ type: 'heartbeat' }), interval);
    if (frame.capacity !== this.capacityValue) this.send({ type: 'capacity', capacity: this.capacityValue });
    // Releases asked for while the socket was down.
    for (const [assignment, pending] of this.releases) this.sendRelease(assignment, pending.reason);
    this.log('info', 'welcomed', { worker: frame.worker, pool: frame.pool, kept: frame.kept.length, lost: frame.lost.length });
    this.emitter.emit('welcome', frame);
    this.setState('ready');
  }

  private onAssign(frame: WorkerAssignFrame): void {
    const held = this.assignments.get(frame.sessionId);
    if (held !== undefined) {
      if (held.lease === frame.lease) return; // the same lease again
      // A newer lease of the same session: the old one has ended on the node.
      this.endLease(held, { reason: 'lost' });
    }
    const assignment = new Assignment(frame, this.host);
    this.assignments.set(frame.sessionId, assignment);
    this.log('info', 'assigned', { sessionId: frame.sessionId, lease: frame.lease, reason: frame.reason });
    this.emitter.emit('assign', assignment);
    let result: unknown;
    try {
      result = this.options.handler(assignment);
    } catch (error) {
      this.handlerFailed(assignment, error);
      return;
    }
    if (result instanceof Promise) result.catch((error: unknown) => this.handlerFailed(assignment, error));
  }

  private handlerFailed(assignment: Assignment, error: unknown): void {
    // An aborted handler failing because of its abort is how it should stop; anything else is news.
    if (assignment.signal.aborted && error === assignment.signal.reason) return;
    this.report(
      new DurableSessionsError({
        code: 'listener_error',
        message: `the handler of ${assignment.sessionId} (lease ${assignment.lease}) failed: ${error instanceof Error ? error.message : String(error)}`,
        source: 'client',
        cause: error,
      }),
    );
  }

  private onError(frame: WorkerErrorFrame): void {
    const error = new DurableSessionsError({ code: frame.code, message: frame.message, source: 'socket', ...(frame.ref === undefined ? {} : { ref: frame.ref }) });
    if (this.welcomed === undefined) {
      // A refused hello: the node follows it with `closing` and will refuse the same again.
      this.refusedHello = frame;
    }
    const released = [...this.releases.keys()].find((a) => releaseRef(a) === frame.ref);
    if (released !== undefined && (frame.code === 'stale_lease' || frame.code === 'forbidden')) {
      // The node says the worker does not hold that lease (it ended meanwhile): nothing to release.
      this.endLease(released, { reason: 'lost', detail: frame.message });
    } else if (released !== undefined && frame.code === 'unavailable') {
      // The session did not answer the release in time: send it again (a welcome resends it too).
      const pending = this.releases.get(released)!;
      setTimeout(() => {
        if (this.releases.get(released) === pending && this.welcomed !== undefined) this.sendRelease(released, pending.reason);
      }, 500);
      this.log('info', 'release not answered by the session; sending it again', { sessionId: released.sessionId, lease: released.lease });
      return;
    }
    this.report(error);
  }

  /** End the assignment of `lease` (if it is the one held), for `end`. */
  private endLease(lease: LeaseRef, end: AssignmentEnd): void {
    const assignment = this.assignments.get(lease.sessionId);
    if (assignment === undefined || assignment.lease !== lease.lease) return;
    this.assignments.delete(lease.sessionId);
    const pending = this.releases.get(assignment);
    this.releases.delete(assignment);
    assignment.end(end);
    pending?.done();
    this.log('info', 'assignment ended', { sessionId: lease.sessionId, lease: lease.lease, ...end });
    this.emitter.emit('ended', assignment, end);
  }

  private release(assignment: Assignment, reason: string | undefined): Promise<void> {
    if (this.assignments.get(assignment.sessionId) !== assignment) return Promise.resolve();
    const existing = this.releases.get(assignment);
    if (existing !== undefined) return new Promise((resolve) => {
      const done = existing.done;
      existing.done = () => {
        done();
        resolve();
      };
    });
    return new Promise((resolve) => {
      this.releases.set(assignment, { reason, done: resolve });
      if (this.welcomed !== undefined) this.sendRelease(assignment, reason);
    });
  }

  private sendRelease(assignment: Assignment, reason: string | undefined): void {
    this.send({
      type: 'release',
      ref: releaseRef(assignment),
      sessionId: assignment.sessionId,
      lease: assignment.lease,
      ...(reason === undefined ? {} : { reason: reason.slice(0, 200) }),
    });
  }

  private onSocketEnd(): void {
    const closing = this.closingFrame;
    const refused = this.refusedHello;
    this.ws = undefined;
    this.welcomed = undefined;
    this.closingFrame = undefined;
    this.refusedHello = undefined;
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
    if (this.stateValue === 'closed') return;
    if (refused !== undefined) {
      this.finish(new DurableSessionsError({ code: refused.code, message: `the node refused the hello: ${refused.message}`, source: 'socket' }));
      return;
    }
    if (closing?.code === 'replaced') {
      // Another process of the same subject took over this worker's leases.
      this.finish(new DurableSessionsError({ code: 'connection_closed', message: `replaced: ${closing.reason}`, source: 'closing' }));
      return;
    }
    if (closing?.code === 'token_expired' && !this.tokens.renewable) {
      this.finish(new DurableSessionsError({ code: 'token_expired', message: `${closing.reason} (give getToken to renew it)`, source: 'closing' }));
      return;
    }
    if (closing !== undefined && !closing.resumable && closing.code !== 'token_expired') {
      this.finish(new DurableSessionsError({ code: 'connection_closed', message: `${closing.code}: ${closing.reason}`, source: 'closing' }));
      return;
    }
    this.setState(this.everWelcomed ? 'reconnecting' : 'connecting');
    if (closing?.code === 'token_expired') {
      this.tokens.refresh().then(
        () => void this.openSocket(),
        (cause) => {
          this.report(clientError('unauthorized', 'getToken failed', cause));
          this.scheduleReconnect();
        },
      );
      return;
    }
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stateValue === 'closed' || this.reconnectTimer !== undefined) return;
    const timeout = this.lastWelcome?.leaseTimeoutMs;
    // Coming back within the lease timeout keeps the leases: keep the backoff well under it.
    const policy =
      timeout !== undefined && this.assignments.size > 0 ? { ...this.policy, maxDelayMs: Math.min(this.policy.maxDelayMs, Math.max(50, timeout / 4)) } : this.policy;
    const delay = backoffDelay(this.attempt++, policy, this.random);
    this.log('debug', 'reconnecting', { delayMs: delay, attempt: this.attempt });
    this.reconnectTimer = setTimeout(() => void this.openSocket(), delay);
  }

  // ---- sending ----

  private send(frame: WorkerClientFrame): boolean {
    const ws = this.ws;
    if (ws === undefined || ws.readyState !== OPEN) return false;
    try {
      ws.send(JSON.stringify(frame));
    } catch {
      return false; // the close event follows
    }
    this.emitter.emit('sent', frame);
    return true;
  }

  // ---- bookkeeping ----

  private connectOptions(): Pick<ConnectOptions, 'url' | 'token' | 'getToken' | 'WebSocket' | 'fetch' | 'device'> {
    return {
      url: this.options.url,
      ...(this.tokens.renewable ? { getToken: () => this.tokens.current() } : { token: this.options.token as string }),
      device: this.device,
      ...(this.options.WebSocket === undefined ? {} : { WebSocket: this.options.WebSocket }),
      ...(this.options.fetch === undefined ? {} : { fetch: this.options.fetch }),
    };
  }

  private setState(next: WorkerState): void {
    const previous = this.stateValue;
    if (previous === next || previous === 'closed') return;
    this.stateValue = next;
    this.emitter.emit('state', next, previous);
  }

  private report(error: DurableSessionsError): void {
    this.log('warn', error.message, { code: error.code });
    this.emitter.emit('error', error);
  }

  private log(level: keyof WorkerLogger, message: string, fields?: Record<string, unknown>): void {
    try {
      this.options.logger?.[level]?.(message, fields);
    } catch {
      // a failing logger must not stop the worker
    }
  }

  private finish(error: DurableSessionsError | undefined): void {
    if (this.stateValue === 'closed') return;
    this.finalError = error;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.heartbeatTimer);
    this.reconnectTimer = undefined;
    this.heartbeatTimer = undefined;
    for (const a of [...this.assignments.values()]) this.endLease(a, { reason: 'worker_closed' });
    const ws = this.ws;
    this.ws = undefined;
    this.welcomed = undefined;
    if (ws !== undefined) {
      ws.onmessage = null;
      ws.onclose = null;
      ws.onerror = null;
      try {
        ws.close(1000, 'worker closed');
      } catch {
        // already closing
      }
    }
    this.setState('closed');
    if (error !== undefined) this.report(error);
    this.emitter.emit('closed', error);
    for (const w of this.closedWaiters.splice(0)) w();
  }

  private isClosed(): boolean {
    return this.stateValue === 'closed';
  }

  private closedError(): DurableSessionsError {
    return this.finalError ?? clientError('connection_closed', 'the worker is closed');
  }
}
