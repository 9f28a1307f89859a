/**
 * The options, states and listener events of a connection.
 */
import type { TokenOptions } from '../auth.js';
import type { DurableSessionsError } from '../errors.js';
import type { SessionEvent } from '../protocol/events.js';
import type { AttachedFrame, ClientFrame, ClosingFrame, ServerFrame } from '../protocol/frames.js';
import type { FetchLike } from '../rest/client.js';
import type { BackoffPolicy } from './backoff.js';
import type { OffsetStore } from './offset-store.js';
import type { WebSocketConstructor } from './websocket.js';

/**
 * - `connecting`: before the first socket is attached.
 * - `catching-up`: attached; events up to the `head` of the `attached` frame are still arriving.
 * - `live`: every event up to that head that this participant may see has been delivered;
 *   what follows is written from now on.
 * - `reconnecting`: the socket was lost after having been attached; a new one is on its way.
 * - `closed`: for good (`close()`, `leave()`, or an error that reconnecting cannot fix).
 */
export type ConnectionState = 'connecting' | 'catching-up' | 'live' | 'reconnecting' | 'closed';

export interface DeliveryInfo {
  /** The event was in the backlog of its socket (offset ≤ the `attached` head), not written after. */
  backlog: boolean;
}

export interface ConnectionEvents {
  /** Every event this participant may see, exactly once, in offset order. */
  event: [event: SessionEvent, info: DeliveryInfo];
  state: [state: ConnectionState, previous: ConnectionState];
  attached: [frame: AttachedFrame];
  /** A problem worth knowing that the connection handles or cannot attribute to a call. A final one is also passed to `closed`. */
  error: [error: DurableSessionsError];
  closing: [frame: ClosingFrame];
  /** The connection closed for good; `error` says why unless `close()` or `leave()` ended it. */
  closed: [error: DurableSessionsError | undefined];
  /** Every frame received, parsed (for logging and tests). */
  frame: [frame: ServerFrame];
  /** Every frame sent (for logging and tests). */
  sent: [frame: ClientFrame];
}

export interface ConnectOptions extends TokenOptions {
  /** The node's base URL: `http(s)://…` or `ws(s)://…`. */
  url: string;
  sessionId: string;
  /**
   * This device, for presence: keep it stable per device (a browser tab, an agent process),
   * so that a reconnect counts as the same device coming back. Default: a random ID per
   * connection object.
   */
  device?: string;
  /**
   * A worker's dispatch lease epoch (PROTOCOL §4, leases and fencing): every write on this
   * connection is made under it and refused with `stale_lease` once the session's lease moved on.
   */
  lease?: number;
  /**
   * Ask for `events` frames (default true): the server sends events that are ready together
   * (a catch-up, a write of several events) in one frame, which the connection unpacks. false
   * asks for one frame per event, as servers before the frame send.
   */
  batch?: boolean;
  /** Where the last delivered offset is kept (default: in memory, this object only). */
  offsetStore?: OffsetStore;
  /** The key in the store (default `sessionId/device`). */
  offsetKey?: string;
  /** Start after this offset instead of the stored one (0 replays the whole session). */
  offset?: number;
  /** A WebSocket implementation where there is no global one (Node 20: the `ws` package). */
  WebSocket?: WebSocketConstructor;
  /** A fetch implementation for the REST calls (default: the global fetch). */
  fetch?: FetchLike;
  /**
   * The producer stamp of this connection's appends. `id` defaults to the device, `epoch` to
   * Date.now() when connect() is called: a restarted process therefore takes a higher epoch and
   * fences its previous incarnation (§6). Give a fixed `epoch` only if you persist it and
   * increase it on every start.
   */
  producer?: { id?: string; epoch?: number };
  backoff?: Partial<BackoffPolicy>;
  /** Delivery receipts go out at most this often (default 100 ms), and once after the last event. */
  ackIntervalMs?: number;
  /** Unanswered appends on a socket (default 64; the server reads at most 128). */
  maxInFlight?: number;
  /**
   * Against a server whose `attached` frame has no `visibleHead`: while catching up with no
   * event for this long (default 250 ms), ask the history whether the rest of the backlog is
   * invisible to this participant (receipts, others' suggestions).
   */
  liveProbeMs?: number;
  /**
   * With getToken: send a fresh token in an `auth` frame before the socket's token expires, so
   * the socket lives on (default true). Off: the server closes the socket with 4011 at expiry
   * and the connection reconnects with a fresh token.
   */
  renewTokenInBand?: boolean;
  /** Renew the token in-band this long before it expires (default 30 s, at most half its remaining life). */
  tokenRenewMarginMs?: number;
  /** Override the heartbeat interval (default: a third of the `attached` heartbeatTimeoutMs). */
  heartbeatIntervalMs?: number;
  /** The server's max-frame-size (default 64 KiB): larger appends are refused before sending. */
  maxFrameBytes?: number;
  /** Random numbers in [0, 1) for the backoff jitter (default Math.random). */
  random?: () => number;
}
