/**
 * The worker side of the agent worker socket (PROTOCOL §4 `GET /v1/workers`) against a scripted
 * fake node: hello and welcome, heartbeats on the welcome's interval, reconnect with the held
 * leases in `holding`, revoke and lost leases aborting the assignment's signal, release,
 * capacity, join() under the lease.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startWorker, type Assignment, type ResumePackage, type Worker, type WorkerOptions } from '../../src/index.js';
import { FakeWorkerServer } from '../support/fake-worker-server.js';
import { waitFor } from '../support/wait.js';

const resume: ResumePackage = {
  sessionId: 's-1',
  head: 7,
  since: 0,
  truncated: false,
  control: { phase: 'agent_in_control' },
  turn: { number: 1, attempt: 1, open: true },
  state: { tools_used: [], files_modified: [], decisions_made: [], pending_actions: [] } as ResumePackage['state'],
  openRuns: { streams: [], toolCalls: [], agentStatus: {} },
  addressed: [],
};

function assign(sessionId: string, lease: number, offset = 7) {
  return { type: 'assign', sessionId, lease, reason: 'needs_agent', offset, resume: { ...resume, sessionId, head: offset } } as const;
}

let server: FakeWorkerServer;
let worker: Worker | undefined;
const assignments: Assignment[] = [];

function start(options: Partial<WorkerOptions> = {}): Worker {
  worker = startWorker({
    url: server.url,
    token: 'token-of-worker-a',
    pool: 'support-bot',
    capacity: 4,
    handler: (a) => {
      assignments.push(a);
    },
    backoff: { initialDelayMs: 10, maxDelayMs: 20 },
    ...options,
  });
  return worker;
}

beforeEach(async () => {
  server = await FakeWorkerServer.start();
  assignments.length = 0;
});

afterEach(async () => {
  await worker?.close();
  worker = undefined;
  await server.stop();
});

describe('a worker', () => {
  it('says hello with its pool and capacity first, and is ready once welcomed', async () => {
    const w = start();
    expect(w.state).toBe('connecting');
    await w.whenReady();
    expect(server.frames[0]?.frame).toEqual({ type: 'hello', pool: 'support-bot', capacity: 4 });
    expect(w.id).toBe('worker-a');
    expect(server.upgrades[0]).toBe('/v1/workers?access_token=token-of-worker-a');
  });

  it('sends heartbeats on the interval of the welcome, and none before it', async () => {
    server.onHello = (hello) => [server.welcome(hello, { heartbeatIntervalMs: 60 })];
    const w = start();
    await w.whenReady();
    const hello = server.framesOf('hello')[0]!;
    const beats = await waitFor(() => server.framesOf('heartbeat').length >= 4 && server.framesOf('heartbeat'), { what: 'four heartbeats' });
    expect(beats[0]!.at).toBeGreaterThanOrEqual(hello.at);
    const gaps = beats.slice(1, 4).map((b, i) => b.at - beats[i]!.at);
    for (const gap of gaps) {
      expect(gap).toBeGreaterThanOrEqual(50);
      expect(gap).toBeLessThan(600);
    }
  });

  it('calls the handler once per assignment, with the lease, reason, offset and resume package', async () => {
    const w = start();
    await w.whenReady();
    server.send(assign('s-1', 3, 9));
    server.send(assign('s-1', 3, 9)); // the same lease again changes nothing
    await waitFor(() => assignments.length === 1);
    const a = assignments[0]!;
    expect([a.sessionId, a.lease, a.reason, a.offset, a.resume.sessionId]).toEqual(['s-1', 3, 'needs_agent', 9, 's-1']);
    expect(a.signal.aborted).toBe(false);
    expect(w.holdings).toEqual([{ sessionId: 's-1', lease: 3 }]);
  });

  it('aborts the assignment on revoke, with stale_lease, and drops it from its holdings', async () => {
    const w = start();
    await w.whenReady();
    server.send(assign('s-1', 3));
    server.send(assign('s-2', 1));
    await waitFor(() => assignments.length === 2);
    server.send({ type: 'revoke', sessionId: 's-1', lease: 3, reason: 'lease_expired' });
    await waitFor(() => assignments[0]!.signal.aborted);
    expect(assignments[0]!.ended).toEqual({ reason: 'revoked', detail: 'lease_expired' });
    expect((assignments[0]!.signal.reason as { code: string }).code).toBe('stale_lease');
    expect(assignments[1]!.signal.aborted).toBe(false);
    expect(w.holdings).toEqual([{ sessionId: 's-2', lease: 1 }]);
  });

  it('reconnects after a cut with the leases it works on in holding, keeps the kept and aborts the lost', async () => {
    const w = start();
    await w.whenReady();
    server.send(assign('s-1', 3));
    server.send(assign('s-2', 5));
    await waitFor(() => assignments.length === 2);
    server.onHello = (hello) => [server.welcome(hello, { kept: [{ sessionId: 's-1', lease: 3 }], lost: [{ sessionId: 's-2', lease: 5 }] })];
    server.cut();
    await waitFor(() => server.framesOf('hello').length === 2, { what: 'a second hello' });
    const hello = server.framesOf('hello')[1]!.frame;
    expect(hello.holding).toEqual([
      { sessionId: 's-1', lease: 3 },
      { sessionId: 's-2', lease: 5 },
    ]);
    await w.whenReady();
    await waitFor(() => assignments[1]!.signal.aborted, { what: 'the lost lease aborted' });
    expect(assignments[1]!.ended?.reason).toBe('lost');
    expect(assignments[0]!.signal.aborted).toBe(false);
    expect(w.holdings).toEqual([{ sessionId: 's-1', lease: 3 }]);
  });

  it('keeps working on its sessions while it cannot reach the node: whether a lease ended is the node’s to say', async () => {
    server.onHello = (hello) => [server.welcome(hello, { leaseTimeoutMs: 300, heartbeatIntervalMs: 100 })];
    const w = start({ backoff: { initialDelayMs: 1000, maxDelayMs: 1000 } });
    await w.whenReady();
    server.send(assign('s-1', 3));
    await waitFor(() => assignments.length === 1);
    server.refuse = true;
    server.cut();
    const upgrades = server.upgrades.length;
    // Reconnects come well within the lease timeout (its cap is a quarter of it), not after 1 s.
    await waitFor(() => server.upgrades.length >= upgrades + 3, { what: 'reconnects', timeoutMs: 1000 });
    expect(assignments[0]!.signal.aborted).toBe(false);
    expect(w.state).toBe('reconnecting');
    server.onHello = (hello) => [server.welcome(hello, { lost: [{ sessionId: 's-1', lease: 3 }] })];
    server.refuse = false;
    await waitFor(() => assignments[0]!.signal.aborted, { what: 'the lease reported lost' });
    expect(assignments[0]!.ended?.reason).toBe('lost');
  });

  it('hands back a lease the node kept but the worker no longer works on', async () => {
    const w = start();
    await w.whenReady();
    server.send(assign('s-1', 3));
    await waitFor(() => assignments.length === 1);
    server.send({ type: 'revoke', sessionId: 's-1', lease: 3, reason: 'lease_expired' });
    await waitFor(() => assignments[0]!.signal.aborted);
    server.send(server.welcome({ pool: 'support-bot', capacity: 4 }, { kept: [{ sessionId: 's-1', lease: 3 }] }));
    expect(await waitFor(() => server.framesOf('release')[0]?.frame)).toMatchObject({ sessionId: 's-1', lease: 3 });
  });

  it('ends the assignment when the session refuses a write under its lease (stale_lease)', async () => {
    const w = start();
    await w.whenReady();
    server.send(assign('s-1', 3));
    await waitFor(() => assignments.length === 1);
    const agent = await assignments[0]!.join();
    server.sessionSockets[0]!.send(JSON.stringify({ type: 'error', code: 'stale_lease', message: 'lease 3 of s-1 is not the current one', ref: 'x' }));
    await waitFor(() => assignments[0]!.signal.aborted);
    expect(assignments[0]!.ended).toEqual({ reason: 'fenced', detail: 'lease 3 of s-1 is not the current one' });
    expect(agent.connection.state).toBe('closed');
    expect(w.holdings).toEqual([]);
  });

  it('sends release with the lease and reason; release() resolves on released and aborts the signal', async () => {
    const w = start();
    await w.whenReady();
    server.send(assign('s-1', 3));
    await waitFor(() => assignments.length === 1);
    const released = assignments[0]!.release('done');
    const frame = await waitFor(() => server.framesOf('release')[0]?.frame);
    expect(frame).toEqual({ type: 'release', ref: 'release:s-1:3', sessionId: 's-1', lease: 3, reason: 'done' });
    let settled = false;
    void released.then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(settled).toBe(false); // not before the node recorded it
    server.send({ type: 'released', sessionId: 's-1', lease: 3 });
    await released;
    expect(assignments[0]!.ended?.reason).toBe('released');
    expect(assignments[0]!.signal.aborted).toBe(true);
    expect(w.holdings).toEqual([]);
  });

  it('ends the assignment when the node refuses its release as a lease it does not hold', async () => {
    const w = start();
    await w.whenReady();
    server.send(assign('s-1', 3));
    await waitFor(() => assignments.length === 1);
    const released = assignments[0]!.release('done');
    const frame = await waitFor(() => server.framesOf('release')[0]?.frame);
    server.send({ type: 'error', code: 'stale_lease', message: 'this worker does not hold lease 3 of s-1', ref: frame.ref });
    await released;
    expect(assignments[0]!.ended?.reason).toBe('lost');
    expect(w.holdings).toEqual([]);
  });

  it('sends a release again when the node answers unavailable', async () => {
    const w = start();
    await w.whenReady();
    server.send(assign('s-1', 3));
    await waitFor(() => assignments.length === 1);
    const released = assignments[0]!.release('done');
    const first = await waitFor(() => server.framesOf('release')[0]?.frame);
    server.send({ type: 'error', code: 'unavailable', message: 'the session did not answer', ref: first.ref });
    const again = await waitFor(() => server.framesOf('release')[1]?.frame, { what: 'the release sent again' });
    expect(again).toEqual(first);
    server.send({ type: 'released', sessionId: 's-1', lease: 3 });
    await released;
    expect(assignments[0]!.ended?.reason).toBe('released');
  });

  it('does not release when the handler returns', async () => {
    const w = start({ handler: async (a) => void assignments.push(a) });
    await w.whenReady();
    server.send(assign('s-1', 3));
    await waitFor(() => assignments.length === 1);
    server.send(assign('s-2', 1));
    await waitFor(() => assignments.length === 2);
    expect(server.framesOf('release')).toEqual([]);
    expect(w.holdings).toHaveLength(2);
  });

  it('sends a capacity frame on setCapacity, and the new capacity in the next hello', async () => {
    const w = start();
    await w.whenReady();
    w.setCapacity(0);
    expect(await waitFor(() => server.framesOf('capacity')[0]?.frame)).toEqual({ type: 'capacity', capacity: 0 });
    server.cut();
    await waitFor(() => server.framesOf('hello').length === 2);
    expect(server.framesOf('hello')[1]!.frame.capacity).toBe(0);
    expect(() => w.setCapacity(10_001)).toThrow(RangeError);
  });

  it('joins a session under its lease, from the assignment offset, and closes that socket when the lease ends', async () => {
    const w = start();
    await w.whenReady();
    server.send(assign('s-1', 3, 9));
    await waitFor(() => assignments.length === 1);
    const agent = await assignments[0]!.join();
    const url = new URL(server.upgrades.find((u) => u.startsWith('/v1/sessions/'))!, 'http://x');
    expect(url.pathname).toBe('/v1/sessions/s-1/ws');
    expect(url.searchParams.get('lease')).toBe('3');
    expect(url.searchParams.get('offset')).toBe('9');
    expect(url.searchParams.get('device')).toBe(w.device);
    expect(assignments[0]!.session).toBe(agent.connection);
    server.send({ type: 'revoke', sessionId: 's-1', lease: 3, reason: 'session_closed' });
    await waitFor(() => agent.connection.state === 'closed', { what: 'the session socket closed' });
  });

  it('stops for good when the node refuses its hello', async () => {
    server.onHello = () => [
      { type: 'error', code: 'unknown_pool', message: 'no pool support-bot' },
      { type: 'closing', code: 'unknown_pool', reason: 'the hello was refused', resumable: false },
    ];
    const errors: string[] = [];
    const w = start();
    w.on('closed', (e) => errors.push(e?.code ?? 'none'));
    const ready = w.whenReady().then(
      () => 'ready',
      () => 'refused',
    );
    await waitFor(() => server.framesOf('hello').length === 1);
    // The fake does not close the socket itself: a refused hello ends with the node's close.
    server.cut();
    await waitFor(() => w.state === 'closed');
    expect(errors).toEqual(['unknown_pool']);
    expect(await ready).toBe('refused');
    expect(server.framesOf('hello')).toHaveLength(1);
  });

  it('is replaced, not reconnected, when the same worker connects elsewhere', async () => {
    const w = start();
    await w.whenReady();
    server.send(assign('s-1', 3));
    await waitFor(() => assignments.length === 1);
    server.send({ type: 'closing', code: 'replaced', reason: 'this worker connected again elsewhere', resumable: false });
    server.cut();
    await waitFor(() => w.state === 'closed');
    expect(assignments[0]!.ended?.reason).toBe('worker_closed');
    expect(server.framesOf('hello')).toHaveLength(1);
  });

  it('releases everything on close({ release: true }) and closes its socket', async () => {
    server.onHello = (hello) => [server.welcome(hello)];
    const w = start();
    await w.whenReady();
    server.send(assign('s-1', 3));
    server.send(assign('s-2', 4));
    await waitFor(() => assignments.length === 2);
    const closing = w.close({ release: true });
    await waitFor(() => server.framesOf('release').length === 2);
    for (const r of server.framesOf('release')) server.send({ type: 'released', sessionId: r.frame.sessionId, lease: r.frame.lease });
    await closing;
    expect(w.state).toBe('closed');
    expect(assignments.map((a) => a.ended?.reason)).toEqual(['released', 'released']);
  });
});
