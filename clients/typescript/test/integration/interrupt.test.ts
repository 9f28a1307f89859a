/**
 * An interrupt from a user reaches the agent as an AbortSignal; the stream ends `cancelled` and
 * the signal is answered.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Participant, SessionStore, type SignalEvent } from '../../src/index.js';
import { waitFor } from '../support/wait.js';
import { agentAs, connectAs, newSession } from './harness.js';

describe('an interrupt', () => {
  const cleanup: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it("aborts the agent's stream and turn signals; the stream ends cancelled and the signal is answered", async () => {
    const sessionId = await newSession('interrupt');
    const agent = await agentAs('bot', sessionId);
    cleanup.push(() => agent.close());
    let store: SessionStore | undefined;
    const user = new Participant(await connectAs('ada', 'user', sessionId, {}, (c) => (store = new SessionStore(c))));
    cleanup.push(() => user.close());

    const turn = agent.turnSignal();
    const writer = agent.startStream({ messageId: 'answer' });
    const seen: SignalEvent[] = [];
    agent.onSignal((s) => seen.push(s));
    // The agent streams until it is told to stop, as a model call piped into the writer would.
    const streaming = (async () => {
      let i = 0;
      while (!writer.signal.aborted) {
        writer.write(`token${i++} `);
        await new Promise((r) => setTimeout(r, 5));
      }
      return i;
    })();
    await waitFor(() => store!.getView().messages.find((m) => m.messageId === 'answer' && m.text.length > 50), {
      what: 'the user to see the answer streaming',
    });

    const sent = await user.interrupt({ role: 'agent' }, 'stop now');
    await streaming;

    expect(writer.signal.aborted).toBe(true);
    const reason = writer.signal.reason as SignalEvent;
    expect(reason).toMatchObject({ type: 'signal', kind: 'interrupt', offset: sent.offset, text: 'stop now' });
    expect(turn.aborted).toBe(true);
    expect(agent.turnSignal().aborted).toBe(false);
    expect(seen.map((s) => s.offset)).toEqual([sent.offset]);
    await expect(writer.done).resolves.toMatchObject({ reason: 'cancelled' });

    // What the user sees: the answer cancelled, and the interrupt answered as consumed.
    const view = await waitFor(() => {
      const v = store!.getView();
      return v.pendingSignals.length === 0 && v.messages.some((m) => m.messageId === 'answer' && m.state === 'cancelled') ? v : undefined;
    }, { what: 'the user to see the stream cancelled and the signal answered' });
    expect(view.openStreams).toEqual({});
    expect(view.turn.open).toBe(false);
    // Writes after the interrupt are ignored, not thrown.
    expect(() => writer.write('late')).not.toThrow();
  });

  it('is answered "ignored" when the agent has nothing open', async () => {
    const sessionId = await newSession('interrupt-idle');
    const agent = await agentAs('bot', sessionId);
    cleanup.push(() => agent.close());
    const user = new Participant(await connectAs('ada', 'user', sessionId));
    cleanup.push(() => user.close());
    const answers: unknown[] = [];
    user.connection.on('event', (e) => {
      if (e.type === 'signal.answered') answers.push(e);
    });
    const sent = await user.interrupt();
    await waitFor(() => answers.length === 1, { what: 'the answer' });
    expect(answers[0]).toMatchObject({ signal: sent.offset, outcome: 'ignored', text: 'nothing to interrupt', by: { id: 'bot' } });
  });
});
