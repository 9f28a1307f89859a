/**
 * Turns the session events of one answer into AI SDK UI message chunks. Pure: the same events
 * always give the same chunks, so a live answer, a replay after a reload and a message rebuilt
 * from history all fold into the same UI message.
 *
 * An answer is an agent's `stream.started` ... `stream.ended` (or one posted `message`), with the
 * tool calls its owner makes while it is open and their approvals:
 *
 * | session event | chunks |
 * |---|---|
 * | `stream.started` | `start` (`messageId` = the stream's), `start-step` |
 * | `stream.delta` | `text-start` (once per text part), `text-delta` |
 * | `tool.called` | `text-end`, `tool-input-start` |
 * | `tool.approval.requested` | `tool-input-available` (its `input`), `tool-approval-request` |
 * | `tool.approval.answered` | `tool-approval-response`; denied: `tool-output-denied` |
 * | `tool.result` | `tool-input-available` (from the summary), `tool-output-available` or `tool-output-error` |
 * | `stream.ended` | `text-end`, `finish-step`, then `finish` (complete), `abort` (cancelled) or `error` (error, agent_lost) |
 *
 * Steps: text or a tool call that follows a tool's output starts a new step (`finish-step`,
 * `start-step`), as in a tool loop, where a step's tool outputs close it. The agent side
 * (pipeToSession) writes each step's tool results after the step's calls, so this is exact.
 */
import type { UIMessageChunk } from 'ai';
import type { ParticipantRef } from '../protocol/common.js';
import type { MessageEvent, SessionEvent, StreamStarted } from '../protocol/events.js';
import { decodeToolRecord } from './tool-record.js';

/** What an answer starts with: a stream, or a message posted in one piece. */
export type AnswerStart = StreamStarted | MessageEvent;

interface ToolState {
  name: string;
  inputAvailable: boolean;
  finished: boolean;
  /** An approval was asked for and not answered yet. */
  awaitingApproval: boolean;
}

export class AnswerChunks {
  readonly messageId: string;
  readonly owner: ParticipantRef;
  /** The offset of the answer's first event. */
  readonly startOffset: number;
  private ended = false;
  private textId: string | undefined;
  private textParts = 0;
  private stepHasOutput = false;
  private readonly tools = new Map<string, ToolState>();
  private readonly approvals = new Map<string, string>();

  constructor(private readonly first: AnswerStart) {
    this.messageId = first.messageId;
    this.owner = first.by;
    this.startOffset = first.offset;
  }

  /** The answer has ended (its stream ended, or it was a posted message). */
  get done(): boolean {
    return this.ended;
  }

  /**
   * Tool calls that are neither finished nor waiting for an approval: while there are any, the
   * step is still going (a tool runs, or its approval request is yet to come).
   */
  get unsettledTools(): number {
    let n = 0;
    for (const tool of this.tools.values()) if (!tool.finished && !tool.awaitingApproval) n++;
    return n;
  }

  /** Is this approval one of this answer's? */
  hasApproval(approvalId: string): boolean {
    return this.approvals.has(approvalId);
  }

  /** Does this event belong to this answer (whether or not it gives chunks)? */
  concerns(event: SessionEvent): boolean {
    if (this.ended) return false;
    switch (event.type) {
      case 'stream.delta':
      case 'stream.ended':
        return event.messageId === this.messageId;
      case 'tool.called':
        return event.by.id === this.owner.id;
      case 'tool.result':
      case 'tool.approval.requested':
        return this.tools.has(event.toolCallId);
      case 'tool.approval.answered':
        return this.approvals.has(event.approvalId);
      default:
        return false;
    }
  }

  /** The chunks the answer begins with. */
  start(): UIMessageChunk[] {
    const chunks: UIMessageChunk[] = [{ type: 'start', messageId: this.messageId }, { type: 'start-step' }];
    if (this.first.type === 'message') {
      this.ended = true;
      const id = this.nextTextId();
      if (this.first.text !== '') chunks.push({ type: 'text-start', id }, { type: 'text-delta', id, delta: this.first.text }, { type: 'text-end', id });
      chunks.push({ type: 'finish-step' }, { type: 'finish', finishReason: 'stop' });
    }
    return chunks;
  }

  /** The chunks for one more event of the session (none if it is not about this answer). */
  push(event: SessionEvent): UIMessageChunk[] {
    if (!this.concerns(event)) return [];
    const chunks: UIMessageChunk[] = [];
    switch (event.type) {
      case 'stream.delta': {
        this.newStepIfOutput(chunks);
        if (event.text === '') break;
        if (this.textId === undefined) {
          this.textId = this.nextTextId();
          chunks.push({ type: 'text-start', id: this.textId });
        }
        chunks.push({ type: 'text-delta', id: this.textId, delta: event.text });
        break;
      }
      case 'tool.called': {
        this.closeText(chunks);
        this.newStepIfOutput(chunks);
        this.tools.set(event.toolCallId, { name: event.name, inputAvailable: false, finished: false, awaitingApproval: false });
        chunks.push({ type: 'tool-input-start', toolCallId: event.toolCallId, toolName: event.name });
        break;
      }
      case 'tool.approval.requested': {
        const tool = this.tools.get(event.toolCallId)!;
        this.approvals.set(event.approvalId, event.toolCallId);
        if (tool.finished) break;
        tool.awaitingApproval = true;
        if (!tool.inputAvailable) {
          tool.inputAvailable = true;
          chunks.push({ type: 'tool-input-available', toolCallId: event.toolCallId, toolName: tool.name, input: event.input });
        }
        chunks.push({ type: 'tool-approval-request', approvalId: event.approvalId, toolCallId: event.toolCallId });
        break;
      }
      case 'tool.approval.answered': {
        const tool = this.tools.get(event.toolCallId);
        if (tool === undefined || tool.finished) break;
        tool.awaitingApproval = false;
        chunks.push({
          type: 'tool-approval-response',
          approvalId: event.approvalId,
          approved: event.approved,
          ...(event.reason === undefined ? {} : { reason: event.reason }),
        });
        if (!event.approved) {
          tool.finished = true;
          this.stepHasOutput = true;
          chunks.push({ type: 'tool-output-denied', toolCallId: event.toolCallId });
        }
        break;
      }
      case 'tool.result': {
        const tool = this.tools.get(event.toolCallId)!;
        if (tool.finished) break;
        tool.finished = true;
        tool.awaitingApproval = false;
        const record = decodeToolRecord(event.summary);
        if (!tool.inputAvailable) {
          tool.inputAvailable = true;
          chunks.push({ type: 'tool-input-available', toolCallId: event.toolCallId, toolName: tool.name, input: record.input });
        }
        if (event.outcome === 'ok') {
          chunks.push({ type: 'tool-output-available', toolCallId: event.toolCallId, output: record.output });
        } else if (record.denied === true) {
          chunks.push({ type: 'tool-output-denied', toolCallId: event.toolCallId });
        } else {
          const errorText = record.error ?? event.error?.message ?? (event.outcome === 'timeout' ? 'the tool timed out' : 'the tool failed');
          chunks.push({ type: 'tool-output-error', toolCallId: event.toolCallId, errorText });
        }
        this.stepHasOutput = true;
        break;
      }
      case 'stream.ended': {
        this.ended = true;
        this.closeText(chunks);
        chunks.push({ type: 'finish-step' });
        switch (event.reason) {
          case 'complete':
            chunks.push({ type: 'finish', finishReason: 'stop' });
            break;
          case 'cancelled':
            chunks.push({ type: 'abort', reason: event.error ?? 'cancelled' });
            break;
          default:
            chunks.push({ type: 'error', errorText: event.error ?? (event.reason === 'agent_lost' ? 'the agent was lost' : 'the agent ended the answer with an error') });
        }
        break;
      }
      default:
        break;
    }
    return chunks;
  }

  /**
   * The chunks that end a UI stream paused at an approval the reader must answer (as the AI
   * SDK's own server ends its response there): the reader's answer continues the same message.
   */
  pause(): UIMessageChunk[] {
    const chunks: UIMessageChunk[] = [];
    this.closeText(chunks);
    chunks.push({ type: 'finish-step' }, { type: 'finish', finishReason: 'tool-calls' });
    return chunks;
  }

  private newStepIfOutput(chunks: UIMessageChunk[]): void {
    if (!this.stepHasOutput) return;
    this.stepHasOutput = false;
    chunks.push({ type: 'finish-step' }, { type: 'start-step' });
  }

  private closeText(chunks: UIMessageChunk[]): void {
    if (this.textId === undefined) return;
    chunks.push({ type: 'text-end', id: this.textId });
    this.textId = undefined;
  }

  private nextTextId(): string {
    return `${this.messageId}:text-${++this.textParts}`;
  }
}
