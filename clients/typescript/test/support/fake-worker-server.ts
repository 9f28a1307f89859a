/**
 * A small stand-in for a node's worker socket (PROTOCOL §4 `GET /v1/workers`) and, for join(),
 * its session socket: a real WebSocket server on a free port whose answers each test scripts.
 * It records every frame and every upgrade URL.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { WorkerClientFrame, WorkerServerFrame, WorkerWelcomeFrame } from '../../src/index.js';

export interface ReceivedFrame {
  socket: number;
  at: number;
  frame: WorkerClientFrame;
}

export class FakeWorkerServer {
  readonly frames: ReceivedFrame[] = [];
  /** The request URL of every upgrade, in order. */
  readonly upgrades: string[] = [];
  /** Session sockets (join()), in the order they connected. */
  readonly sessionSockets: WebSocket[] = [];
  /** Worker sockets, in the order they connected. */
  readonly sockets: WebSocket[] = [];
  /** Refuse new worker sockets (close them at once). */
  refuse = false;
  /** What the server answers a hello with (default: welcome, nothing kept or lost). */
  onHello: (frame: Extract<WorkerClientFrame, { type: 'hello' }>, socket: number) => WorkerServerFrame[] = (hello) => [this.welcome(hello)];

  private readonly http: Server;
  private readonly wss: WebSocketServer;

  private constructor() {
    this.http = createServer((_, res) => {
      res.statusCode = 404;
      res.end();
    });
    this.wss = new WebSocketServer({ server: this.http });
    this.wss.on('connection', (ws, request) => {
      const url = request.url ?? '';
      this.upgrades.push(url);
      if (url.startsWith('/v1/sessions/')) return this.sessionSocket(ws, url);
      if (this.refuse) {
        ws.terminate();
        return;
      }
      const index = this.sockets.push(ws) - 1;
      ws.on('message', (data) => {
        const frame = JSON.parse(String(data)) as WorkerClientFrame;
        this.frames.push({ socket: index, at: Date.now(), frame });
        if (frame.type === 'hello') for (const reply of this.onHello(frame, index)) this.send(reply, index);
      });
    });
  }

  static async start(): Promise<FakeWorkerServer> {
    const server = new FakeWorkerServer();
    await new Promise<void>((resolve) => server.http.listen(0, '127.0.0.1', resolve));
    return server;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.http.address() as AddressInfo).port}`;
  }

  welcome(hello: { pool: string; capacity: number }, fields: Partial<WorkerWelcomeFrame> = {}): WorkerWelcomeFrame {
    return { type: 'welcome', worker: 'worker-a', pool: hello.pool, capacity: hello.capacity, leaseTimeoutMs: 5000, heartbeatIntervalMs: 1000, kept: [], lost: [], ...fields };
  }

  /** Send to the latest worker socket (or the given one). */
  send(frame: WorkerServerFrame | Record<string, unknown>, socket = this.sockets.length - 1): void {
    this.sockets[socket]?.send(JSON.stringify(frame));
  }

  /** Cut the latest worker socket without a close handshake, as a dead network would. */
  cut(socket = this.sockets.length - 1): void {
    this.sockets[socket]?.terminate();
  }

  framesOf<T extends WorkerClientFrame['type']>(type: T): (ReceivedFrame & { frame: Extract<WorkerClientFrame, { type: T }> })[] {
    return this.frames.filter((f) => f.frame.type === type) as (ReceivedFrame & { frame: Extract<WorkerClientFrame, { type: T }> })[];
  }

  /** A session socket that attaches at once with an empty backlog, enough for join() to go live. */
  private sessionSocket(ws: WebSocket, url: string): void {
    this.sessionSockets.push(ws);
    const params = new URL(url, 'http://x').searchParams;
    const sessionId = decodeURIComponent(url.split('/')[3] ?? '');
    const offset = Number(params.get('offset') ?? '0');
    ws.send(
      JSON.stringify({
        type: 'attached',
        sessionId,
        participant: { id: 'worker-a', role: 'agent', subject: 'worker-a' },
        device: params.get('device'),
        head: offset,
        after: offset,
        visibleHead: offset,
      }),
    );
  }

  async stop(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }
}
