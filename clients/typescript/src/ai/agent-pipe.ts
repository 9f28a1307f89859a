/**
 * The agent side: an AI SDK `streamText` result (or any UI message stream) written into a
 * session as one answer.
 *
 * - Text goes to the answer's StreamWriter (batched, exactly once).
 * - A tool call is recorded with `tool.call` once its input is known, and its end with
 *   `tool.result`, whose summary carries the input and the output (see tool-record.ts). A step's
 *   results are written after the step's calls, so readers see the steps as the model made them.
 * - A tool that needs approval (`needsApproval` in the AI SDK) becomes a
 *   `tool.approval.request` (Agent.requestApproval); streamAnswer waits for the decision and calls
 *   the model again with it, continuing the same answer.
 * - The writer's AbortSignal (an interrupt addressed to the agent) is the model call's
 *   abortSignal: an interrupt stops the model, and the agent ends the answer as `cancelled`.
 */
import type { FinishReason, ModelMessage, UIMessageChunk } from 'ai';
import type { Agent } from '../agent/agent.js';
import type { StreamEnd, StreamWriter, StreamWriterOptions } from '../agent/stream-writer.js';
import type { Target } from '../protocol/common.js';
import type { MessageEvent } from '../protocol/events.js';
import { encodeToolRecord, inputHash, type ToolRecord } from './tool-record.js';

/** What pipeToSession needs of a `streamText` result. */
export interface UIMessageStreamSource {
  toUIMessageStream(): ReadableStream<UIMessageChunk> | AsyncIterable<UIMessageChunk>;
}

/** The decision on one approval the model asked for, as the AI SDK's `tool-approval-response` wants it. */
export interface ToolApprovalDecision {
  approvalId: string;
  toolCallId: string;
  approved: boolean;
  reason?: string;
}

export interface PipeResult {
  /** The `finish` chunk's reason, when the stream finished. */
  finishReason?: FinishReason;
  /** The stream stopped because the writer was aborted (an interrupt, or the answer ended by someone else). */
  aborted: boolean;
  /** The `error` chunk's text, when the model call failed. */
  error?: string;
  /** The decisions on the approvals this stream asked for, in the order asked. */
  approvals: ToolApprovalDecision[];
}

export interface PipeOptions {
  /** Who approves tool calls that need approval (default the users: `{ role: 'user' }`). */
  approvalTo?: Target;
  /** The text shown with an approval request. */
  approvalText?: (call: { toolName: string; input: unknown }) => string | undefined;
  /** Tool calls shared by the model calls of one answer (streamAnswer passes one). */
  calls?: ToolCallLedger;
}

/** The tool calls of one answer: their inputs, and which ones have no result yet. */
export class ToolCallLedger {
  /** @internal */
  readonly inputs = new Map<string, { name: string; input: unknown }>();
  /** @internal tool calls recorded with tool.call and not ended with tool.result */
  readonly open = new Set<string>();
}

/**
 * Write a UI message stream (or a `streamText` result) into an open answer stream. Resolves when
 * the stream ends and every approval it asked for is decided.
 */
export async function pipeToSession(
  agent: Agent,
  writer: StreamWriter,
  source: UIMessageStreamSource | ReadableStream<UIMessageChunk> | AsyncIterable<UIMessageChunk>,
  options: PipeOptions = {},
): Promise<PipeResult> {
  const calls = options.calls ?? new ToolCallLedger();
  const to = options.approvalTo ?? { role: 'user' };
  const result: PipeResult = { aborted: false, approvals: [] };
  const decisions: Promise<ToolApprovalDecision>[] = [];
  let results: { toolCallId: string; outcome: 'ok' | 'error'; record: ToolRecord; error?: string }[] = [];

  const flushText = () => {
    // Send the buffered text now, so that what follows lands after it.
    writer.flush().catch(() => undefined);
  };
  const record = async (toolCallId: string, name: string, input: unknown) => {
    if (calls.open.has(toolCallId) || calls.inputs.has(toolCallId)) return;
    calls.inputs.set(toolCallId, { name, input });
    flushText();
    const hash = await inputHash(input);
    calls.open.add(toolCallId);
    await agent.toolCall({ name, toolCallId, ...(hash === undefined ? {} : { inputHash: hash }) });
  };
  const writeResults = async () => {
    if (results.length === 0) return;
    const batch = results;
    results = [];
    flushText();
    for (const r of batch) {
      if (!calls.open.delete(r.toolCallId)) continue;
      await agent.toolResult({
        toolCallId: r.toolCallId,
        outcome: r.outcome,
        summary: encodeToolRecord(r.record),
        ...(r.error === undefined ? {} : { error: { code: r.record.denied === true ? 'denied' : 'tool_error', message: r.error } }),
      });
    }
  };
  const inputOf = (toolCallId: string) => calls.inputs.get(toolCallId)?.input;
  let approvalsAsked: { approvalId: string; toolCallId: string }[] = [];
  const askApprovals = () => {
    const batch = approvalsAsked;
    approvalsAsked = [];
    if (batch.length > 0) flushText();
    for (const { approvalId, toolCallId } of batch) {
      const call = calls.inputs.get(toolCallId);
      const text = call === undefined ? undefined : options.approvalText?.({ toolName: call.name, input: call.input });
      const decision = agent
        .requestApproval({
          toolCallId,
          approvalId,
          to,
          signal: writer.signal,
          ...(call === undefined || call.input === undefined ? {} : { input: call.input as never }),
          ...(text === undefined ? {} : { text }),
        })
        .then((d) => ({ approvalId: d.approvalId, toolCallId, approved: d.approved, ...(d.reason === undefined ? {} : { reason: d.reason }) }));
      decision.catch(() => undefined);
      decisions.push(decision);
    }
  };
  // A step ends with its tools' results, then its approval requests: a reader that sees an
  // approval request has every other result of the step already.
  const settleStep = async () => {
    await writeResults();
    askApprovals();
  };

  const stream = 'toUIMessageStream' in source ? source.toUIMessageStream() : source;
  try {
    for await (const chunk of chunksOf(stream, writer.signal)) {
      switch (chunk.type) {
        case 'text-delta':
          writer.write(chunk.delta);
          break;
        case 'tool-input-available':
          await record(chunk.toolCallId, chunk.toolName, chunk.input);
          break;
        case 'tool-input-error':
          await record(chunk.toolCallId, chunk.toolName, chunk.input);
          results.push({ toolCallId: chunk.toolCallId, outcome: 'error', record: { input: chunk.input, error: chunk.errorText }, error: chunk.errorText });
          break;
        case 'tool-output-available':
          if (chunk.preliminary === true) break;
          results.push({ toolCallId: chunk.toolCallId, outcome: 'ok', record: { input: inputOf(chunk.toolCallId), output: chunk.output } });
          break;
        case 'tool-output-error':
          results.push({ toolCallId: chunk.toolCallId, outcome: 'error', record: { input: inputOf(chunk.toolCallId), error: chunk.errorText }, error: chunk.errorText });
          break;
        case 'tool-output-denied':
          results.push({
            toolCallId: chunk.toolCallId,
            outcome: 'error',
            record: { input: inputOf(chunk.toolCallId), denied: true },
            error: 'the tool call was not approved',
          });
          break;
        case 'tool-approval-request':
          approvalsAsked.push({ approvalId: chunk.approvalId, toolCallId: chunk.toolCallId });
          break;
        case 'start-step':
        case 'finish-step':
          await settleStep();
          break;
        case 'finish':
          await settleStep();
          if (chunk.finishReason !== undefined) result.finishReason = chunk.finishReason;
          break;
        case 'error':
          result.error = chunk.errorText;
          break;
        case 'abort':
          result.aborted = true;
          break;
        default:
          break;
      }
    }
    await settleStep();
    if (writer.signal.aborted) result.aborted = true;
    if (!result.aborted) {
      try {
        result.approvals = await Promise.all(decisions);
      } catch (error) {
        if (!writer.signal.aborted) throw error;
        result.aborted = true;
      }
    }
  } finally {
    if (result.aborted || result.error !== undefined) await endOpenCalls(agent, calls, result.error ?? 'interrupted');
  }
  return result;
}

/** End the tool calls left without a result (the answer stopped before they finished). */
async function endOpenCalls(agent: Agent, calls: ToolCallLedger, why: string): Promise<void> {
  for (const toolCallId of [...calls.open]) {
    calls.open.delete(toolCallId);
    await agent
      .toolResult({
        toolCallId,
        outcome: 'error',
        summary: encodeToolRecord({ input: calls.inputs.get(toolCallId)?.input, error: why }),
        error: { code: 'interrupted', message: why },
      })
      .catch(() => undefined);
  }
}

async function* chunksOf(stream: ReadableStream<UIMessageChunk> | AsyncIterable<UIMessageChunk>, signal: AbortSignal): AsyncGenerator<UIMessageChunk> {
  if (!('getReader' in stream)) {
    for await (const chunk of stream) {
      if (signal.aborted) return;
      yield chunk;
    }
    return;
  }
  const reader = stream.getReader();
  const onAbort = () => void reader.cancel().catch(() => undefined);
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    if (signal.aborted) return;
    for (;;) {
      const { done, value } = await reader.read();
      if (done || signal.aborted) return;
      yield value;
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    reader.releaseLock();
  }
}

/** What streamAnswer needs of a `streamText` result. */
export interface StreamTextLike extends UIMessageStreamSource {
  /** The messages the call produced (all its steps), to continue the conversation after approvals. */
  responseMessages: PromiseLike<ModelMessage[]>;
}

export interface StreamAnswerOptions extends Omit<PipeOptions, 'calls'> {
  /** The user's message this answers: the answer's stream is named `answer-<its offset>`. */
  question?: MessageEvent;
  /** The answer's stream ID (default from `question`, else a random one). */
  messageId?: string;
  /** The conversation so far, for the model. */
  messages: ModelMessage[];
  /**
   * Call the model: typically `({ messages, abortSignal }) => streamText({ model, tools, messages,
   * abortSignal, stopWhen })`. Called again with the approvals' decisions appended when the model
   * asked for approvals.
   */
  generate: (input: { messages: ModelMessage[]; abortSignal: AbortSignal; round: number }) => StreamTextLike | Promise<StreamTextLike>;
  /** Model calls at most (each approval round is one more; default 8). */
  maxRounds?: number;
  writer?: StreamWriterOptions;
}

export interface AnswerResult {
  messageId: string;
  /** How the answer's stream ended (undefined if the connection closed first). */
  end: StreamEnd | undefined;
  finishReason?: FinishReason;
  /** What the answer added to the conversation: the model's messages and the approval decisions. */
  messages: ModelMessage[];
}

/** The stream ID of the answer to a user's message: derived from the session, so every reader agrees on it. */
export function answerIdFor(question: Pick<MessageEvent, 'offset'>): string {
  return `answer-${question.offset}`;
}

/**
 * Answer in the session with the AI SDK: open a stream, pipe the model's output into it, wait
 * for the approvals it asks for and call the model again with their decisions, then end the
 * stream (`complete`, or `error` with the model's error; an interrupt ends it `cancelled`).
 */
export async function streamAnswer(agent: Agent, options: StreamAnswerOptions): Promise<AnswerResult> {
  const messageId = options.messageId ?? (options.question === undefined ? undefined : answerIdFor(options.question));
  const writer = agent.startStream({ ...(messageId === undefined ? {} : { messageId }), ...options.writer });
  await writer.started;
  const calls = new ToolCallLedger();
  const produced: ModelMessage[] = [];
  const maxRounds = options.maxRounds ?? 8;
  let finishReason: FinishReason | undefined;
  try {
    for (let round = 0; ; round++) {
      const result = await options.generate({ messages: [...options.messages, ...produced], abortSignal: writer.signal, round });
      const piped = await pipeToSession(agent, writer, result, {
        calls,
        ...(options.approvalTo === undefined ? {} : { approvalTo: options.approvalTo }),
        ...(options.approvalText === undefined ? {} : { approvalText: options.approvalText }),
      });
      finishReason = piped.finishReason;
      if (piped.aborted || writer.signal.aborted) break;
      if (piped.error !== undefined) {
        await writer.end({ reason: 'error', error: piped.error });
        break;
      }
      produced.push(...(await result.responseMessages));
      if (piped.approvals.length === 0) {
        await writer.end();
        break;
      }
      produced.push({
        role: 'tool',
        content: piped.approvals.map((d) => ({
          type: 'tool-approval-response' as const,
          approvalId: d.approvalId,
          approved: d.approved,
          ...(d.reason === undefined ? {} : { reason: d.reason }),
        })),
      });
      if (round + 1 >= maxRounds) {
        await writer.end({ reason: 'error', error: `stopped after ${maxRounds} model calls` });
        break;
      }
    }
  } catch (error) {
    if (!writer.signal.aborted) await writer.end({ reason: 'error', error: error instanceof Error ? error.message : String(error) }).catch(() => undefined);
    throw error;
  }
  const end = await writer.done.catch(() => undefined);
  return { messageId: writer.messageId, end, ...(finishReason === undefined ? {} : { finishReason }), messages: produced };
}
