/**
 * A restarted agent process hot-starts from the resume package: it finds the stream its
 * previous incarnation left open and carries on with it, and its new producer epoch fences
 * the old process.
 */
import { describe, expect, it } from 'vitest';
import type { SessionEvent } from '../../src/index.js';
import { agentAs, newSession, restAs } from './harness.js';

describe('a restarted agent', () => {
  it('carries on the stream its previous incarnation left open, from the resume package', async () => {
    const sessionId = await newSession('restart');
    const ada = await restAs('ada', 'user');
    await ada.postMessage(sessionId, { text: 'write me a poem' });

    // The first process starts answering, then dies (no stream.end, no leave).
    const first = await agentAs('bot', sessionId, { device: 'bot-worker', producer: { epoch: 1_000 } });
    const writer = first.startStream({ messageId: 'poem' });
    writer.write('Roses are red, ');
    await writer.flush();
    await first.status('streaming');
    first.close();

    // The restarted process: same participant and device, a higher epoch (Date.now()).
    const second = await agentAs('bot', sessionId, { device: 'bot-worker' });
    try {
      const resume = await second.resume();
      expect(resume.openRuns.streams).toEqual([expect.objectContaining({ messageId: 'poem', by: 'bot' })]);
      expect(resume.openRuns.agentStatus).toEqual({ bot: 'streaming' });
      expect(resume.turn).toMatchObject({ number: 1, open: true });
      // It starts after what the first process confirmed; from 0 it holds the question.
      expect(resume.since).toBeGreaterThan(0);
      expect((await second.resume(0)).addressed).toEqual([expect.objectContaining({ type: 'message', text: 'write me a poem' })]);

      const carryOn = second.continueStream('poem');
      carryOn.write('violets are blue.');
      await carryOn.end();
      await second.status('idle');

      const history: SessionEvent[] = [];
      for await (const e of ada.events(sessionId)) history.push(e);
      const poem = history.flatMap((e) => (e.type === 'stream.delta' && e.messageId === 'poem' ? [e.text] : [])).join('');
      expect(poem).toBe('Roses are red, violets are blue.');
      expect(history.filter((e) => e.type === 'stream.started')).toHaveLength(1);
      expect(history.filter((e) => e.type === 'stream.ended')).toEqual([expect.objectContaining({ messageId: 'poem', reason: 'complete' })]);
      expect((await ada.getState(sessionId)).turn.open).toBe(false);
    } finally {
      second.close();
    }
  });
});
