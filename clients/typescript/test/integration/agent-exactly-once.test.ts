/**
 * An agent whose socket is cut again and again mid-answer still lands each token it wrote
 * exactly once: unanswered appends are resent with the same producer stamps, and the server
 * answers those it already wrote as duplicates.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { DurableSessionsError, SessionEvent } from '../../src/index.js';
import { Agent } from '../../src/index.js';
import { startProxy } from '../support/proxy.js';
import { prng, waitFor } from '../support/wait.js';
import { connectAs, newSession, nodePort, restAs } from './harness.js';

const SEED = Number(process.env['DS_TEST_SEED'] ?? 1717);
const KILLS = 20;

describe('an agent whose socket is killed mid-answer', () => {
  const cleanup: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it(`lands each token it wrote exactly once (${KILLS} kills, seed ${SEED})`, async () => {
    const random = prng(SEED);
    const sessionId = await newSession('agent-kill');
    const proxy = await startProxy(nodePort());
    cleanup.push(() => proxy.close());

    let attachments = 0;
    const errors: DurableSessionsError[] = [];
    const duplicates: number[] = [];
    const connection = await connectAs(
      'bot',
      'agent',
      sessionId,
      { url: proxy.url, device: 'bot-process-1', random, backoff: { initialDelayMs: 20, maxDelayMs: 200 } },
      (c) => {
        c.on('attached', () => attachments++);
        c.on('error', (e) => errors.push(e));
        c.on('frame', (f) => {
          if (f.type === 'ack' && f.duplicate === true && f.seq !== undefined) duplicates.push(f.seq);
        });
      },
    );
    const agent = new Agent(connection);
    cleanup.push(() => agent.close());

    // A short linger so that many appends are in flight when a socket dies.
    const writer = agent.startStream({ messageId: 'answer', lingerMs: 5 });
    const written: string[] = [];
    const tokens = setInterval(() => {
      for (let i = 0; i < 3; i++) {
        const t = `<${written.length}>`;
        written.push(t);
        writer.write(t);
      }
    }, 2);
    let kills = 0;
    try {
      while (kills < KILLS) {
        await new Promise((r) => setTimeout(r, Math.floor(random() * 80)));
        const attached = attachments;
        if (proxy.sever() > 0) kills++;
        await waitFor(() => attachments > attached, { what: 'the agent to attach again' });
      }
    } finally {
      clearInterval(tokens);
    }
    await writer.end();

    const rest = await restAs('ada', 'user');
    const history: SessionEvent[] = [];
    for await (const e of rest.events(sessionId)) history.push(e);
    const text = history.flatMap((e) => (e.type === 'stream.delta' && e.messageId === 'answer' ? [e.text] : [])).join('');
    const landed = text.match(/<\d+>/g) ?? [];

    expect(kills).toBe(KILLS);
    expect(landed.length).toBe(written.length);
    expect(new Set(landed).size).toBe(landed.length);
    expect(text).toBe(written.join(''));
    expect(history.filter((e) => e.type === 'stream.started' && e.messageId === 'answer')).toHaveLength(1);
    expect(history.filter((e) => e.type === 'stream.ended' && e.messageId === 'answer').map((e) => (e as { reason: string }).reason)).toEqual([
      'complete',
    ]);
    // Nothing was refused: every resend was either new or acknowledged as a duplicate.
    expect(errors.filter((e) => e.source !== 'rest' && e.code !== 'network_error')).toEqual([]);
    await waitFor(() => connection.producer.pending === 0, { what: 'every append to be answered' });
    // The cuts did land on appends in flight: some resends were answered as duplicates.
    expect(duplicates.length).toBeGreaterThan(0);
  });
});
