/**
 * The session view is the same whether the events came live, through a connection cut at
 * random points (and a server that resends what the client has), or by one catch-up: the
 * property runs the real SessionConnection and SessionStore against an in-memory server.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  connect,
  foldEvents,
  initialSessionView,
  reduceSession,
  SessionStore,
  type DurableSessionsError,
  type ParticipantRef,
  type SessionEvent,
  type SessionView,
} from '../../src/index.js';
import { buildLog, visibleTo, type Move } from '../support/event-model.js';
import { FakeSessionServer, type SocketPlan } from '../support/fake-server.js';
import { waitFor } from '../support/wait.js';

const SEED = Number(process.env['FC_SEED'] ?? 20261130);
const reader: ParticipantRef = { id: 'user-0', role: 'user', subject: 'user-0' };

const moveArb: fc.Arbitrary<Move> = fc.tuple(fc.nat(21), fc.nat(1000), fc.constantFrom('', 'a', 'hello ', 'wörld ', '😀', 'x y'));
const planArb: fc.Arbitrary<SocketPlan> = fc.record({
  cutAfter: fc.option(fc.integer({ min: 1, max: 8 }), { nil: undefined }),
  replayOverlap: fc.integer({ min: 0, max: 5 }),
  batch: fc.option(fc.integer({ min: 2, max: 6 }), { nil: undefined }),
});

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

async function followToTheEnd(server: FakeSessionServer, lastVisible: number, releaseLive: boolean) {
  const errors: DurableSessionsError[] = [];
  const delivered: number[] = [];
  const connection = connect({
    url: 'http://fake.invalid',
    sessionId: 's',
    token: 'not-checked',
    device: 'tab-1',
    WebSocket: server.WebSocket(),
    fetch: server.fetch,
    backoff: { initialDelayMs: 0, maxDelayMs: 0 },
    liveProbeMs: 1,
    ackIntervalMs: 1,
  });
  const store = new SessionStore(connection);
  store.subscribe((view) => deepFreeze(view));
  connection.on('event', (e) => delivered.push(e.offset));
  connection.on('error', (e) => errors.push(e));
  while (releaseLive && server.releaseNext()) await new Promise((r) => setImmediate(r));
  await waitFor(() => connection.lastOffset === lastVisible && connection.state === 'live', { timeoutMs: 10_000, what: 'the connection to deliver everything' });
  connection.close();
  return { view: store.getView(), delivered, errors };
}

describe('the session view', () => {
  it('is identical live, through cut connections, and by catch-up', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(moveArb, { minLength: 1, maxLength: 150 }),
        fc.nat(),
        fc.array(planArb, { maxLength: 15 }),
        async (moves, released, plans) => {
          const log = buildLog(moves);
          const visible = visibleTo(log, reader);
          const isVisible = (e: SessionEvent) => e.type !== 'receipt' && (e.type !== 'suggestion' || e.by.id === reader.id);
          const lastVisible = visible[visible.length - 1]!.offset;

          // Today's servers name the backlog's last visible offset (attached.visibleHead); older
          // ones only the head, and the client probes the history instead. Both ways, each run.
          const announce = released % 2 === 0;
          const live = new FakeSessionServer(log, reader, isVisible, { initiallyReleased: released % (log.length + 1), plans, announceVisibleHead: announce });
          const liveRun = await followToTheEnd(live, lastVisible, true);

          // The one catch-up comes in events frames (the connection asks for them by default).
          const catchUp = new FakeSessionServer(log, reader, isVisible, {
            initiallyReleased: log.length,
            plans: [{ batch: 2 + (released % 5) }],
            announceVisibleHead: !announce,
          });
          const catchUpRun = await followToTheEnd(catchUp, lastVisible, false);
          expect(catchUp.urls[0]).toContain('batch=true');
          if (visible.length >= 2) expect(catchUp.eventsFrames).toBeGreaterThan(0);
          // With visibleHead the client knows where the backlog ends: it reads no history to go live.
          expect((announce ? live : catchUp).historyReads).toBe(0);

          expect(liveRun.errors).toEqual([]);
          expect(liveRun.delivered).toEqual(visible.map((e) => e.offset));
          expect(catchUpRun.delivered).toEqual(visible.map((e) => e.offset));
          expect(liveRun.view).toEqual(catchUpRun.view);
          expect(liveRun.view).toEqual(foldEvents(visible));
          expect(JSON.parse(JSON.stringify(liveRun.view))).toEqual(liveRun.view);
        },
      ),
      { seed: SEED, numRuns: 120 },
    );
  });

  it('asks for one frame per event with batch: false', async () => {
    const log = buildLog([[0, 1, 'a'], [1, 2, 'b'], [2, 3, 'c']]);
    const server = new FakeSessionServer(log, reader, () => true, { initiallyReleased: log.length, plans: [{ batch: 3 }], announceVisibleHead: true });
    const connection = connect({ url: 'http://fake.invalid', sessionId: 's', token: 't', WebSocket: server.WebSocket(), fetch: server.fetch, batch: false });
    await waitFor(() => connection.state === 'live', { timeoutMs: 5_000, what: 'live' });
    connection.close();
    expect(server.urls[0]).not.toContain('batch=');
    expect(server.eventsFrames).toBe(0);
  });

  it('ignores events at or below its offset, so duplicates never change it', () => {
    fc.assert(
      fc.property(fc.array(moveArb, { minLength: 1, maxLength: 120 }), fc.nat(), (moves, cut) => {
        const events = buildLog(moves);
        const k = cut % events.length;
        const once = foldEvents(events);
        const twice = foldEvents([...events.slice(0, k + 1), ...events.slice(0, k + 1), ...events.slice(k)]);
        expect(twice).toEqual(once);
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('never changes the view it is given', () => {
    fc.assert(
      fc.property(fc.array(moveArb, { minLength: 1, maxLength: 120 }), (moves) => {
        let view: SessionView = deepFreeze(initialSessionView());
        for (const e of buildLog(moves)) view = deepFreeze(reduceSession(view, deepFreeze(e)));
        expect(view.offset).toBeGreaterThan(0);
      }),
      { seed: SEED, numRuns: 200 },
    );
  });
});
