/**
 * The AI SDK on a real node: a Chat with SessionChatTransport (the user) against an agent that
 * answers with streamText on a mock model through streamAnswer. The UI message equals what the
 * AI SDK makes of the same model output by itself; a reconnect mid-answer (sockets killed, or a
 * new transport resuming) gives the same message with nothing duplicated; stop interrupts the
 * agent's model call and the answer ends cancelled.
 */
import { lastAssistantMessageIsCompleteWithApprovalResponses, type UIMessage } from 'ai';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryOffsetStore, type MessageEvent, type SessionConnection, type SessionEvent } from '../../src/index.js';
import { answerIdFor, SessionChatTransport } from '../../src/ai/index.js';
import { startProxy } from '../support/proxy.js';
import { prng, waitFor } from '../support/wait.js';
import { agentAs, connectAs, newSession, nodePort, restAs } from '../integration/harness.js';
import { answerWith, endlessModel, Gate, parallelScript, partsOf, referenceAnswer, scriptedModel, TestChat, texts, weatherScript } from './support.js';

const SEED = Number(process.env['DS_TEST_SEED'] ?? 424242);
const QUESTION = 'What is the weather, and delete notes/a.ts';

async function history(sessionId: string): Promise<SessionEvent[]> {
  const rest = await restAs('ada', 'user');
  const events: SessionEvent[] = [];
  for await (const e of rest.events(sessionId)) events.push(e);
  return events;
}

function streamText(events: SessionEvent[], messageId: string): string {
  return events.flatMap((e) => (e.type === 'stream.delta' && e.messageId === messageId ? [e.text] : [])).join('');
}

describe('a Chat with SessionChatTransport', () => {
  const cleanup: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  async function setUp(prefix: string, approveDelete: boolean, steps = weatherScript(), userOptions: Parameters<typeof connectAs>[3] = {}) {
    const sessionId = await newSession(prefix);
    const { model, signals } = scriptedModel(steps);
    const agent = await agentAs('bot', sessionId);
    cleanup.push(() => agent.close());
    const bot = answerWith(agent, model, { approveDelete });
    const connection = await connectAs('ada', 'user', sessionId, userOptions);
    cleanup.push(() => connection.close());
    const transport = new SessionChatTransport({ connection });
    const chat = new TestChat({ id: sessionId, transport, sendAutomaticallyWhen: lastAssistantMessageIsCompleteWithApprovalResponses });
    return { sessionId, agent, bot, connection, transport, chat, signals };
  }

  it('shows the answer with its tool calls exactly as the AI SDK makes it', async () => {
    const { sessionId, chat, transport, bot } = await setUp('ai-tools', false);
    await chat.sendMessage({ text: QUESTION });
    expect(chat.status).toBe('ready');
    const answer = chat.answer()!;
    const reference = await referenceAnswer(weatherScript(), false);
    expect(partsOf(answer)).toEqual(partsOf(reference));
    expect(answer.parts.map((p) => p.type)).toEqual(['step-start', 'text', 'tool-weather', 'step-start', 'text', 'tool-deleteFile', 'step-start', 'text']);

    // The message id is the answer stream's, derived from the question's offset; history agrees.
    const result = await bot.answers[0]!;
    expect(answer.id).toBe(`answer-${bot.questions[0]!.offset}`);
    expect(result).toMatchObject({ messageId: answer.id, end: { reason: 'complete' } });
    const events = await history(sessionId);
    expect(texts(answer).join('')).toBe(streamText(events, answer.id));
    expect(events.filter((e) => e.type === 'tool.called').map((e) => (e.type === 'tool.called' ? [e.name, e.inputHash?.startsWith('sha256:')] : []))).toEqual([
      ['weather', true],
      ['deleteFile', true],
    ]);
    // The user's message is in the session under the UI's id, and reloading rebuilds the same conversation.
    const loaded = await transport.loadMessages();
    expect(loaded).toEqual([{ id: chat.messages[0]!.id, role: 'user', parts: [{ type: 'text', text: QUESTION }] }, expect.anything()]);
    expect(partsOf(loaded[1])).toEqual(partsOf(answer));
    expect(loaded[1]!.id).toBe(answer.id);
  });

  it('asks for approval in the UI, and addToolApprovalResponse continues the same message', async () => {
    const { sessionId, chat, transport, bot } = await setUp('ai-approval', true);
    await chat.sendMessage({ text: QUESTION });
    // The UI stream ends at the approval, as the AI SDK's own server ends its response there.
    const paused = chat.answer()!;
    const asking = paused.parts.find((p) => 'approval' in p) as { state: string; approval: { id: string }; input: unknown };
    expect(asking).toMatchObject({ state: 'approval-requested', input: { path: 'notes/a.ts' } });
    const events = await history(sessionId);
    expect(events.find((e) => e.type === 'tool.approval.requested')).toMatchObject({ approvalId: asking.approval.id, name: 'deleteFile', input: { path: 'notes/a.ts' } });

    await chat.addToolApprovalResponse({ id: asking.approval.id, approved: true });
    await bot.answers[0]!;
    await waitFor(() => chat.status === 'ready' && chat.answer()!.parts.length === 8 && chat.answer()!.parts.every((p) => !('state' in p) || p.state === 'done' || p.state === 'output-available'), {
      what: 'the answer to finish in the UI',
    });
    const reference = await referenceAnswer(weatherScript(), true);
    expect(partsOf(chat.answer())).toEqual(partsOf(reference));
    expect(chat.answer()!.id).toBe(paused.id);
    const after = await history(sessionId);
    expect(after.find((e) => e.type === 'tool.approval.answered')).toMatchObject({ approvalId: asking.approval.id, approved: true, by: { id: 'ada' } });
    expect(texts(chat.answer()).join('')).toBe(streamText(after, paused.id));
    expect(partsOf((await transport.loadMessages())[1])).toEqual(partsOf(reference));
  });

  it('resumes an answer waiting for approval in a new transport, which answers it', async () => {
    const first = await setUp('ai-approval-reload', true);
    await first.chat.sendMessage({ text: QUESTION });
    // A reload: a new connection that resumes after the last offset the page had, a new transport and Chat.
    const connection = await connectAs('ada', 'user', first.sessionId, { device: 'ada-reloaded', offset: first.connection.lastOffset });
    cleanup.push(() => connection.close());
    const transport = new SessionChatTransport({ connection });
    const chat = new TestChat({ id: first.sessionId, transport, messages: await transport.loadMessages(), sendAutomaticallyWhen: lastAssistantMessageIsCompleteWithApprovalResponses });
    await chat.resumeStream();
    const asking = chat.answer()!.parts.find((p) => 'approval' in p) as { state: string; approval: { id: string } };
    expect(asking.state).toBe('approval-requested');
    expect(partsOf(chat.answer())).toEqual(partsOf(first.chat.answer()));
    await chat.addToolApprovalResponse({ id: asking.approval.id, approved: true });
    await first.bot.answers[0]!;
    await waitFor(() => chat.status === 'ready' && chat.answer()!.parts.length === 8, { what: 'the resumed answer to finish' });
    expect(partsOf(chat.answer())).toEqual(partsOf(await referenceAnswer(weatherScript(), true)));
  });

  it('waits, at an approval, for the other tool calls of the step, so that answering it continues the message', async () => {
    const sessionId = await newSession('ai-approval-step');
    const { model } = scriptedModel(parallelScript());
    const agent = await agentAs('bot', sessionId);
    cleanup.push(() => agent.close());
    const bot = answerWith(agent, model, { approveDelete: true, slowWeather: true });
    const connection = await connectAs('ada', 'user', sessionId);
    cleanup.push(() => connection.close());
    const chat = new TestChat({ id: sessionId, transport: new SessionChatTransport({ connection }), sendAutomaticallyWhen: lastAssistantMessageIsCompleteWithApprovalResponses });
    await chat.sendMessage({ text: QUESTION });
    // at the pause, the weather call of the same step has its output: the step is complete but for the approval
    const paused = chat.answer()!;
    expect(paused.parts.map((p) => ('state' in p ? `${p.type}:${p.state}` : p.type))).toEqual([
      'step-start',
      'text:done',
      'tool-weather:output-available',
      'tool-deleteFile:approval-requested',
    ]);
    const asking = paused.parts.find((p) => 'approval' in p) as { approval: { id: string } };
    await chat.addToolApprovalResponse({ id: asking.approval.id, approved: true });
    await bot.answers[0]!;
    await waitFor(() => chat.status === 'ready' && chat.answer()!.parts.length === 6, { what: 'the answer to finish' });
    expect(partsOf(chat.answer())).toEqual(partsOf(await referenceAnswer(parallelScript(), true, 6)));
  });

  it(`gives the same message, once, when the socket is killed mid-answer (seed ${SEED})`, async () => {
    const random = prng(SEED);
    const proxy = await startProxy(nodePort());
    cleanup.push(() => proxy.close());
    const gates = [new Gate(), new Gate(), new Gate()];
    const steps = weatherScript();
    // hold the model three times in its first text, to cut the user's socket while the answer is open
    const first = steps[0]!.parts;
    first.splice(26, 0, gates[2]!);
    first.splice(16, 0, gates[1]!);
    first.splice(6, 0, gates[0]!);
    let attachments = 0;
    const { chat, connection, sessionId } = await setUp('ai-kill', false, steps, {
      url: proxy.url,
      random,
      backoff: { initialDelayMs: 10, maxDelayMs: 100 },
    });
    connection.on('attached', () => attachments++);
    const sending = chat.sendMessage({ text: QUESTION });
    const wordsSeen = () => texts(chat.answer()).join('').split(' ').filter((w) => w !== '').length;
    for (const [i, gate] of gates.entries()) {
      // the UI has every word the model gave before this gate (5, 15, 25): the answer is open, held
      await waitFor(() => wordsSeen() >= 5 + 10 * i, { what: `the UI to show the words before gate ${i}` });
      const attached = attachments;
      expect(proxy.sever()).toBeGreaterThan(0);
      gate.release(); // the model goes on while the user's socket is down
      await waitFor(() => attachments > attached, { what: 'the user to reconnect' });
    }
    await sending;
    const answer = chat.answer()!;
    expect(partsOf(answer)).toEqual(partsOf(await referenceAnswer(weatherScript(), false)));
    expect(texts(answer).join('')).toBe(streamText(await history(sessionId), answer.id));
    expect(chat.messages.filter((m) => m.role === 'assistant')).toHaveLength(1);
  });

  it('resumes the answer in flight from its start in a new transport (a reload), with nothing duplicated', async () => {
    const gate = new Gate();
    const { chat, connection, sessionId, bot } = await setUp('ai-resume', false, weatherScript({ gate, gateAfter: 12 }));
    const sending = chat.sendMessage({ text: QUESTION });
    await waitFor(() => texts(chat.answer()).join('').length > 0, { what: 'the answer to start' });
    await waitFor(async () => streamText(await history(sessionId), chat.answer()!.id).split(' ').length >= 12, { what: 'the first words in the session' });

    // The reloaded page: its connection resumes after the offset the old page had reached (a
    // localStorage offset store), which is past the answer's start.
    const reached = connection.lastOffset;
    const answerStart = (await history(sessionId)).find((e) => e.type === 'stream.started')!.offset;
    expect(reached).toBeGreaterThan(answerStart);
    const store = new MemoryOffsetStore();
    store.save(`${sessionId}/ada-tab`, reached);
    let reloaded: SessionConnection | undefined;
    const resumedFrom = await new Promise<number>((resolve) => {
      void connectAs('ada', 'user', sessionId, { device: 'ada-tab', offsetStore: store }, (c) => {
        reloaded = c;
        c.once('attached', (frame) => resolve(frame.after));
      });
    });
    cleanup.push(() => reloaded!.close());
    expect(resumedFrom).toBe(reached);
    const transport = new SessionChatTransport({ connection: reloaded! });
    const messages = (await transport.loadMessages()).filter((m) => m.role === 'user');
    const chat2 = new TestChat({ id: sessionId, transport, messages });
    const resuming = chat2.resumeStream();
    await waitFor(() => chat2.status === 'streaming' || undefined, { what: 'the resumed stream to start' });
    gate.release();
    await Promise.all([sending, resuming]);
    await bot.answers[0]!;

    const reference = await referenceAnswer(weatherScript(), false);
    expect(partsOf(chat2.answer())).toEqual(partsOf(reference));
    expect(chat2.answer()!.id).toBe(chat.answer()!.id);
    expect(chat2.messages.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(partsOf(chat.answer())).toEqual(partsOf(reference));
    // nothing is in flight any more
    expect(await transport.reconnectToStream({ chatId: sessionId })).toBeNull();
  });

  it('shows each Chat the answer to its own question when two are answered at once, in the other order', async () => {
    const sessionId = await newSession('ai-two');
    const agent = await agentAs('bot', sessionId);
    cleanup.push(() => agent.close());
    // The agent waits for both questions, then answers the second first, each in a stream
    // named after its question (answerIdFor), writing both at once.
    const questions: MessageEvent[] = [];
    const ends: Promise<unknown>[] = [];
    agent.connection.onEvent('message', (m) => {
      if (m.by.role !== 'user') return;
      questions.push(m);
      if (questions.length < 2) return;
      const writers = [...questions].reverse().map((q) => ({ q, writer: agent.startStream({ messageId: answerIdFor(q) }) }));
      for (let i = 0; i < 10; i++) for (const { q, writer } of writers) writer.write(`${q.text}#${i} `);
      for (const { writer } of writers) ends.push(writer.end());
    });
    const chats = await Promise.all(
      ['ada', 'bob'].map(async (sub) => {
        const connection = await connectAs(sub, 'user', sessionId);
        cleanup.push(() => connection.close());
        return new TestChat({ id: sessionId, transport: new SessionChatTransport({ connection }) });
      }),
    );
    const first = chats[0]!.sendMessage({ text: 'from-ada' });
    await waitFor(() => questions.length === 1, { what: "ada's question to reach the agent" });
    await Promise.all([first, chats[1]!.sendMessage({ text: 'from-bob' })]);
    await waitFor(() => ends.length === 2, { what: 'the agent to answer' });
    await Promise.all(ends);
    for (const [i, who] of ['from-ada', 'from-bob'].entries()) {
      const answer = chats[i]!.answer()!;
      expect(answer.id).toBe(answerIdFor(questions[i]!));
      expect(texts(answer).join('')).toBe(Array.from({ length: 10 }, (_, n) => `${who}#${n} `).join(''));
    }
  });

  it('sends a message once: sendMessage() again after a stop follows its answer; edits and regenerate are refused', async () => {
    const sessionId = await newSession('ai-once');
    const agent = await agentAs('bot', sessionId);
    cleanup.push(() => agent.close());
    const gate = new Gate();
    agent.connection.onEvent('message', (m) => {
      if (m.by.role !== 'user') return;
      void gate.opened.then(async () => {
        const writer = agent.startStream({ messageId: answerIdFor(m) });
        writer.write('the answer');
        await writer.end();
      });
    });
    const connection = await connectAs('ada', 'user', sessionId);
    cleanup.push(() => connection.close());
    const chat = new TestChat({ id: sessionId, transport: new SessionChatTransport({ connection }) });
    const sending = chat.sendMessage({ text: 'question' });
    await waitFor(async () => (await history(sessionId)).some((e) => e.type === 'message'), { what: 'the question in the session' });
    await chat.stop(); // before the agent answered: the UI has the question only
    await sending;
    expect(chat.messages.map((m) => m.role)).toEqual(['user']);
    gate.release();

    await chat.sendMessage(); // "send again": the question is in the session already; its answer follows
    expect(chat.status).toBe('ready');
    expect(texts(chat.answer())).toEqual(['the answer']);
    const question = chat.messages[0]!;
    const posted = (await history(sessionId)).filter((e) => e.type === 'message');
    expect(posted.map((e) => (e.type === 'message' ? e.messageId : ''))).toEqual([question.id]);

    await chat.sendMessage({ text: 'an edited question', messageId: question.id });
    expect(chat.error?.message).toMatch(/editing a sent message is not supported/);
    chat.clearError();
    await chat.regenerate();
    expect(chat.error?.message).toMatch(/regenerate is not supported/);
    expect((await history(sessionId)).filter((e) => e.type === 'message')).toHaveLength(1);
  });

  it("stop interrupts the agent: the model call's AbortSignal fires and the answer ends cancelled", async () => {
    const sessionId = await newSession('ai-stop');
    const { model, signals } = endlessModel();
    const agent = await agentAs('bot', sessionId);
    cleanup.push(() => agent.close());
    const bot = answerWith(agent, model as never, { approveDelete: false });
    const connection = await connectAs('ada', 'user', sessionId);
    cleanup.push(() => connection.close());
    const chat = new TestChat({ id: sessionId, transport: new SessionChatTransport({ connection }) });
    const sending = chat.sendMessage({ text: 'talk forever' });
    await waitFor(() => texts(chat.answer()).join('').length > 40, { what: 'the answer to stream' });
    await chat.stop();
    await sending;
    await waitFor(() => signals[0]?.aborted, { what: "the model call's AbortSignal" });
    const result = await bot.answers[0]!;
    expect(result.end).toMatchObject({ reason: 'cancelled' });
    const events = await history(sessionId);
    const interrupt = events.find((e) => e.type === 'signal' && e.kind === 'interrupt');
    expect(interrupt).toMatchObject({ by: { id: 'ada' }, to: { participant: 'bot' } });
    await waitFor(async () => (await history(sessionId)).some((e) => e.type === 'signal.answered' && e.signal === interrupt!.offset && e.outcome === 'consumed'), {
      what: 'the agent to answer the interrupt',
    });
    expect(chat.status).toBe('ready');
    // The UI keeps what it had; the session's answer holds at least that (the agent may have sent a little more).
    expect(streamText(events, chat.answer()!.id).startsWith(texts(chat.answer()).join(''))).toBe(true);
    const loaded = (await new SessionChatTransport({ connection }).loadMessages()).at(-1) as UIMessage;
    expect(loaded.id).toBe(chat.answer()!.id);
    expect(texts(loaded).join('')).toBe(streamText(events, loaded.id));
  });

  it('stop interrupts a resumed answer too, while a resume replaced by another (a remount) does not', async () => {
    const sessionId = await newSession('ai-stop-resumed');
    const { model, signals } = endlessModel();
    const agent = await agentAs('bot', sessionId);
    cleanup.push(() => agent.close());
    const bot = answerWith(agent, model as never, { approveDelete: false });
    const connection = await connectAs('ada', 'user', sessionId);
    cleanup.push(() => connection.close());
    const chat = new TestChat({ id: sessionId, transport: new SessionChatTransport({ connection }) });
    const sending = chat.sendMessage({ text: 'talk forever' });
    await waitFor(() => texts(chat.answer()).join('').length > 20, { what: 'the answer to stream' });

    // another tab attaches late, and its resume is started twice (the first one is aborted)
    const tab = await connectAs('ada', 'user', sessionId, { device: 'ada-tab-2' });
    cleanup.push(() => tab.close());
    const chat2 = new TestChat({ id: sessionId, transport: new SessionChatTransport({ connection: tab }) });
    const firstResume = chat2.resumeStream();
    await waitFor(() => texts(chat2.answer()).join('').length > 0, { what: 'the first resume to stream' });
    const resuming = chat2.resumeStream(); // aborts the first one's request, which was streaming
    await firstResume;
    const seen = texts(chat2.answer()).join('').length;
    await waitFor(() => texts(chat2.answer()).join('').length > seen + 40, { what: 'the resumed answer to go on streaming' });
    expect(signals[0]!.aborted).toBe(false);

    await chat2.stop();
    await Promise.all([resuming, sending]);
    await waitFor(() => signals[0]!.aborted, { what: "the model call's AbortSignal" });
    expect((await bot.answers[0]!).end).toMatchObject({ reason: 'cancelled' });
    const interrupts = (await history(sessionId)).filter((e) => e.type === 'signal' && e.kind === 'interrupt');
    expect(interrupts).toHaveLength(1);
    expect(interrupts[0]).toMatchObject({ by: { id: 'ada' }, to: { participant: 'bot' } });
    // the first tab sees the answer end as cancelled: an abort chunk, no error
    await waitFor(() => chat.status === 'ready', { what: 'the first tab to see the end' });
    expect(chat.error).toBeUndefined();
  });
});
