/**
 * A device whose socket is cut again and again while an answer streams still receives every
 * event exactly once and in order, and ends with the history's text and view.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { foldEvents, SessionStore, type SessionConnection, type SessionEvent } from '../../src/index.js';
import { startProxy, type Proxy } from '../support/proxy.js';
import { prng, waitFor } from '../support/wait.js';
import { agentAs, connectAs, newSession, nodePort, restAs } from './harness.js';

const SEED = Number(process.env['DS_TEST_SEED'] ?? 424242);
const KILLS = 50;

describe('a device whose socket is killed while an answer streams', () => {
  const cleanup: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it(`receives every offset once, in order, and the history's text (${KILLS} kills, seed ${SEED})`, async () => {
    const random = prng(SEED);
    const sessionId = await newSession('device-kill');
    const proxy: Proxy = await startProxy(nodePort());
    cleanup.push(() => proxy.close());

    const agent = await agentAs('bot', sessionId);
    cleanup.push(() => agent.close());
    let kills = 0;
    let attachments = 0;
    const received: SessionEvent[] = [];
    let store: SessionStore | undefined;
    const device: SessionConnection = await connectAs(
      'ada',
      'user',
      sessionId,
      { url: proxy.url, device: 'phone', random, backoff: { initialDelayMs: 20, maxDelayMs: 200 } },
      (c) => {
        store = new SessionStore(c);
        c.on('event', (e) => received.push(e));
        c.on('attached', () => attachments++);
      },
    );
    cleanup.push(() => device.close());
    const view = () => store!.getView();

    // The agent streams an answer, token by token, until the device has been cut KILLS times.
    const writer = agent.startStream({ messageId: 'answer' });

    const written: string[] = [];

    const tokens = setInterval(() => {
      const t = `t${written.length} `;
      written.push(t);
      writer.write(t);
    }, 3);
    try {
      while (kills < KILLS) {
        await new Promise((r) => setTimeout(r, Math.floor(random() * 60)));
        const attached = attachments;
        if (proxy.sever() > 0) kills++;
        // The next cut comes at a random moment after the socket is back (mid catch-up or
        // mid live stream), or sometimes while it is still in its handshake.
        if (random() < 0.2) await waitFor(() => proxy.open > 0, { what: 'the device to reconnect' });
        else await waitFor(() => attachments > attached, { what: 'the device to attach again' });
      }
    } finally {
      clearInterval(tokens);
    }
    await writer.end();

    // The device ends with the stream's end, then everything the history holds up to there.
    await waitFor(() => view().messages.find((m) => m.messageId === 'answer' && m.state === 'complete'), {
      timeoutMs: 30_000,
      what: 'the device to see the end of the answer',
    });
    const rest = await restAs('ada', 'user');
    // The head can be a receipt, which no device receives: wait for the last visible event.
    let lastVisible = 0;
    for await (const e of rest.events(sessionId)) lastVisible = e.offset;
    await waitFor(() => device.lastOffset >= lastVisible, { what: 'the device to catch up with the history' });
    device.close();
    // Read the history after the device stopped: it holds everything the device received.
    const history: SessionEvent[] = [];
    for await (const e of rest.events(sessionId)) history.push(e);

    const upTo = device.lastOffset;
    const seen = received;
    const expected = history.filter((e) => e.offset <= upTo);
    expect(kills).toBeGreaterThanOrEqual(KILLS);
    expect(attachments).toBeGreaterThan(KILLS / 2);
    // every offset once, in order, and each event exactly as the history has it
    expect(seen.map((e) => e.offset)).toEqual(expected.map((e) => e.offset));
    expect(seen).toEqual(expected);
    const text = (events: SessionEvent[]) =>
      events.flatMap((e) => (e.type === 'stream.delta' && e.messageId === 'answer' ? [e.text] : [])).join('');
    expect(text(seen)).toBe(written.join(''));
    expect(text(history)).toBe(written.join(''));
    // and the view folded live equals the view folded from the history
    expect(view()).toEqual(foldEvents(expected));
  });
});
