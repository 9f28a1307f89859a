/**
 * A session's log read with the Durable Streams client (`@durable-streams/client`, PROTOCOL §12
 * "GET /v1/sessions/{id}/stream"): the catch-up read gives the events the session has, in order,
 * exactly as the history endpoint shows them; a live read (SSE and long-poll) follows new events
 * as they are written, each once, with offsets that name the last event delivered.
 */
import { stream, type JsonBatch } from '@durable-streams/client';
import { afterEach, describe, expect, it } from 'vitest';
import { Participant, type SessionEvent } from '../../src/index.js';
import { token } from '../support/tokens.js';
import { waitFor } from '../support/wait.js';
import { agentAs, connectAs, newSession, nodeUrl, restAs } from '../integration/harness.js';

async function history(sessionId: string): Promise<SessionEvent[]> {
  const rest = await restAs('ada', 'user');
  const events: SessionEvent[] = [];
  for await (const e of rest.events(sessionId)) events.push(e);
  return events;
}

/** The Durable Streams offset after event n. */
const offsetAfter = (n: number) => `0000000000000000_${String(n).padStart(16, '0')}`;

describe('the Durable Streams client on a session log', () => {
  const cleanup: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  async function sessionWithAnswer(prefix: string) {
    const sessionId = await newSession(prefix);
    const agent = await agentAs('bot', sessionId);
    cleanup.push(() => agent.close());
    const user = new Participant(await connectAs('ada', 'user', sessionId));
    cleanup.push(() => user.close());
    await user.sendMessage('hello');
    const writer = agent.startStream({ messageId: 'a-1' });
    for (const word of ['one ', 'two ', 'three']) writer.write(word);
    await writer.end();
    return { sessionId, agent, user, url: `${nodeUrl()}/v1/sessions/${encodeURIComponent(sessionId)}/stream`, headers: { Authorization: `Bearer ${await token({ sub: 'ada', role: 'user' })}` } };
  }

  it('reads the events the session has, in order, as the history shows them', async () => {
    const { sessionId, url, headers } = await sessionWithAnswer('ds-catch-up');
    const res = await stream<SessionEvent>({ url, headers, offset: '-1', live: false });
    const items = await res.json();
    const all = await history(sessionId);
    const last = items.at(-1)!.offset;
    const expected = all.filter((e) => e.offset <= last);
    expect(items.map((e) => e.offset)).toEqual(expected.map((e) => e.offset));
    expect(items).toEqual(expected);
    expect(items.map((e) => e.type)).toContain('stream.delta');
    // where to read on: past the last event, and past hidden ones (receipts) after it, not past a visible one
    expect(res.offset >= offsetAfter(last)).toBe(true);
    const nextVisible = all.find((e) => e.offset > last);
    if (nextVisible !== undefined) expect(res.offset < offsetAfter(nextVisible.offset)).toBe(true);
    // a read from an offset gives what follows it
    const tail = await (await stream<SessionEvent>({ url, headers, offset: offsetAfter(3), live: false })).json();
    expect(tail).toEqual((await history(sessionId)).filter((e) => e.offset > 3 && e.offset <= tail.at(-1)!.offset));
  });

  for (const live of ['sse', 'long-poll'] as const) {
    it(`follows the session live (${live}): new events arrive once, in order`, async () => {
      const { sessionId, url, headers, agent, user } = await sessionWithAnswer(`ds-live-${live}`);
      const abort = new AbortController();
      cleanup.push(() => abort.abort());
      const res = await stream<SessionEvent>({ url, headers, offset: '-1', live, signal: abort.signal, onError: () => undefined });
      const received: SessionEvent[] = [];
      const batches: JsonBatch<SessionEvent>[] = [];
      res.subscribeJson((batch) => {
        batches.push(batch);
        received.push(...batch.items);
      });
      await waitFor(() => received.some((e) => e.type === 'stream.ended'), { what: 'the catch-up' });

      // written while the reader follows
      const writer = agent.startStream({ messageId: 'a-2' });
      for (let i = 0; i < 20; i++) writer.write(`live${i} `);
      await writer.end();
      const posted = await user.sendMessage('thanks');
      await waitFor(() => received.some((e) => e.offset >= posted.offset!), { what: 'the live events' });

      const expected = (await history(sessionId)).filter((e) => e.offset <= received.at(-1)!.offset);
      expect(received.map((e) => e.offset)).toEqual(expected.map((e) => e.offset));
      expect(received).toEqual(expected);
      const liveText = received.flatMap((e) => (e.type === 'stream.delta' && e.messageId === 'a-2' ? [e.text] : [])).join('');
      expect(liveText).toBe(Array.from({ length: 20 }, (_, i) => `live${i} `).join(''));
      // A batch's offset is where to read on: past its last event, and past hidden events (a
      // receipt) that follow it, never past a visible one.
      let previous = '';
      for (const batch of batches) {
        expect(batch.offset >= previous).toBe(true);
        previous = batch.offset;
        const lastItem = batch.items.at(-1);
        if (lastItem === undefined) continue;
        expect(batch.offset >= offsetAfter(lastItem.offset)).toBe(true);
        const nextVisible = expected.find((e) => e.offset > lastItem.offset);
        if (nextVisible !== undefined) expect(batch.offset < offsetAfter(nextVisible.offset)).toBe(true);
      }
      abort.abort();
    });
  }
});
