/**
 * An in-memory stand-in for a node's socket and history endpoints, for properties that need
 * thousands of connection cycles (the real node is used by the integration tests). It follows
 * PROTOCOL §4 as a server would, and can misbehave on purpose: cut sockets after a planned
 * number of frames, and resend events the client already has.
 */
import type { AttachedFrame, ParticipantRef, SessionEvent, WebSocketConstructor, WebSocketLike } from '../../src/index.js';

export interface SocketPlan {
  /** Close the socket after this many event frames (undefined: keep it open). */
  cutAfter?: number;
  /** Before the backlog, resend this many events at or below the requested offset. */
  replayOverlap?: number;
  /**
   * To a socket opened with `batch=true`, send the backlog in `events` frames of this many
   * events (the last one may hold fewer; a lone event goes in its own frame, as the server does).
   */
  batch?: number;
}

export class FakeSessionServer {
  /** Every event written, including those the reader may not see. */
  readonly log: SessionEvent[];
  private released: number;
  private readonly sockets = new Set<FakeSocket>();
  readonly plans: SocketPlan[];
  connects = 0;
  /** History requests answered (a client that has `visibleHead` needs none to go live). */
  historyReads = 0;
  readonly clientFrames: unknown[] = [];
  /** `events` frames sent. */
  eventsFrames = 0;
  /** The URL of every socket opened. */
  readonly urls: string[] = [];
  /** Whether `attached` carries `visibleHead`, as today's servers send it (older ones did not). */
  private readonly announceVisibleHead: boolean;

  constructor(
    log: SessionEvent[],
    private readonly reader: ParticipantRef,
    private readonly visible: (e: SessionEvent) => boolean,
    options: { initiallyReleased: number; plans: SocketPlan[]; announceVisibleHead?: boolean },
  ) {
    this.log = log;
    this.announceVisibleHead = options.announceVisibleHead ?? false;
    this.released = Math.min(options.initiallyReleased, log.length);
    this.plans = [...options.plans];
  }

  get head(): number {
    return this.released;
  }

  get done(): boolean {
    return this.released >= this.log.length;
  }

  /** Called with every frame a client sends (after `clientFrames` records it). */
  onClientFrame: ((frame: Record<string, unknown>) => void) | undefined;

  /** Append an event to the log (offset, at and by filled in) and send it to every attached socket. */
  write(event: Record<string, unknown>, by: ParticipantRef = this.reader): SessionEvent {
    const full = { by, at: new Date(Date.UTC(2026, 0, 1) + this.log.length).toISOString(), ...event, offset: this.log.length + 1 } as unknown as SessionEvent;
    this.log.push(full);
    while (this.releaseNext());
    return full;
  }

  /** Send a control frame (an ack, an error) to every attached socket. */
  reply(frame: Record<string, unknown>): void {
    for (const s of [...this.sockets]) if (s.attached) s.control(frame);
  }

  /** Send a `closing` frame on every open socket, then close them (as the server does). */
  closeAll(closing: Record<string, unknown>): void {
    for (const s of [...this.sockets]) {
      s.control({ type: 'closing', ...closing });
      s.close();
    }
  }

  /** Write the next event: it goes to every attached socket. */
  releaseNext(): boolean {
    if (this.done) return false;
    const event = this.log[this.released]!;
    this.released++;
    for (const s of [...this.sockets]) if (s.attached) s.push(event);
    return true;
  }

  WebSocket(): WebSocketConstructor {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const server = this;
    return class extends FakeSocket {
      constructor(url: string) {
        super(server, url);
      }
    };
  }

  /** A fetch answering GET /v1/sessions/{id}/events like the history endpoint. */
  fetch = async (input: string): Promise<Response> => {
    this.historyReads++;
    const url = new URL(input);
    const after = Number(url.searchParams.get('after') ?? '0');
    const limit = Number(url.searchParams.get('limit') ?? '100');
    const head = this.head;
    const to = Math.min(head, after + limit);
    const events = this.log.slice(after, to).filter(this.visible);
    return new Response(JSON.stringify({ sessionId: 's', head, events, next: Math.max(after, to), hasMore: to < head }), {
      status: 200,
      headers: { 'Content-Type': 'application/json' },
    });
  };

  /** @internal */
  open(socket: FakeSocket): void {
    this.sockets.add(socket);
  }

  /** @internal */
  closed(socket: FakeSocket): void {
    this.sockets.delete(socket);
  }

  /** @internal */
  attachedFrame(after: number): AttachedFrame {
    const frame: AttachedFrame = { type: 'attached', sessionId: 's', participant: this.reader, device: 'd', head: this.head, after, heartbeatTimeoutMs: 30000 };
    if (this.announceVisibleHead) {
      const seen = this.log.slice(after, this.head).filter(this.visible);
      frame.visibleHead = seen.length === 0 ? after : seen[seen.length - 1]!.offset;
    }
    return frame;
  }

  /** @internal */
  isVisible(e: SessionEvent): boolean {
    return this.visible(e);
  }
}

class FakeSocket implements WebSocketLike {
  readyState = 0;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  attached = false;
  private sent = 0;
  private readonly plan: SocketPlan;

  constructor(
    private readonly server: FakeSessionServer,
    url: string,
  ) {
    const offset = Number(new URL(url).searchParams.get('offset') ?? '0');
    const batching = new URL(url).searchParams.get('batch') === 'true';
    server.connects++;
    server.urls.push(url);
    this.plan = server.plans.shift() ?? {};
    server.open(this);
    setTimeout(() => {
      if (this.readyState !== 0) return;
      this.readyState = 1;
      this.onopen?.({});
      this.frame(server.attachedFrame(offset));
      this.attached = true;
      const overlap = this.plan.replayOverlap ?? 0;
      const backlog = server.log.slice(Math.max(0, offset - overlap), server.head);
      const size = batching ? (this.plan.batch ?? 1) : 1;
      if (size < 2) {
        for (const e of backlog) {
          if (this.readyState !== 1) return;
          if (server.isVisible(e)) this.push(e);
        }
        return;
      }
      const visible = backlog.filter((e) => server.isVisible(e));
      for (let i = 0; i < visible.length && this.readyState === 1; i += size) {
        const chunk = visible.slice(i, i + size);
        if (chunk.length === 1) this.push(chunk[0]!);
        else {
          this.server.eventsFrames++;
          this.counted({ type: 'events', events: chunk });
        }
      }
    }, 0);
  }

  push(event: SessionEvent): void {
    if (this.readyState !== 1 || !this.server.isVisible(event)) return;
    this.counted(event);
  }

  /** Sends a frame that carries events, and cuts the socket when the plan says so. */
  private counted(frame: unknown): void {
    this.frame(frame);
    this.sent++;
    if (this.plan.cutAfter !== undefined && this.sent >= this.plan.cutAfter) this.drop();
  }

  send(data: string): void {
    const frame = JSON.parse(data) as Record<string, unknown>;
    this.server.clientFrames.push(frame);
    queueMicrotask(() => this.server.onClientFrame?.(frame));
  }

  control(frame: Record<string, unknown>): void {
    if (this.readyState === 1) this.frame(frame);
  }

  close(): void {
    this.drop();
  }

  private frame(f: unknown): void {
    // A real socket delivers JSON text; the client parses its own copy.
    this.onmessage?.({ data: JSON.stringify(f) });
  }

  private drop(): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.attached = false;
    this.server.closed(this);
    setTimeout(() => this.onclose?.({ code: 1006, reason: '' }), 0);
  }
}
