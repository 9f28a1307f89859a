/**
 * How a connection lives and ends (PROTOCOL §2, §4): heartbeats keep it, fresh tokens keep it
 * or bring it back, `closing` frames and refusals that reconnecting cannot fix stop it with
 * the server's code, the offset store resumes a new connection, and the producer epoch fences
 * an older incarnation. The node runs with a 3 s heartbeat timeout.
 */
import { describe, expect, it } from 'vitest';
import {
  Agent,
  connect,
  MemoryOffsetStore,
  Participant,
  type ClosingFrame,
  type ConnectionState,
  type DurableSessionsError,
  type SessionConnection,
} from '../../src/index.js';
import { token } from '../support/tokens.js';
import { waitFor } from '../support/wait.js';
import { connectAs, newSession, nodeUrl, restAs } from './harness.js';

function watch(connection: SessionConnection) {
  const states: ConnectionState[] = [];
  const closings: ClosingFrame[] = [];
  const sent: string[] = [];
  let attachments = 0;
  let closedWith: DurableSessionsError | undefined | 'open' = 'open';
  connection.on('state', (s) => states.push(s));
  connection.on('closing', (f) => closings.push(f));
  connection.on('sent', (f) => sent.push(f.type));
  connection.on('attached', () => attachments++);
  connection.on('closed', (e) => (closedWith = e));
  const t0 = Date.now();
  const timeline: string[] = [];
  connection.on('frame', (f) => {
    if (f.type === 'attached' || f.type === 'closing' || f.type === 'error' || (f.type === 'ack' && f.expiresAt !== undefined)) {
      timeline.push(`${Date.now() - t0} ms <- ${JSON.stringify(f)}`);
    }
  });
  connection.on('sent', (f) => timeline.push(`${Date.now() - t0} ms -> ${f.type}`));
  connection.on('error', (e) => timeline.push(`${Date.now() - t0} ms error ${e.code}: ${e.message}`));
  connection.on('state', (s) => timeline.push(`${Date.now() - t0} ms state ${s}`));
  return {
    /** What happened, for failure messages. */
    log: () => timeline.join('\n'),
    states,
    closings,
    sent,
    get attachments() {
      return attachments;
    },
    get closedWith() {
      return closedWith;
    },
  };
}

describe.concurrent('a connection', () => {
  it('stays on one socket through heartbeats and in-band token renewals', async () => {
    const sessionId = await newSession('keep');
    let issued = 0;
    let w: ReturnType<typeof watch> | undefined;
    const connection = await connectAs(
      'ada',
      'user',
      sessionId,
      {
        getToken: () => {
          issued++;
          return token({ sub: 'ada', role: 'user', expiresIn: 6 });
        },
      },
      (c) => (w = watch(c)),
    );
    try {
      // Two heartbeat timeouts (3 s) and two token lifetimes (6 s, renewed halfway) pass
      // while nothing is written.
      await waitFor(() => w!.sent.filter((t) => t === 'auth').length >= 2 && w!.sent.filter((t) => t === 'heartbeat').length >= 7, {
        what: 'two renewals and seven heartbeats (over two heartbeat timeouts)',
      });
      expect(w!.attachments, w!.log()).toBe(1);
      expect(w!.closings, w!.log()).toEqual([]);
      expect(w!.states, w!.log()).toEqual(['catching-up', 'live']);
      expect(issued).toBeGreaterThanOrEqual(3);
      const events = await (await restAs('ada', 'user')).history(sessionId, { limit: 1000 });
      expect(events.events.filter((e) => e.type === 'participant.disconnected')).toEqual([]);
    } finally {
      connection.close();
    }
  });

  it('reconnects with a fresh token after closing 4011, and misses nothing', async () => {
    const sessionId = await newSession('expire');
    let w: ReturnType<typeof watch> | undefined;
    const texts: string[] = [];
    const connection = await connectAs(
      'ada',
      'user',
      sessionId,
      { renewTokenInBand: false, getToken: () => token({ sub: 'ada', role: 'user', expiresIn: 3 }) },
      (c) => {
        w = watch(c);
        c.on('event', (e) => {
          if (e.type === 'message') texts.push(e.text);
        });
      },
    );
    const sam = await restAs('sam', 'support');
    try {
      let n = 0;
      while (w!.closings.length === 0) await sam.postMessage(sessionId, { text: `m${n++}` });
      await waitFor(() => w!.attachments >= 2 && connection.state === 'live', { what: 'the reconnect' });
      await sam.postMessage(sessionId, { text: `m${n++}` });
      await waitFor(() => texts.length === n, { what: 'every message' });
      expect(w!.closings[0]).toMatchObject({ code: 4011, reason: 'token_expired', resumable: true });
      expect(texts).toEqual(Array.from({ length: n }, (_, i) => `m${i}`));
      expect(w!.closedWith).toBe('open');
    } finally {
      connection.close();
    }
  });

  it('stops with token_expired when its fixed token expires', async () => {
    const sessionId = await newSession('fixed-token');
    let w: ReturnType<typeof watch> | undefined;
    const connection = await connectAs('ada', 'user', sessionId, { getToken: undefined, token: await token({ sub: 'ada', role: 'user', expiresIn: 3 }) }, (c) => (w = watch(c)));
    await waitFor(() => connection.state === 'closed', { what: 'the close' });
    expect(w!.closedWith).toMatchObject({ code: 'token_expired', source: 'closing' });
  });

  it('stops with session_erased when the session is erased (closing 4410)', async () => {
    const sessionId = await newSession('erased');
    let w: ReturnType<typeof watch> | undefined;
    const connection = await connectAs('ada', 'user', sessionId, {}, (c) => (w = watch(c)));
    await (await restAs('root', 'admin')).eraseSession(sessionId);
    await waitFor(() => connection.state === 'closed', { what: 'the close' });
    expect(w!.closings).toEqual([expect.objectContaining({ code: 4410, resumable: false })]);
    expect(w!.closedWith).toMatchObject({ code: 'session_erased', source: 'closing' });
    await expect(connection.whenLive()).rejects.toMatchObject({ code: 'session_erased' });
  });

  it.each([
    ['forbidden', async (id: string) => ({ token: await token({ sub: 'eve', role: 'user', sessions: ['someone-else'] }), sessionId: id })],
    ['session_not_found', async (id: string) => ({ token: await token({ sub: 'ada', role: 'user' }), sessionId: `${id}-missing` })],
    ['unauthorized', async (id: string) => ({ token: 'a.b.c', sessionId: id })],
  ])('stops with %s when the upgrade is refused', async (code, setup) => {
    const { token: t, sessionId } = await setup(await newSession('refused'));
    const connection = connect({ url: nodeUrl(), sessionId, token: t, device: 'x', backoff: { initialDelayMs: 10, maxDelayMs: 50 } });
    const closed = new Promise<DurableSessionsError | undefined>((resolve) => connection.on('closed', resolve));
    expect(await closed).toMatchObject({ code, source: 'rest' });
    expect(connection.state).toBe('closed');
  });

  it('resumes a new connection after the stored offset, without repeating an event', async () => {
    const sessionId = await newSession('store');
    const store = new MemoryOffsetStore();
    const ada = await restAs('ada', 'user');
    const first: number[] = [];
    const c1 = await connectAs('ada', 'user', sessionId, { offsetStore: store, device: 'tab' }, (c) => c.on('event', (e) => first.push(e.offset)));
    await ada.postMessage(sessionId, { text: 'one' });
    await waitFor(() => first.length > 0 && c1.lastOffset >= first[first.length - 1]! && c1.state === 'live');
    const upTo = c1.lastOffset;
    c1.close();
    await ada.postMessage(sessionId, { text: 'two' });
    const second: number[] = [];
    const c2 = await connectAs('ada', 'user', sessionId, { offsetStore: store, device: 'tab' }, (c) => c.on('event', (e) => second.push(e.offset)));
    c2.close();
    expect(store.load(`${sessionId}/tab`)).toBe(c2.lastOffset);
    // The second connection received exactly what the history holds after upTo (the first
    // socket's end may have written a receipt, which no device receives).
    const after = (await ada.history(sessionId, { after: upTo, limit: 1000 })).events.map((e) => e.offset).filter((o) => o <= c2.lastOffset);
    expect(second).toEqual(after);
    expect(after.length).toBeGreaterThan(0);
    expect(first.every((o) => o <= upTo)).toBe(true);
  });

  it('leaves: its open streams end as cancelled, participant.left is written, and it never reconnects', async () => {
    const sessionId = await newSession('leave');
    let w: ReturnType<typeof watch> | undefined;
    const agent = new Agent(await connectAs('bot', 'agent', sessionId, {}, (c) => (w = watch(c))));
    const writer = agent.startStream({ messageId: 'half' });
    writer.write('half an answer');
    const ack = await agent.leave();
    expect(ack.offset).toBeGreaterThan(0);
    expect(agent.connection.state).toBe('closed');
    expect(w!.closedWith).toBeUndefined();
    // The socket closes after the leave's ack: the stream's end may or may not arrive first.
    const ending = await writer.done.catch((e: DurableSessionsError) => e.code);
    expect([expect.objectContaining({ reason: 'cancelled', error: 'left' }), 'connection_closed']).toContainEqual(ending);
    expect(writer.signal.aborted).toBe(true);
    const history = await (await restAs('ada', 'user')).history(sessionId, { limit: 1000 });
    expect(history.events.map((e) => e.type).slice(-3)).toEqual(['stream.delta', 'stream.ended', 'participant.left']);
    expect(history.events.find((e) => e.type === 'stream.delta')).toMatchObject({ text: 'half an answer' });
    expect(history.events.filter((e) => e.type === 'participant.connected' && e.participant.id === 'bot')).toHaveLength(1);
    await expect(agent.sendMessage('after leaving')).rejects.toMatchObject({ code: 'connection_closed' });
  });

  it('is fenced when a newer incarnation of its producer appends (epoch rule)', async () => {
    const sessionId = await newSession('epoch');
    const errors: DurableSessionsError[] = [];
    const older = new Participant(
      await connectAs('bot', 'agent', sessionId, { device: 'bot-1', producer: { id: 'bot-writer', epoch: 1000 } }, (c) =>
        c.on('error', (e) => errors.push(e)),
      ),
    );
    const newer = new Participant(await connectAs('bot', 'agent', sessionId, { device: 'bot-2', producer: { id: 'bot-writer', epoch: 2000 } }));
    try {
      await older.sendMessage('from the old process');
      await newer.sendMessage('from the restarted process');
      await expect(older.sendMessage('too late')).rejects.toMatchObject({ code: 'stale_epoch' });
      await expect(older.sendMessage('still too late')).rejects.toMatchObject({ code: 'stale_epoch' });
      expect(errors.map((e) => e.code)).toEqual(['stale_epoch']);
      const history = await (await restAs('ada', 'user')).history(sessionId, { limit: 1000 });
      expect(history.events.filter((e) => e.type === 'message').map((e) => (e as { text: string }).text)).toEqual([
        'from the old process',
        'from the restarted process',
      ]);
    } finally {
      older.close();
      newer.close();
    }
  });
});
