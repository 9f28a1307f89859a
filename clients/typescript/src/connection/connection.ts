/**
 * A participant's connection to one session (PROTOCOL §4): one WebSocket at a time, replaced
 * as often as the network demands, that delivers every event once and in order and lands
 * every append exactly once.
 *
 * - Resume: each socket opens with `?offset=` the last delivered offset; events at or below it
 *   (duplicates) are dropped.
 * - Reconnect: after any close, capped exponential backoff with full jitter; a `closing`
 *   frame decides (resumable ones reconnect, others stop with an error); `token_expired`
 *   reconnects at once with a fresh token from getToken.
 * - Heartbeats every third of `heartbeatTimeoutMs`; delivery receipts (`ack`) at most every
 *   `ackIntervalMs`.
 * - Appends are stamped by a Producer and resent with the same stamps after a reconnect.
 */
import { TokenSource, tokenExpiry } from '../auth.js';
import { Emitter } from '../emitter.js';
import { DurableSessionsError, isDurableSessionsError } from '../errors.js';
import type { ParticipantRef } from '../protocol/common.js';
import type { EventOfType, SessionEvent, SessionEventType } from '../protocol/events.js';
import type {
  AttachedFrame,
  AuthFrame,
  ClientFrame,
  ClosingFrame,
  ErrorFrame,
  LeaveFrame,
  ServerAckFrame,
  EventsFrame,
  ServerFrame,
} from '../protocol/frames.js';
import { RestClient } from '../rest/client.js';
import { utf8Length, randomId } from '../util.js';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.js';
import { MemoryOffsetStore, type OffsetStore } from './offset-store.js';
import type { ConnectionEvents, ConnectionState, ConnectOptions, DeliveryInfo } from './options.js';
import { Producer, type AppendAck, type AppendBody } from './producer.js';
import { clientError, closingError, FATAL_ON_CONNECT } from './refusal.js';
import { defaultWebSocket, messageText, OPEN, wsBaseUrl, type WebSocketConstructor, type WebSocketLike } from './websocket.js';

export type { ConnectionEvents, ConnectionState, ConnectOptions, DeliveryInfo } from './options.js';

/** Open a connection; it connects at once and keeps itself connected until closed. */
export function connect(options: ConnectOptions): SessionConnection {
  const connection = new SessionConnection(options);
  connection.start();
  return connection;
}

export class SessionConnection {
  readonly sessionId: string;
  readonly device: string;
  readonly rest: RestClient;
  readonly producer: Producer;

  private readonly options: ConnectOptions;
  private readonly emitter: Emitter<ConnectionEvents>;
  private readonly tokens: TokenSource;
  private readonly WebSocketImpl: WebSocketConstructor;
  private readonly store: OffsetStore;
  private readonly offsetKey: string;
  private readonly policy: BackoffPolicy;
  private readonly random: () => number;

  private stateValue: ConnectionState = 'connecting';
  private ws: WebSocketLike | undefined;
  private socketAttached = false;
  private closingFrame: ClosingFrame | undefined;
  private attachedFrame: AttachedFrame | undefined;
  private everAttached = false;
  private delivered = 0;
  private ackedUpTo = 0;
  private catchUpHead = 0;
  /** The server named no `visibleHead` (an older one): the end of the backlog is found by probing the history. */
  private probeForLive = false;
  private attempt = 0;
  private unauthorizedRetried = false;
  private leaving = false;
  private holdUntil = 0;
  private refCounter = 0;
  private readonly requests = new Map<string, { resolve: (ack: ServerAckFrame) => void; reject: (e: DurableSessionsError) => void }>();
  private readonly flushWaiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  private readonly liveWaiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  private finalError: DurableSessionsError | undefined;

  private heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  private ackTimer: ReturnType<typeof setTimeout> | undefined;
  private probeTimer: ReturnType<typeof setTimeout> | undefined;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private holdTimer: ReturnType<typeof setTimeout> | undefined;
  private renewTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: ConnectOptions) {
    this.options = options;
    this.sessionId = options.sessionId;
    this.device = options.device ?? `ts-${randomId()}`;
    this.emitter = new Emitter<ConnectionEvents>((error, event) => {
      if (event === 'error') return; // never loop on a failing error listener
      this.emitter.emit(
        'error',
        new DurableSessionsError({
          code: 'listener_error',
          message: `a '${String(event)}' listener threw: ${error instanceof Error ? error.message : String(error)}`,
          source: 'client',
          cause: error,
        }),
      );
    });
    this.tokens = new TokenSource(options);
    this.rest = new RestClient({ url: options.url, tokenSource: this.tokens, ...(options.fetch ? { fetch: options.fetch } : {}) });
    this.WebSocketImpl = options.WebSocket ?? defaultWebSocket();
    this.store = options.offsetStore ?? new MemoryOffsetStore();
    this.offsetKey = options.offsetKey ?? `${options.sessionId}/${this.device}`;
    this.policy = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.random = options.random ?? Math.random;
    this.producer = new Producer(options.producer?.id ?? this.device, options.producer?.epoch ?? Date.now());
  }

  // ---- observing ----

  get state(): ConnectionState {
    return this.stateValue;
  }

  /** The offset of the last event delivered to the listeners. */
  get lastOffset(): number {
    return this.delivered;
  }

  /** The highest offset sent to the server as a delivery receipt (`ack`, or a heartbeat's `offset`). */
  get confirmedOffset(): number {
    return this.ackedUpTo;
  }

  /** Who this connection acts as (from the `attached` frame); undefined until attached once. */
  get participant(): ParticipantRef | undefined {
    return this.attachedFrame?.participant;
  }

  /** The latest `attached` frame. */
  get attached(): AttachedFrame | undefined {
    return this.attachedFrame;
  }

  on<K extends keyof ConnectionEvents>(event: K, listener: (...args: ConnectionEvents[K]) => void): () => void {
    return this.emitter.on(event, listener);
  }

  /** Listen to the events of one type, typed: `onEvent('stream.delta', (e) => e.text)`. */
  onEvent<T extends SessionEventType>(type: T, listener: (event: EventOfType<T>, info: DeliveryInfo) => void): () => void {
    return this.emitter.on('event', (event, info) => {
      if (event.type === type) listener(event as EventOfType<T>, info);
    });
  }

  once<K extends keyof ConnectionEvents>(event: K, listener: (...args: ConnectionEvents[K]) => void): () => void {
    return this.emitter.once(event, listener);
  }

  /** Resolves when the connection is live (at once if it is); rejects if it closes first. */
  whenLive(): Promise<void> {
    if (this.stateValue === 'live') return Promise.resolve();
    if (this.isClosed()) return Promise.reject(this.closedError());
    return new Promise((resolve, reject) => this.liveWaiters.push({ resolve, reject }));
  }

  /** Report an error to the `error` listeners (used by the layers built on the connection). */
  reportError(error: DurableSessionsError): void {
    this.emitter.emit('error', error);
  }

  // ---- writing ----

  /**
   * Append to the session exactly once: the frame is stamped, sent when a socket is attached,
   * and resent with the same stamp until the server answers. Resolves with the `ack`; rejects
   * with the server's refusal (the seq is then reused, §6) or when the connection closes.
   */
  append(body: AppendBody): Promise<AppendAck> {
    if (this.isClosed() || this.leaving) return Promise.reject(this.closedError());
    const bytes = utf8Length(JSON.stringify(body)) + 160; // the stamp and ref
    const max = this.options.maxFrameBytes ?? 65536;
    if (bytes > max) {
      return Promise.reject(
        new DurableSessionsError({ code: 'frame_too_large', message: `${body.type} is about ${bytes} bytes; frames are at most ${max}`, source: 'client' }),
      );
    }
    const promise = this.producer.enqueue(body);
    promise.then(
      () => this.settleFlushWaiters(),
      () => this.settleFlushWaiters(),
    );
    this.pump();
    return promise;
  }

  /** Resolves when every append made so far has been answered (written, or refused). */
  flush(): Promise<void> {
    if (this.producer.pending === 0) return Promise.resolve();
    if (this.isClosed()) return Promise.reject(this.closedError());
    return new Promise((resolve, reject) => this.flushWaiters.push({ resolve, reject }));
  }

  /**
   * Leave the session (§4 `leave`): pending appends are flushed first; the server ends this
   * participant's open streams and writes `participant.left`, then the connection closes.
   * It never reconnects afterwards (a reconnect would join again).
   */
  async leave(): Promise<ServerAckFrame> {
    await this.flush();
    if (!this.socketAttached) await this.nextAttach();
    this.leaving = true;
    try {
      const ack = await this.request<LeaveFrame>({ type: 'leave' });
      this.finish(undefined);
      return ack;
    } catch (error) {
      this.finish(isDurableSessionsError(error) ? error : undefined);
      throw error;
    }
  }

  private nextAttach(): Promise<void> {
    if (this.isClosed()) return Promise.reject(this.closedError());
    return new Promise((resolve, reject) => {
      const offAttached = this.emitter.on('attached', () => {
        offAttached();
        offClosed();
        resolve();
      });
      const offClosed = this.emitter.on('closed', () => {
        offAttached();
        offClosed();
        reject(this.closedError());
      });
    });
  }

  /** Close for good. Unanswered appends are rejected with `connection_closed` (call flush() first to wait for them). */
  close(): void {
    this.finish(undefined);
  }

  // ---- lifecycle ----

  /** @internal started by connect(). */
  start(): void {
    void (async () => {
      try {
        const stored = this.options.offset ?? (await this.store.load(this.offsetKey)) ?? 0;
        this.delivered = stored;
        this.ackedUpTo = stored;
      } catch (cause) {
        this.emitter.emit('error', clientError('listener_error', 'the offset store failed to load; starting from 0', cause));
      }
      await this.openSocket();
    })();
  }

  private async openSocket(): Promise<void> {
    this.reconnectTimer = undefined;
    if (this.isClosed()) return;
    this.setState(this.everAttached ? 'reconnecting' : 'connecting');
    let token: string;
    try {
      token = await this.tokens.current();
    } catch (cause) {
      this.emitter.emit('error', clientError('unauthorized', 'getToken failed', cause));
      this.scheduleReconnect();
      return;
    }
    if (this.isClosed()) return;
    const url =
      `${wsBaseUrl(this.options.url)}/v1/sessions/${encodeURIComponent(this.sessionId)}/ws` +
      `?offset=${this.delivered}&device=${encodeURIComponent(this.device)}` +
      (this.options.lease === undefined ? '' : `&lease=${this.options.lease}`) +
      (this.options.batch === false ? '' : '&batch=true') +
      `&access_token=${encodeURIComponent(token)}`;
    let ws: WebSocketLike;
    try {
      ws = new this.WebSocketImpl(url);
    } catch (cause) {
      this.emitter.emit('error', clientError('network_error', 'could not open a WebSocket', cause));
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    this.socketAttached = false;
    this.closingFrame = undefined;
    ws.onmessage = (event) => {
      if (this.ws !== ws) return;
      const text = messageText(event.data);
      let frame: ServerFrame | EventsFrame;
      try {
        frame = JSON.parse(text ?? '') as ServerFrame | EventsFrame;
      } catch (cause) {
        this.emitter.emit('error', clientError('protocol_violation', 'the server sent a frame that is not JSON', cause));
        return;
      }
      if (frame.type !== 'events') return this.onFrame(frame);
      if (!Array.isArray(frame.events)) {
        this.emitter.emit('error', clientError('protocol_violation', 'the server sent an events frame without an events array'));
        return;
      }
      // Each event as if it had come alone; a listener may close the connection in between.
      for (const event of frame.events) {
        if (this.ws !== ws) return;
        this.onFrame(event);
      }
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.onSocketEnd();
    };
    ws.onerror = () => {
      // The spec has a close event follow every error, but not every implementation sends it
      // (Node 22's WebSocket does not when the connection drops during the handshake): the
      // socket is over either way.
      // Give up the socket first: closing a socket that is still connecting may fire another
      // error event, synchronously in some implementations.
      if (this.ws !== ws) return;
      this.onSocketEnd();
      try {
        ws.close();
      } catch {
        // already closing
      }
    };
  }

  private onFrame(frame: ServerFrame): void {
    this.emitter.emit('frame', frame);
    switch (frame.type) {
      case 'attached':
        return this.onAttached(frame);
      case 'ack':
        return this.onAck(frame);
      case 'error':
        return this.onError(frame);
      case 'closing':
        this.closingFrame = frame;
        this.emitter.emit('closing', frame);
        return;
      default:
        return this.deliver(frame);
    }
  }

  private onAttached(frame: AttachedFrame): void {
    this.attachedFrame = frame;
    this.socketAttached = true;
    this.everAttached = true;
    this.attempt = 0;
    this.unauthorizedRetried = false;
    // The backlog ends at the last event this participant will see; an older server names only the head.
    this.catchUpHead = frame.visibleHead ?? frame.head;
    this.probeForLive = frame.visibleHead === undefined;
    this.emitter.emit('attached', frame);
    const interval = this.options.heartbeatIntervalMs ?? (frame.heartbeatTimeoutMs === undefined ? undefined : frame.heartbeatTimeoutMs / 3);
    clearInterval(this.heartbeatTimer);
    if (interval !== undefined && interval > 0) {
      this.heartbeatTimer = setInterval(() => this.sendHeartbeat(), interval);
    }
    this.scheduleRenewal();
    if (this.delivered >= this.catchUpHead) {
      this.setState('live');
    } else {
      this.setState('catching-up');
      if (this.probeForLive) this.armProbe();
    }
    this.pump();
  }

  private onAck(frame: ServerAckFrame): void {
    const request = frame.ref === undefined ? undefined : this.requests.get(frame.ref);
    if (request !== undefined) {
      this.requests.delete(frame.ref as string);
      request.resolve(frame);
      return;
    }
    if (this.producer.onAck(frame)) this.pump();
  }

  private onError(frame: ErrorFrame): void {
    const request = frame.ref === undefined ? undefined : this.requests.get(frame.ref);
    if (request !== undefined) {
      this.requests.delete(frame.ref as string);
      request.reject(new DurableSessionsError({ code: frame.code, message: frame.message, source: 'socket', ref: frame.ref }));
      return;
    }
    const outcome = this.producer.onError(frame);
    if (outcome === undefined) {
      // Not about one of our appends: the implicit join, a refused subscription, an erasure.
      this.emitter.emit(
        'error',
        new DurableSessionsError({
          code: frame.code,
          message: frame.message,
          source: 'socket',
          ...(frame.ref === undefined ? {} : { ref: frame.ref }),
          ...(frame.retryAfterMs === undefined ? {} : { retryAfterMs: frame.retryAfterMs }),
        }),
      );
      return;
    }
    if (outcome.report !== undefined) this.emitter.emit('error', outcome.report);
    if (outcome.holdMs > 0) {
      this.holdUntil = Date.now() + outcome.holdMs;
      clearTimeout(this.holdTimer);
      this.holdTimer = setTimeout(() => this.pump(), outcome.holdMs);
    }
    this.pump();
  }

  private deliver(event: SessionEvent): void {
    if (typeof event.offset !== 'number') {
      this.emitter.emit('error', clientError('protocol_violation', `event ${String(event.type)} has no offset`));
      return;
    }
    if (event.offset <= this.delivered) return; // a duplicate: already delivered
    this.delivered = event.offset;
    const backlog = event.offset <= this.catchUpHead;
    this.emitter.emit('event', event, { backlog });
    this.saveOffset(event.offset);
    this.scheduleAck();
    if (this.stateValue === 'catching-up') {
      if (this.delivered >= this.catchUpHead) this.setState('live');
      else if (this.probeForLive) this.armProbe();
    }
  }

  private onSocketEnd(): void {
    const closing = this.closingFrame;
    const wasAttached = this.socketAttached;
    this.ws = undefined;
    this.socketAttached = false;
    this.closingFrame = undefined;
    this.stopSocketTimers();
    this.failRequests(clientError('connection_closed', 'the socket closed before the answer'));
    this.producer.resetSends();
    if (this.isClosed()) return;
    if (this.leaving) {
      this.finish(clientError('connection_closed', 'the socket closed while leaving; the leave may or may not have happened'));
      return;
    }
    this.setState(this.everAttached ? 'reconnecting' : 'connecting');

    if (closing !== undefined) {
      if (!closing.resumable) {
        this.finish(closingError(closing));
        return;
      }
      if (closing.reason === 'token_expired') {
        if (!this.tokens.renewable) {
          this.finish(new DurableSessionsError({ code: 'token_expired', message: closing.message, source: 'closing', closing }));
          return;
        }
        this.tokens.refresh().then(
          () => void this.openSocket(),
          (cause) => {
            this.emitter.emit('error', clientError('unauthorized', 'getToken failed', cause));
            this.scheduleReconnect();
          },
        );
        return;
      }
      this.scheduleReconnect();
      return;
    }
    if (!wasAttached) {
      void this.diagnoseRefusedConnect();
      return;
    }
    this.scheduleReconnect();
  }

  /**
   * A socket that closed before `attached` was most likely refused before the upgrade, with an
   * HTTP status a WebSocket API does not show. The same checks answer a history read, so ask
   * it: a refusal that will not go away stops the connection; anything else is retried.
   */
  private async diagnoseRefusedConnect(): Promise<void> {
    try {
      await this.rest.history(this.sessionId, { after: this.delivered, limit: 1 });
    } catch (error) {
      if (this.isClosed()) return;
      if (isDurableSessionsError(error)) {
        if (error.code === 'unauthorized' && this.tokens.renewable && !this.unauthorizedRetried) {
          // A provider may have just rotated its keys (§2): one more try with a fresh token.
          this.unauthorizedRetried = true;
          await this.tokens.refresh().catch(() => undefined);
        } else if (FATAL_ON_CONNECT.has(error.code)) {
          this.finish(error);
          return;
        }
        this.emitter.emit('error', error);
      }
    }
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.isClosed() || this.reconnectTimer !== undefined) return;
    const delay = backoffDelay(this.attempt++, this.policy, this.random);
    this.reconnectTimer = setTimeout(() => void this.openSocket(), delay);
  }

  // ---- sending ----

  private pump(): void {
    if (!this.socketAttached || this.ws === undefined || Date.now() < this.holdUntil) return;
    for (const frame of this.producer.takeSendable(this.options.maxInFlight ?? 64)) this.sendFrame(frame);
  }

  private sendFrame(frame: ClientFrame): boolean {
    const ws = this.ws;
    if (ws === undefined || ws.readyState !== OPEN) return false;
    try {
      ws.send(JSON.stringify(frame));
    } catch {
      return false; // the close event follows and everything unanswered is resent
    }
    this.emitter.emit('sent', frame);
    return true;
  }

  private request<F extends AuthFrame | LeaveFrame>(frame: Omit<F, 'ref'>): Promise<ServerAckFrame> {
    return new Promise((resolve, reject) => {
      if (!this.socketAttached) return reject(clientError('connection_closed', `no attached socket to send ${frame.type}`));
      const ref = `r${++this.refCounter}`;
      this.requests.set(ref, { resolve, reject });
      if (!this.sendFrame({ ...frame, ref } as ClientFrame)) {
        this.requests.delete(ref);
        reject(clientError('connection_closed', `could not send ${frame.type}`));
      }
    });
  }

  private sendHeartbeat(): void {
    const offset = this.delivered;
    if (this.sendFrame(offset > 0 ? { type: 'heartbeat', offset } : { type: 'heartbeat' })) this.ackedUpTo = Math.max(this.ackedUpTo, offset);
  }

  private scheduleAck(): void {
    if (this.ackTimer !== undefined) return;
    this.ackTimer = setTimeout(() => {
      this.ackTimer = undefined;
      const offset = this.delivered;
      if (offset > this.ackedUpTo && this.socketAttached && this.sendFrame({ type: 'ack', offset })) this.ackedUpTo = offset;
    }, this.options.ackIntervalMs ?? 100);
  }

  // ---- catching up ----

  /**
   * For servers without `attached.visibleHead` only: `attached.head` can be an event this
   * participant never receives (a `receipt`, another participant's `suggestion`), so delivered
   * offsets may never reach it. When the backlog goes quiet, a history read after the last
   * delivered offset tells: no visible event up to the head means the backlog is done.
   */
  private armProbe(): void {
    clearTimeout(this.probeTimer);
    this.probeTimer = setTimeout(() => void this.probeLive(), this.options.liveProbeMs ?? 250);
  }

  private async probeLive(): Promise<void> {
    const ws = this.ws;
    const after = this.delivered;
    const head = this.catchUpHead;
    if (this.stateValue !== 'catching-up') return;
    try {
      const page = await this.rest.history(this.sessionId, { after, limit: Math.min(1000, Math.max(1, head - after)) });
      if (this.ws !== ws || this.stateValue !== 'catching-up') return;
      if (page.events.length === 0 && page.next >= head) {
        this.setState('live');
        return;
      }
    } catch (error) {
      if (isDurableSessionsError(error)) this.emitter.emit('error', error);
    }
    if (this.ws === ws && this.stateValue === 'catching-up') this.armProbe();
  }

  // ---- tokens ----

  private scheduleRenewal(): void {
    clearTimeout(this.renewTimer);
    if (!this.tokens.renewable || this.options.renewTokenInBand === false) return;
    const exp = this.tokens.expiresAt();
    if (exp === undefined) return;
    const remaining = exp - Date.now();
    const margin = Math.min(this.options.tokenRenewMarginMs ?? 30_000, remaining / 2);
    const delay = Math.min(2 ** 31 - 1, Math.max(0, remaining - margin));
    this.renewTimer = setTimeout(() => void this.renewInBand(), delay);
  }

  /** Send a fresh token before the socket's expires (§2), so the socket lives on. */
  private async renewInBand(): Promise<void> {
    try {
      const token = await this.tokens.refresh();
      if (!this.socketAttached) return;
      await this.request<AuthFrame>({ type: 'auth', token });
      if (tokenExpiry(token) !== undefined) this.scheduleRenewal();
    } catch (error) {
      // The socket will be closed with 4011 and reconnect with a fresh token.
      if (isDurableSessionsError(error) && error.code !== 'connection_closed') this.emitter.emit('error', error);
    }
  }

  // ---- bookkeeping ----

  private saveOffset(offset: number): void {
    try {
      const saved = this.store.save(this.offsetKey, offset);
      if (saved instanceof Promise) saved.catch((cause) => this.emitter.emit('error', clientError('listener_error', 'the offset store failed to save', cause)));
    } catch (cause) {
      this.emitter.emit('error', clientError('listener_error', 'the offset store failed to save', cause));
    }
  }

  private setState(next: ConnectionState): void {
    const previous = this.stateValue;
    if (previous === next || previous === 'closed') return;
    this.stateValue = next;
    if (next !== 'catching-up') clearTimeout(this.probeTimer);
    this.emitter.emit('state', next, previous);
    if (next === 'live') for (const w of this.liveWaiters.splice(0)) w.resolve();
  }

  private finish(error: DurableSessionsError | undefined): void {
    if (this.isClosed()) return;
    this.finalError = error;
    this.setState('closed');
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.holdTimer);
    this.stopSocketTimers();
    const ws = this.ws;
    this.ws = undefined;
    this.socketAttached = false;
    if (ws !== undefined) {
      ws.onmessage = null;
      ws.onclose = null;
      try {
        ws.close(1000, 'closed by the client');
      } catch {
        // already closing
      }
    }
    const reason = this.closedError();
    this.failRequests(reason);
    this.producer.failAll(reason);
    for (const w of this.flushWaiters.splice(0)) w.reject(reason);
    for (const w of this.liveWaiters.splice(0)) w.reject(reason);
    if (error !== undefined) this.emitter.emit('error', error);
    this.emitter.emit('closed', error);
  }

  private isClosed(): boolean {
    return this.stateValue === 'closed';
  }

  private closedError(): DurableSessionsError {
    return this.finalError ?? clientError('connection_closed', 'the connection is closed');
  }

  private stopSocketTimers(): void {
    clearInterval(this.heartbeatTimer);
    clearTimeout(this.ackTimer);
    clearTimeout(this.probeTimer);
    clearTimeout(this.renewTimer);
    this.heartbeatTimer = undefined;
    this.ackTimer = undefined;
    this.probeTimer = undefined;
    this.renewTimer = undefined;
  }

  private failRequests(error: DurableSessionsError): void {
    const all = [...this.requests.values()];
    this.requests.clear();
    for (const r of all) r.reject(error);
  }

  private settleFlushWaiters(): void {
    if (this.producer.pending > 0) return;
    for (const w of this.flushWaiters.splice(0)) w.resolve();
  }
}
