/**
 * A client for every REST endpoint of PROTOCOL §3. Every failure is a DurableSessionsError
 * carrying the server's code, the HTTP status and Retry-After (in ms).
 */
import { TokenSource, type TokenOptions } from '../auth.js';
import { DurableSessionsError } from '../errors.js';
import type { SessionEvent } from '../protocol/events.js';
import type { ErrorBody } from '../protocol/errors.js';
import type {
  AttemptDiff,
  CommitLog,
  ControlResult,
  CreatedSession,
  ErasureRecord,
  ErasureResult,
  HandbackRequest,
  HistoryPage,
  PostMessageBody,
  PostMessageResult,
  QueueClaimResult,
  QueueListing,
  PoolsListing,
  QueuesListing,
  ReceiptCheck,
  ReceiptList,
  ResumePackage,
  SessionSummary,
  StateAtOffset,
  StateAtTurn,
  StateNow,
  TransferRequest,
  TurnDiff,
} from './types.js';

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface RestClientOptions extends TokenOptions {
  /** The node's base URL, e.g. `http://localhost:8080` (a `ws:`/`wss:` URL is accepted too). */
  url: string;
  /** A fetch implementation; defaults to the global one (browsers, Node 18+). */
  fetch?: FetchLike;
  /** Shares a token source with a connection. */
  tokenSource?: TokenSource;
}

export interface HistoryOptions {
  /** Start after this offset (default 0: the whole log). */
  after?: number;
  /** Events read per page, 1..1000 (default 1000 for iteration, the server's 100 for one page). */
  limit?: number;
  signal?: AbortSignal;
}

export interface AuditFilter {
  participant?: string;
  type?: string[];
  from?: string;
  to?: string;
}

type Query = Record<string, string | number | undefined>;

interface RequestOptions {
  method?: 'GET' | 'POST' | 'DELETE';
  query?: Query;
  body?: unknown;
  signal?: AbortSignal | undefined;
}

export class RestClient {
  readonly baseUrl: string;
  private readonly fetchImpl: FetchLike;
  private readonly tokens: TokenSource;

  constructor(options: RestClientOptions) {
    this.baseUrl = httpBaseUrl(options.url);
    const f = options.fetch ?? (globalThis.fetch as FetchLike | undefined);
    if (f === undefined) throw new TypeError('no fetch implementation: pass options.fetch');
    // Browsers refuse a fetch called on anything but the window ("Illegal invocation"): bind it.
    this.fetchImpl = options.fetch ?? f.bind(globalThis);
    this.tokens = options.tokenSource ?? new TokenSource(options);
  }

  // ---- no authentication ----

  async health(): Promise<{ status: string }> {
    return this.json('/health', {}, false);
  }

  // ---- sessions ----

  /** Creates a session; `options.pool` names its agent pool (the node's default pool if omitted). */
  createSession(id?: string, options: { pool?: string } = {}): Promise<CreatedSession> {
    const body: { id?: string; pool?: string } = {};
    if (id !== undefined) body.id = id;
    if (options.pool !== undefined) body.pool = options.pool;
    return this.json('/v1/sessions', { method: 'POST', body });
  }

  /** Support and admins only. */
  async listSessions(limit?: number): Promise<string[]> {
    const body = await this.json<{ sessions: string[] }>('/v1/sessions', { query: { limit } });
    return body.sessions;
  }

  getSession(sessionId: string): Promise<SessionSummary> {
    return this.json(sessionPath(sessionId), {});
  }

  /** One history page: events after `after` (§3 history page). */
  history(sessionId: string, options: HistoryOptions = {}): Promise<HistoryPage> {
    return this.json(sessionPath(sessionId, '/events'), {
      query: { after: options.after, limit: options.limit },
      signal: options.signal,
    });
  }

  /**
   * Every event after `after` that the caller may see, page by page, up to the head as each
   * page reports it. A page that is short while more follow (a lagging replica) is asked again.
   */
  async *events(sessionId: string, options: HistoryOptions = {}): AsyncGenerator<SessionEvent, void, undefined> {
    let after = options.after ?? 0;
    let emptyPages = 0;
    for (;;) {
      const page = await this.history(sessionId, { after, limit: options.limit ?? 1000, signal: options.signal });
      for (const event of page.events) yield event;
      if (!page.hasMore) return;
      if (page.next === after) {
        // The journal has not caught up with the head yet: ask again after a pause.
        await delay(Math.min(1000, 50 * 2 ** Math.min(emptyPages++, 5)), options.signal);
      } else {
        emptyPages = 0;
      }
      after = page.next;
    }
  }

  /** Append a message; with a producer stamp, retrying is exactly-once (§6). */
  postMessage(sessionId: string, body: PostMessageBody): Promise<PostMessageResult> {
    return this.json(sessionPath(sessionId, '/messages'), { method: 'POST', body });
  }

  // ---- control (§9) ----

  requestTransfer(sessionId: string, request: TransferRequest): Promise<ControlResult> {
    return this.json(sessionPath(sessionId, '/transfers'), { method: 'POST', body: request });
  }

  acceptTransfer(sessionId: string): Promise<ControlResult> {
    return this.json(sessionPath(sessionId, '/transfers/accept'), { method: 'POST', body: {} });
  }

  cancelTransfer(sessionId: string, reason?: string): Promise<ControlResult> {
    return this.json(sessionPath(sessionId, '/transfers/cancel'), { method: 'POST', body: reason === undefined ? {} : { reason } });
  }

  claim(sessionId: string): Promise<ControlResult> {
    return this.json(sessionPath(sessionId, '/claim'), { method: 'POST', body: {} });
  }

  handback(sessionId: string, request: HandbackRequest = {}): Promise<ControlResult> {
    return this.json(sessionPath(sessionId, '/handback'), { method: 'POST', body: request });
  }

  closeSession(sessionId: string, reason?: string): Promise<ControlResult> {
    return this.json(sessionPath(sessionId, '/close'), { method: 'POST', body: reason === undefined ? {} : { reason } });
  }

  // ---- queues (human, support, admin) ----

  listQueues(): Promise<QueuesListing> {
    return this.json('/v1/queues', {});
  }

  getQueue(queue: string): Promise<QueueListing> {
    return this.json(`/v1/queues/${encodeURIComponent(queue)}`, {});
  }

  claimFromQueue(queue: string): Promise<QueueClaimResult> {
    return this.json(`/v1/queues/${encodeURIComponent(queue)}/claim`, { method: 'POST', body: {} });
  }

  // ---- pools (admin, support) ----

  /** The pools, their connected workers and the sessions waiting for an agent (§4 `GET /v1/pools`). */
  listPools(): Promise<PoolsListing> {
    return this.json('/v1/pools', {});
  }

  // ---- state (§3 session state endpoints) ----

  /** The document now with the current turn; `{at}` as of an offset; `{turn}` at the end of a turn. */
  getState(sessionId: string): Promise<StateNow>;
  getState(sessionId: string, at: { at: number }): Promise<StateAtOffset>;
  getState(sessionId: string, at: { turn: number }): Promise<StateAtTurn>;
  getState(sessionId: string, at: { at?: number; turn?: number } = {}): Promise<StateNow | StateAtOffset | StateAtTurn> {
    return this.json(sessionPath(sessionId, '/state'), { query: { at: at.at, turn: at.turn } });
  }

  /** What changed between the end of turn `from` and the end of turn `to`. */
  diffTurns(sessionId: string, from: number, to: number): Promise<TurnDiff> {
    return this.json(sessionPath(sessionId, '/diff'), { query: { from, to } });
  }

  /** What changed between two attempts of one turn. */
  diffAttempts(sessionId: string, turn: number, attempt: number, vs: number): Promise<AttemptDiff> {
    return this.json(sessionPath(sessionId, '/diff'), { query: { turn, attempt, vs } });
  }

  commits(sessionId: string, filter: { tool?: string; path?: string; lastTurns?: number } = {}): Promise<CommitLog> {
    return this.json(sessionPath(sessionId, '/commits'), { query: { ...filter } });
  }

  /** What a restarted agent needs to carry on (§3 resume package). */
  resume(sessionId: string, after?: number): Promise<ResumePackage> {
    return this.json(sessionPath(sessionId, '/resume'), { query: { after } });
  }

  /** Every device's latest receipt (operators), or only `participant`'s. */
  receipts(sessionId: string, participant?: string): Promise<ReceiptList> {
    return this.json(sessionPath(sessionId, '/receipts'), { query: { participant } });
  }

  /** Has `participant` confirmed `offset`? */
  receiptFor(sessionId: string, participant: string, offset: number): Promise<ReceiptCheck> {
    return this.json(sessionPath(sessionId, '/receipts'), { query: { participant, offset } });
  }

  /** The audit export (support and admins), streamed as NDJSON and parsed line by line. */
  async *audit(sessionId: string, filter: AuditFilter = {}, signal?: AbortSignal): AsyncGenerator<SessionEvent, void, undefined> {
    const response = await this.send(sessionPath(sessionId, '/audit'), {
      query: { participant: filter.participant, type: filter.type?.join(','), from: filter.from, to: filter.to },
      signal,
    });
    const body = response.body;
    if (body === null) return;
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffered = '';
    try {
      for (;;) {
        const { done, value } = await reader.read();
        buffered += done ? decoder.decode() : decoder.decode(value, { stream: true });
        let newline: number;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          if (line !== '') yield JSON.parse(line) as SessionEvent;
        }
        if (done) break;
      }
      if (buffered.trim() !== '') yield JSON.parse(buffered) as SessionEvent;
    } finally {
      reader.releaseLock();
    }
  }

  // ---- tool approvals (issue 12) ----

  /** Answer a tool approval addressed to the caller, for clients without a socket. */
  answerApproval(sessionId: string, approvalId: string, answer: { approved: boolean; reason?: string }): Promise<{ offset: number }> {
    return this.json(sessionPath(sessionId, `/approvals/${encodeURIComponent(approvalId)}`), { method: 'POST', body: answer });
  }

  // ---- erasure (admins) ----

  eraseSession(sessionId: string): Promise<ErasureResult> {
    return this.json(sessionPath(sessionId), { method: 'DELETE' });
  }

  /** One page of erasure records, newest first. */
  async listErasures(options: { limit?: number; before?: string } = {}): Promise<ErasureRecord[]> {
    const body = await this.json<{ erasures: ErasureRecord[] }>('/v1/erasures', { query: { ...options } });
    return body.erasures;
  }

  /** Every erasure record the token covers, newest first, page by page. */
  async *erasures(pageSize = 100): AsyncGenerator<ErasureRecord, void, undefined> {
    let before: string | undefined;
    for (;;) {
      const page = await this.listErasures({ limit: pageSize, ...(before === undefined ? {} : { before }) });
      for (const record of page) yield record;
      const last = page[page.length - 1];
      if (page.length < pageSize || last === undefined) return;
      before = last.erasedAt;
    }
  }

  getErasure(sessionId: string): Promise<ErasureRecord> {
    return this.json(`/v1/erasures/${encodeURIComponent(sessionId)}`, {});
  }

  /** The Prometheus text of `/metrics` (no authentication). */
  async metrics(): Promise<string> {
    const response = await this.send('/metrics', {}, false);
    return response.text();
  }

  // ---- plumbing ----

  private async json<T>(path: string, options: RequestOptions, authenticated = true): Promise<T> {
    const response = await this.send(path, options, authenticated);
    return (await response.json()) as T;
  }

  /** Sends the request; a `token_expired` answer is retried once with a fresh token when one can be had. */
  private async send(path: string, options: RequestOptions, authenticated = true): Promise<Response> {
    let response = await this.attempt(path, options, authenticated ? await this.tokens.current() : undefined);
    if (response.status === 401 && authenticated && this.tokens.renewable) {
      const error = await errorOf(response);
      if (error.code !== 'token_expired') throw error;
      response = await this.attempt(path, options, await this.tokens.refresh());
    }
    if (!response.ok) throw await errorOf(response);
    return response;
  }

  private async attempt(path: string, options: RequestOptions, token: string | undefined): Promise<Response> {
    const headers: Record<string, string> = {};
    if (token !== undefined) headers['Authorization'] = `Bearer ${token}`;
    if (options.body !== undefined) headers['Content-Type'] = 'application/json';
    const init: RequestInit = { method: options.method ?? 'GET', headers };
    if (options.body !== undefined) init.body = JSON.stringify(options.body);
    if (options.signal !== undefined) init.signal = options.signal;
    try {
      return await this.fetchImpl(this.baseUrl + path + queryString(options.query), init);
    } catch (cause) {
      if (options.signal?.aborted) throw cause;
      throw new DurableSessionsError({
        code: 'network_error',
        message: `${init.method} ${path}: ${cause instanceof Error ? cause.message : String(cause)}`,
        source: 'rest',
        cause,
      });
    }
  }
}

/** Turns an HTTP error answer into a DurableSessionsError with its code, status and Retry-After. */
export async function errorOf(response: Response): Promise<DurableSessionsError> {
  const retryAfterMs = parseRetryAfter(response.headers.get('Retry-After'));
  const text = await response.text().catch(() => '');
  let body: Partial<ErrorBody> | undefined;
  try {
    body = JSON.parse(text) as Partial<ErrorBody>;
  } catch {
    body = undefined;
  }
  const error = body?.error;
  return new DurableSessionsError({
    code: error?.code ?? 'http_error',
    message: error?.message ?? `HTTP ${response.status}${text === '' ? '' : `: ${text.slice(0, 200)}`}`,
    source: 'rest',
    status: response.status,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });
}

/** `Retry-After` is whole seconds or an HTTP date; returns ms. */
export function parseRetryAfter(value: string | null): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

export function httpBaseUrl(url: string): string {
  return url.replace(/^ws(s?):/, 'http$1:').replace(/\/+$/, '');
}

function sessionPath(sessionId: string, rest = ''): string {
  return `/v1/sessions/${encodeURIComponent(sessionId)}${rest}`;
}

function queryString(query: Query | undefined): string {
  if (query === undefined) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  const s = params.toString();
  return s === '' ? '' : `?${s}`;
}

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
