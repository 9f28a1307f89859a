/**
 * The writer batches: text written token by token lingers up to 40 ms (or until 4 KiB wait)
 * and goes out as one `stream.delta` frame, so a fast model costs few frames.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ClientFrame, SessionEvent } from '../../src/index.js';
import { agentAs, newSession, restAs } from './harness.js';

describe('the stream writer', () => {
  const cleanup: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it('sends 1,000 tokens written over 2 s as at most ~60 frames, with the exact text', async () => {
    const sessionId = await newSession('linger');
    const agent = await agentAs('bot', sessionId);
    cleanup.push(() => agent.close());
    const deltaFrames: ClientFrame[] = [];
    agent.connection.on('sent', (f) => {
      if (f.type === 'stream.delta') deltaFrames.push(f);
    });

    const writer = agent.startStream({ messageId: 'answer' });
    const written: string[] = [];
    const started = Date.now();
    // 1,000 tokens at an even pace over 2 s: whatever the timer jitter, token i is written
    // once 2 ms × i have passed.
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const due = Math.min(1000, Math.floor((Date.now() - started) / 2) + 1);
        while (written.length < due) {
          const t = `w${written.length} `;
          written.push(t);
          writer.write(t);
        }
        if (written.length === 1000) {
          clearInterval(timer);
          resolve();
        }
      }, 1);
    });
    const elapsed = Date.now() - started;
    await writer.end();

    const rest = await restAs('ada', 'user');
    const history: SessionEvent[] = [];
    for await (const e of rest.events(sessionId)) history.push(e);
    const text = history.flatMap((e) => (e.type === 'stream.delta' && e.messageId === 'answer' ? [e.text] : [])).join('');

    expect(written).toHaveLength(1000);
    expect(elapsed).toBeGreaterThanOrEqual(1990);
    // 2 s / 40 ms = 50 batches, plus timer jitter.
    expect(deltaFrames.length).toBeLessThanOrEqual(60);
    expect(deltaFrames.length).toBeGreaterThanOrEqual(20); // batched by time, not all at the end
    expect(text).toBe(written.join(''));
    expect(deltaFrames.map((f) => (f as { text: string }).text).join('')).toBe(written.join(''));
  });

  it('sends a batch at once when it reaches the size bound', async () => {
    const sessionId = await newSession('linger-size');
    const agent = await agentAs('bot', sessionId);
    cleanup.push(() => agent.close());
    const sizes: number[] = [];
    agent.connection.on('sent', (f) => {
      if (f.type === 'stream.delta') sizes.push(new TextEncoder().encode(f.text).length);
    });
    const writer = agent.startStream({ messageId: 'big', lingerMs: 60_000, maxBatchBytes: 1000 });
    const chunk = 'é'.repeat(150); // 300 bytes
    for (let i = 0; i < 10; i++) writer.write(chunk);
    // Each write that would pass the 1,000-byte bound sends the batch before it, at once,
    // without waiting for the linger; a write is never cut in two.
    expect(sizes).toEqual([900, 900, 900]);
    await writer.end();
    expect(sizes).toEqual([900, 900, 900, 300]);
    const rest = await restAs('ada', 'user');
    const history: SessionEvent[] = [];
    for await (const e of rest.events(sessionId)) history.push(e);
    const text = history.flatMap((e) => (e.type === 'stream.delta' ? [e.text] : [])).join('');
    expect(text).toBe(chunk.repeat(10));
  });
});
