/**
 * What the AI SDK tests share: a Chat (the AI SDK's AbstractChat with a plain state, as the
 * React, Vue and Svelte Chats are with theirs), a scripted mock model whose output a test can
 * hold at a gate, the same tools for the session agent and the reference run, and the
 * reference: the UI message the AI SDK itself makes of the script (in process, no session).
 */
import {
  AbstractChat,
  DirectChatTransport,
  lastAssistantMessageIsCompleteWithApprovalResponses,
  stepCountIs,
  streamText,
  tool,
  ToolLoopAgent,
  type ChatInit,
  type ChatTransport,
  type ChatState,
  type ModelMessage,
  type UIMessage,
} from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import { z } from 'zod';
import { Agent, type MessageEvent } from '../../src/index.js';
import { streamAnswer, type AnswerResult } from '../../src/ai/index.js';
import { waitFor } from '../support/wait.js';

export class TestChat extends AbstractChat<UIMessage> {
  constructor(init: ChatInit<UIMessage>) {
    const state: ChatState<UIMessage> = {
      status: 'ready',
      error: undefined,
      messages: init.messages ?? [],
      pushMessage(message) {
        state.messages = [...state.messages, message];
      },
      popMessage() {
        state.messages = state.messages.slice(0, -1);
      },
      replaceMessage(index, message) {
        state.messages = state.messages.map((m, i) => (i === index ? message : m));
      },
      snapshot: (thing) => structuredClone(thing),
    };
    super({ ...init, state });
  }

  /** The last assistant message. */
  answer(): UIMessage | undefined {
    return [...this.messages].reverse().find((m) => m.role === 'assistant');
  }
}

/** One model stream part (LanguageModelV4StreamPart), loosely typed for scripts. */
type Part = Record<string, unknown> & { type: string };
/** A step of the script: parts, or a gate the test opens before the rest of the parts follow. */
export type Step = { parts: (Part | Gate)[]; finish: 'stop' | 'tool-calls' };

export class Gate {
  private open!: () => void;
  readonly opened = new Promise<void>((resolve) => (this.open = resolve));
  release(): void {
    this.open();
  }
}

const usage = {
  inputTokens: { total: 10, noCache: 10, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 20, text: 20, reasoning: undefined },
};

export const text = (id: string, words: string[]): Part[] => [
  { type: 'text-start', id },
  ...words.map((w) => ({ type: 'text-delta', id, delta: w })),
  { type: 'text-end', id },
];

export const toolCall = (id: string, toolName: string, input: unknown): Part[] => [
  { type: 'tool-input-start', id, toolName },
  { type: 'tool-input-delta', id, delta: JSON.stringify(input) },
  { type: 'tool-input-end', id },
  { type: 'tool-call', toolCallId: id, toolName, input: JSON.stringify(input) },
];

/** Words of a deterministic text (seeded by n). */
export function words(n: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${i === 0 ? '' : ' '}w${n}.${i}`);
}

/**
 * A mock model that plays the steps in order, one per call. It honours the call's abortSignal
 * (the stream errors with an AbortError, as a provider's fetch would), and records it.
 */
export function scriptedModel(steps: Step[]): { model: MockLanguageModelV4; signals: AbortSignal[]; calls: () => number } {
  let call = 0;
  const signals: AbortSignal[] = [];
  const model = new MockLanguageModelV4({
    doStream: async (options) => {
      const step = steps[call++];
      if (step === undefined) throw new Error(`the script has ${steps.length} steps; call ${call} is one too many`);
      const signal = options.abortSignal ?? new AbortController().signal;
      signals.push(signal);
      const queue = [{ type: 'stream-start', warnings: [] }, ...step.parts, { type: 'finish', finishReason: { unified: step.finish, raw: step.finish }, usage }];
      let i = 0;
      const stream = new ReadableStream({
        async pull(controller) {
          if (signal.aborted) return controller.error(new DOMException('the model call was aborted', 'AbortError'));
          const next = queue[i++];
          if (next === undefined) return controller.close();
          if (next instanceof Gate) {
            await Promise.race([next.opened, new Promise((r) => signal.addEventListener('abort', r, { once: true }))]);
            if (signal.aborted) return controller.error(new DOMException('the model call was aborted', 'AbortError'));
            return;
          }
          controller.enqueue(next);
        },
      });
      return { stream } as never;
    },
  });
  return { model, signals, calls: () => call };
}

/** A model that streams words until its call is aborted (for stop). */
export function endlessModel(): { model: MockLanguageModelV4; signals: AbortSignal[] } {
  const signals: AbortSignal[] = [];
  const model = new MockLanguageModelV4({
    doStream: async (options) => {
      const signal = options.abortSignal ?? new AbortController().signal;
      signals.push(signal);
      let i = 0;
      const stream = new ReadableStream({
        async pull(controller) {
          if (i === 0) {
            controller.enqueue({ type: 'stream-start', warnings: [] });
            controller.enqueue({ type: 'text-start', id: 't' });
          }
          // a token every few milliseconds, as a model would pace them; stops only when aborted
          await new Promise((r) => setTimeout(r, 4));
          if (signal.aborted) return controller.error(new DOMException('the model call was aborted', 'AbortError'));
          controller.enqueue({ type: 'text-delta', id: 't', delta: `${i === 0 ? '' : ' '}tok${i}` });
          i++;
        },
      });
      return { stream } as never;
    },
  });
  return { model, signals };
}

export function weatherTools(options: { approveDelete: boolean; slowWeather?: boolean }) {
  return {
    weather: tool({
      description: 'the weather in a city',
      inputSchema: z.object({ city: z.string() }),
      execute: async ({ city }) => {
        // a slow tool: its output comes after the approval request of a call in the same step
        if (options.slowWeather === true) await new Promise((r) => setTimeout(r, 30));
        return { city, sky: 'sunny', celsius: 21 };
      },
    }),
    deleteFile: tool({
      description: 'delete a file',
      inputSchema: z.object({ path: z.string() }),
      needsApproval: options.approveDelete,
      execute: async ({ path }) => ({ deleted: path }),
    }),
  };
}

/** The three-step script: text and a weather call; text and a file deletion; a closing text. */
export function weatherScript(options: { gateAfter?: number; gate?: Gate } = {}): Step[] {
  const first = words(1, 30);
  const gated: (Part | Gate)[] = text('t1', first);
  if (options.gate !== undefined) gated.splice(1 + (options.gateAfter ?? 10), 0, options.gate);
  return [
    { parts: [...gated, ...toolCall('call-w', 'weather', { city: 'Paris' })], finish: 'tool-calls' },
    { parts: [...text('t2', words(2, 12)), ...toolCall('call-d', 'deleteFile', { path: 'notes/a.ts' })], finish: 'tool-calls' },
    { parts: text('t3', words(3, 20)), finish: 'stop' },
  ];
}

/** Two calls in one step, the weather (slow) and a deletion (approval), then a closing text. */
export function parallelScript(): Step[] {
  return [
    {
      parts: [...text('t1', words(4, 8)), ...toolCall('call-w', 'weather', { city: 'Oslo' }), ...toolCall('call-d', 'deleteFile', { path: 'b.ts' })],
      finish: 'tool-calls',
    },
    { parts: text('t2', words(5, 8)), finish: 'stop' },
  ];
}

/** What the AI SDK makes of the script by itself: a Chat with its in-process transport, approving when asked. */
export async function referenceAnswer(steps: Step[], approveDelete: boolean, partsWhenDone = 8): Promise<UIMessage> {
  const { model } = scriptedModel(steps.map((s) => ({ ...s, parts: s.parts.filter((p) => !(p instanceof Gate)) })));
  const agent = new ToolLoopAgent({ model, tools: weatherTools({ approveDelete }), stopWhen: stepCountIs(5) });
  const transport = new DirectChatTransport({ agent }) as unknown as ChatTransport<UIMessage>;
  const chat = new TestChat({ transport, sendAutomaticallyWhen: lastAssistantMessageIsCompleteWithApprovalResponses });
  await chat.sendMessage({ text: 'What is the weather, and delete notes/a.ts' });
  if (approveDelete) {
    const part = chat.answer()!.parts.find((p) => 'approval' in p && p.state === 'approval-requested') as { approval: { id: string } };
    await chat.addToolApprovalResponse({ id: part.approval.id, approved: true });
    await waitFor(() => chat.status === 'ready' && chat.answer()!.parts.length >= partsWhenDone, { what: 'the reference answer' });
  }
  return chat.answer()!;
}

/** The session agent: answers every user message with the model, through streamAnswer. */
export function answerWith(
  agent: Agent,
  model: MockLanguageModelV4,
  options: { approveDelete: boolean; slowWeather?: boolean },
): { answers: Promise<AnswerResult>[]; questions: MessageEvent[] } {
  const answers: Promise<AnswerResult>[] = [];
  const questions: MessageEvent[] = [];
  const history: ModelMessage[] = [];
  agent.connection.onEvent('message', (message) => {
    if (message.by.role !== 'user') return;
    questions.push(message);
    history.push({ role: 'user', content: message.text });
    const answer = streamAnswer(agent, {
      question: message,
      messages: [...history],
      generate: ({ messages, abortSignal }) =>
        streamText({ model, tools: weatherTools(options), messages, abortSignal, stopWhen: stepCountIs(5) }),
    });
    answer.catch(() => undefined);
    answers.push(answer);
  });
  return { answers, questions };
}

/**
 * The parts of an assistant message, comparable across runs: approval ids are random (the AI
 * SDK makes them), so they read `<approval>` (the tests check them against the session's).
 */
export function partsOf(message: UIMessage | undefined): unknown[] {
  return structuredClone(message?.parts ?? []).map((part) =>
    'approval' in part && part.approval !== undefined ? { ...part, approval: { ...part.approval, id: '<approval>' } } : part,
  );
}

/** Text parts' texts, in order. */
export function texts(message: UIMessage | undefined): string[] {
  return (message?.parts ?? []).flatMap((p) => (p.type === 'text' ? [p.text] : []));
}
