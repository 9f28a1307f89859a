/**
 * Session events to UI message chunks (AnswerChunks) and to UI messages (uiMessagesFromEvents),
 * without a node: every end reason, denied approvals, tool errors, other agents' plain summaries,
 * answers posted as one message, and the size bound of the tool record.
 */
import { readUIMessageStream, type UIMessage, type UIMessageChunk } from 'ai';
import { describe, expect, it } from 'vitest';
import type { ParticipantRef, SessionEvent } from '../../../src/index.js';
import { AnswerChunks, decodeToolRecord, encodeToolRecord, pausePoint, uiMessagesFromEvents } from '../../../src/ai/index.js';
import { MAX_SUMMARY_BYTES } from '../../../src/ai/tool-record.js';

const bot: ParticipantRef = { id: 'bot', role: 'agent', subject: 'bot' };
const ada: ParticipantRef = { id: 'ada', role: 'user', subject: 'ada' };

/** A log from partial events: offsets from 1 and a timestamp added. */
function log(...events: Record<string, unknown>[]): SessionEvent[] {
  return events.map((e, i) => ({ by: bot, at: '2026-01-01T00:00:00Z', ...e, offset: i + 1 }) as unknown as SessionEvent);
}

/** The chunks of the answer that starts with the first event. */
function chunksOf(events: SessionEvent[]): UIMessageChunk[] {
  const answer = new AnswerChunks(events[0] as never);
  return [...answer.start(), ...events.slice(1).flatMap((e) => answer.push(e))];
}

async function fold(chunks: UIMessageChunk[]): Promise<{ message: UIMessage | undefined; errors: unknown[] }> {
  const errors: unknown[] = [];
  const stream = new ReadableStream<UIMessageChunk>({
    start(c) {
      for (const chunk of chunks) c.enqueue(chunk);
      c.close();
    },
  });
  let message: UIMessage | undefined;
  for await (const m of readUIMessageStream({ stream, onError: (e) => errors.push(e) })) message = m;
  return { message, errors };
}

const started = { type: 'stream.started', messageId: 'answer-1' };
const delta = (text: string) => ({ type: 'stream.delta', messageId: 'answer-1', text, parts: 1 });
const ended = (reason: string, error?: string) => ({ type: 'stream.ended', messageId: 'answer-1', reason, ...(error === undefined ? {} : { error }) });

describe('AnswerChunks', () => {
  it('maps a streamed answer: start with the stream id, one text part, finish', () => {
    expect(chunksOf(log(started, delta('Hel'), delta('lo'), ended('complete')))).toEqual([
      { type: 'start', messageId: 'answer-1' },
      { type: 'start-step' },
      { type: 'text-start', id: 'answer-1:text-1' },
      { type: 'text-delta', id: 'answer-1:text-1', delta: 'Hel' },
      { type: 'text-delta', id: 'answer-1:text-1', delta: 'lo' },
      { type: 'text-end', id: 'answer-1:text-1' },
      { type: 'finish-step' },
      { type: 'finish', finishReason: 'stop' },
    ]);
  });

  it('ends with abort when cancelled, and error when the agent failed or was lost', () => {
    expect(chunksOf(log(started, delta('a'), ended('cancelled'))).slice(-3)).toEqual([
      { type: 'text-end', id: 'answer-1:text-1' },
      { type: 'finish-step' },
      { type: 'abort', reason: 'cancelled' },
    ]);
    expect(chunksOf(log(started, ended('cancelled', 'control transferred'))).at(-1)).toEqual({ type: 'abort', reason: 'control transferred' });
    expect(chunksOf(log(started, ended('error', 'model timed out'))).at(-1)).toEqual({ type: 'error', errorText: 'model timed out' });
    expect(chunksOf(log(started, ended('agent_lost', 'bot was lost'))).at(-1)).toEqual({ type: 'error', errorText: 'bot was lost' });
    expect(chunksOf(log(started, ended('agent_lost'))).at(-1)).toEqual({ type: 'error', errorText: 'the agent was lost' });
  });

  it('maps a denied approval to output-denied, and ignores the result that ends the call afterwards', async () => {
    const events = log(
      started,
      delta('Deleting.'),
      { type: 'tool.called', toolCallId: 'c1', name: 'deleteFile', turn: 1 },
      { type: 'tool.approval.requested', approvalId: 'ap-1', toolCallId: 'c1', name: 'deleteFile', to: { role: 'user' }, input: { path: 'a.ts' } },
      { type: 'tool.approval.answered', by: ada, approvalId: 'ap-1', toolCallId: 'c1', approved: false, reason: 'no' },
      { type: 'tool.result', toolCallId: 'c1', outcome: 'error', summary: encodeToolRecord({ input: { path: 'a.ts' }, denied: true }) },
      delta('Fine.'),
      ended('complete'),
    );
    const chunks = chunksOf(events);
    expect(chunks.filter((c) => c.type.startsWith('tool-'))).toEqual([
      { type: 'tool-input-start', toolCallId: 'c1', toolName: 'deleteFile' },
      { type: 'tool-input-available', toolCallId: 'c1', toolName: 'deleteFile', input: { path: 'a.ts' } },
      { type: 'tool-approval-request', approvalId: 'ap-1', toolCallId: 'c1' },
      { type: 'tool-approval-response', approvalId: 'ap-1', approved: false, reason: 'no' },
      { type: 'tool-output-denied', toolCallId: 'c1' },
    ]);
    const { message } = await fold(chunks);
    expect(message!.parts).toEqual([
      { type: 'step-start' },
      { type: 'text', text: 'Deleting.', state: 'done' },
      expect.objectContaining({ type: 'tool-deleteFile', state: 'output-denied', input: { path: 'a.ts' }, approval: { id: 'ap-1', approved: false, reason: 'no' } }),
      { type: 'step-start' },
      { type: 'text', text: 'Fine.', state: 'done' },
    ]);
  });

  it("shows a tool's error, and another agent's plain summary as the output", async () => {
    const events = log(
      started,
      { type: 'tool.called', toolCallId: 'c1', name: 'search', turn: 1 },
      { type: 'tool.called', toolCallId: 'c2', name: 'edit_file', turn: 1 },
      { type: 'tool.result', toolCallId: 'c1', outcome: 'error', summary: encodeToolRecord({ input: { q: 'x' }, error: 'index down' }) },
      { type: 'tool.result', toolCallId: 'c2', outcome: 'ok', summary: '1 file changed' },
      { type: 'tool.called', by: ada, toolCallId: 'c3', name: 'not-the-answer', turn: 1 },
      ended('complete'),
    );
    const { message } = await fold(chunksOf(events));
    expect(message!.parts).toEqual([
      { type: 'step-start' },
      expect.objectContaining({ type: 'tool-search', toolCallId: 'c1', state: 'output-error', input: { q: 'x' }, errorText: 'index down' }),
      expect.objectContaining({ type: 'tool-edit_file', toolCallId: 'c2', state: 'output-available', input: undefined, output: '1 file changed' }),
    ]);
  });

  it('maps an answer posted as one message', async () => {
    const answer = new AnswerChunks(log({ type: 'message', messageId: 'm-1', text: 'All done.' })[0] as never);
    const chunks = answer.start();
    expect(answer.done).toBe(true);
    const { message } = await fold(chunks);
    expect(message).toEqual({ id: 'm-1', role: 'assistant', metadata: undefined, parts: [{ type: 'step-start' }, { type: 'text', text: 'All done.', state: 'done' }] });
  });

  it('ignores what is not about the answer: other streams, events after its end', () => {
    const answer = new AnswerChunks(log(started)[0] as never);
    answer.start();
    expect(answer.push(log({ type: 'stream.delta', messageId: 'other', text: 'x', parts: 1 })[0]!)).toEqual([]);
    answer.push(log(started, ended('complete'))[1]!);
    expect(answer.push(log(started, delta('late'))[1]!)).toEqual([]);
  });
});

describe('uiMessagesFromEvents', () => {
  it('rebuilds the conversation: user messages, and answers folded as the transport streams them', async () => {
    const events = log(
      { type: 'session.created', by: ada, sessionId: 's' },
      { type: 'message', by: ada, messageId: 'q-1', text: 'hi' },
      started,
      { type: 'agent.status', status: 'streaming' },
      delta('Hello'),
      ended('complete'),
      { type: 'message', by: ada, messageId: 'q-2', text: 'and?' },
      { type: 'stream.started', messageId: 'answer-8' },
      { type: 'stream.delta', messageId: 'answer-8', text: 'still going', parts: 1 },
    );
    const messages = await uiMessagesFromEvents(events);
    expect(messages.map((m) => [m.id, m.role])).toEqual([
      ['q-1', 'user'],
      ['answer-1', 'assistant'],
      ['q-2', 'user'],
      ['answer-8', 'assistant'],
    ]);
    expect(messages[1]!.parts).toEqual([{ type: 'step-start' }, { type: 'text', text: 'Hello', state: 'done' }]);
    // the answer in flight, as far as it got
    expect(messages[3]!.parts).toEqual([{ type: 'step-start' }, { type: 'text', text: 'still going', state: 'streaming' }]);
  });
});

describe('the tool record in a tool.result summary', () => {
  it('round-trips input and output, and reads a plain summary as the output', () => {
    expect(decodeToolRecord(encodeToolRecord({ input: { a: 1 }, output: [1, 'x'] }))).toEqual({ input: { a: 1 }, output: [1, 'x'] });
    expect(decodeToolRecord('1 file changed')).toEqual({ output: '1 file changed' });
    expect(decodeToolRecord('{"files":2}')).toEqual({ output: '{"files":2}' });
    expect(decodeToolRecord(undefined)).toEqual({});
  });

  it('replaces an output too large for a frame with a note, keeping the input', () => {
    const summary = encodeToolRecord({ input: { q: 'big' }, output: 'x'.repeat(100_000) });
    expect(summary.length).toBeLessThanOrEqual(MAX_SUMMARY_BYTES);
    expect(decodeToolRecord(summary)).toEqual({ input: { q: 'big' }, output: { omitted: expect.stringContaining('100002 bytes') } });
  });
});

describe('pausePoint', () => {
  it('is where every approval of the message is asked and the other calls of the step have their results', () => {
    const events = log(
      started,
      delta('Working.'),
      { type: 'tool.called', toolCallId: 'w', name: 'weather', turn: 1 },
      { type: 'tool.called', toolCallId: 'd', name: 'deleteFile', turn: 1 },
      { type: 'tool.approval.requested', approvalId: 'ap-d', toolCallId: 'd', name: 'deleteFile', to: { role: 'user' } },
      { type: 'tool.result', toolCallId: 'w', outcome: 'ok', summary: encodeToolRecord({ input: {}, output: 1 }) },
      { type: 'tool.approval.answered', by: ada, approvalId: 'ap-d', toolCallId: 'd', approved: true },
      { type: 'tool.result', toolCallId: 'd', outcome: 'ok', summary: encodeToolRecord({ input: {}, output: 2 }) },
    );
    expect(pausePoint(events, new Set(['ap-d']))).toBe(6); // after the weather result, before the answer
    expect(pausePoint(events.slice(0, 5), new Set(['ap-d']))).toBeUndefined(); // the weather call still runs
    expect(pausePoint(events, new Set())).toBeUndefined();
  });
});
