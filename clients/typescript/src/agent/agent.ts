/**
 * The agent side of a connection: streams with linger, signals (interrupts as AbortSignals),
 * status, suggestions, commits, tool calls and their approvals, turn retries, and the resume
 * package. Operators (`human`, `support`, `admin`) may use it too for what their role allows.
 */
import type { SessionConnection } from '../connection/connection.js';
import { randomId } from '../util.js';
import type { AppendAck } from '../connection/producer.js';
import { DurableSessionsError } from '../errors.js';
import type { AgentStatus, JsonValue, StepError, Target, ToolOutcome } from '../protocol/common.js';
import { addresses } from '../protocol/common.js';
import type { ParticipantRef } from '../protocol/common.js';
import type { SessionEvent, SignalEvent, ToolApprovalAnswered } from '../protocol/events.js';
import type { CommitFrame, ServerAckFrame } from '../protocol/frames.js';
import type { ResumePackage } from '../rest/types.js';
import { Participant } from './participant.js';
import { StreamWriter, type StreamWriterOptions } from './stream-writer.js';

export interface AgentOptions extends StreamWriterOptions {
  /**
   * On an `interrupt` (or a `cancel` without `toolCallId`) addressed to this agent: end its
   * open streams as `cancelled` and answer the signal (`consumed`, or `ignored` when nothing
   * was open). Default true. The AbortSignals fire either way.
   */
  handleInterrupts?: boolean;
  /**
   * Act on signals written after this offset only. Default: the head of the first `attached`
   * frame, so a replayed history does not re-run old signals (a restarted agent finds the
   * unanswered ones in the resume package).
   */
  signalsAfter?: number;
}

/** A `commit` frame's fields, without the framing (`type`, `ref`, `producer`). */
export type CommitInput = Omit<CommitFrame, 'type' | 'ref' | 'producer'>;

export interface ApprovalRequest {
  /** An open tool call of this participant (see toolCall()). */
  toolCallId: string;
  /** Who decides (default: the users). */
  to?: Target;
  /** The arguments shown to the approver. */
  input?: JsonValue;
  text?: string;
  /** Default: a random ID. */
  approvalId?: string;
  /** Stop waiting (the approval stays pending in the session). */
  signal?: AbortSignal;
}

export interface ApprovalDecision {
  approvalId: string;
  approved: boolean;
  reason?: string;
  by: ParticipantRef;
  offset: number;
}

type SignalHandler = (signal: SignalEvent) => void;

export class Agent extends Participant {
  private readonly options: AgentOptions;
  private readonly writers = new Map<string, StreamWriter>();
  private readonly signalHandlers = new Set<SignalHandler>();
  private readonly approvalWaiters = new Map<
    string,
    { toolCallId: string; resolve: (d: ApprovalDecision) => void; reject: (e: unknown) => void }
  >();
  private readonly toolControllers = new Map<string, AbortController>();
  private turnController = new AbortController();
  private signalsAfter: number | undefined;
  private readonly unsubscribe: (() => void)[] = [];

  constructor(connection: SessionConnection, options: AgentOptions = {}) {
    super(connection);
    this.options = options;
    this.signalsAfter = options.signalsAfter;
    if (this.signalsAfter === undefined && connection.attached !== undefined) {
      this.signalsAfter = Math.max(connection.attached.head, connection.lastOffset);
    }
    this.unsubscribe.push(
      connection.on('attached', (frame) => {
        if (this.signalsAfter === undefined) this.signalsAfter = frame.head;
      }),
      connection.on('event', (event) => this.onEvent(event)),
      connection.on('closed', (error) => this.onClosed(error)),
    );
  }

  /** This participant, once attached. */
  get me(): ParticipantRef | undefined {
    return this.connection.participant;
  }

  // ---- streaming ----

  /** Open a streamed message; the returned writer batches text (see StreamWriter). */
  startStream(options: StreamWriterOptions & { messageId?: string } = {}): StreamWriter {
    return this.writerFor(options.messageId ?? `run-${randomId()}`, options, false);
  }

  /**
   * Carry on a stream this participant already has open, for example after the agent process
   * restarted mid-answer (the resume package lists it under `openRuns.streams`): no
   * `stream.start` is sent; deltas and the end go to the open stream.
   */
  continueStream(messageId: string, options: StreamWriterOptions = {}): StreamWriter {
    return this.writerFor(messageId, options, true);
  }

  private writerFor(messageId: string, options: StreamWriterOptions, alreadyOpen: boolean): StreamWriter {
    if (this.writers.has(messageId)) throw new Error(`stream ${messageId} is already open here`);
    const writer = new StreamWriter(
      this.connection,
      messageId,
      { lingerMs: options.lingerMs ?? this.options.lingerMs, maxBatchBytes: options.maxBatchBytes ?? this.options.maxBatchBytes },
      (w) => {
        if (this.writers.get(w.messageId) === w) this.writers.delete(w.messageId);
      },
      alreadyOpen,
    );
    this.writers.set(messageId, writer);
    writer.started.catch(() => {
      if (this.writers.get(messageId) === writer) this.writers.delete(messageId);
    });
    return writer;
  }

  /** Streams this agent object has open. */
  get openStreams(): StreamWriter[] {
    return [...this.writers.values()];
  }

  // ---- signals ----

  /**
   * Called for every signal addressed to this participant (its role or its ID) written after
   * `signalsAfter`, after the built-in interrupt handling. Returns the function that unsubscribes.
   */
  onSignal(handler: SignalHandler): () => void {
    this.signalHandlers.add(handler);
    return () => this.signalHandlers.delete(handler);
  }

  /**
   * An AbortSignal for the current turn: aborted by the next `interrupt` (or `cancel` without
   * a tool call) addressed to this agent, for model calls made before a stream opens. A new
   * one is handed out after each interrupt.
   */
  turnSignal(): AbortSignal {
    return this.turnController.signal;
  }

  /** An AbortSignal aborted by a `cancel` signal naming this tool call. */
  toolCallSignal(toolCallId: string): AbortSignal {
    let c = this.toolControllers.get(toolCallId);
    if (c === undefined) {
      c = new AbortController();
      this.toolControllers.set(toolCallId, c);
    }
    return c.signal;
  }

  // ---- other appends ----

  status(status: AgentStatus, detail?: string): Promise<AppendAck> {
    return this.connection.append({ type: 'status', status, ...(detail === undefined ? {} : { detail }) });
  }

  /** A suggestion for the human in control (seen only by operators and its author). */
  suggest(text: string): Promise<AppendAck> {
    return this.connection.append({ type: 'suggestion', text });
  }

  /** Change the state document with a JSON Patch, recording what caused it. */
  commit(input: CommitInput): Promise<AppendAck> {
    return this.connection.append({ type: 'commit', ...input });
  }

  /** Record that a tool call starts. */
  async toolCall(call: { name: string; toolCallId?: string; inputHash?: string }): Promise<AppendAck & { toolCallId: string }> {
    const toolCallId = call.toolCallId ?? `call-${randomId()}`;
    const ack = await this.connection.append({
      type: 'tool.call',
      toolCallId,
      name: call.name,
      ...(call.inputHash === undefined ? {} : { inputHash: call.inputHash }),
    });
    return { ...ack, toolCallId };
  }

  /** Record how a tool call ended. */
  toolResult(result: { toolCallId: string; outcome: ToolOutcome; summary?: string; error?: StepError }): Promise<AppendAck> {
    this.toolControllers.delete(result.toolCallId);
    return this.connection.append({ type: 'tool.result', ...result });
  }

  /** Start the current turn over as its next attempt. */
  retryTurn(reason?: string): Promise<AppendAck> {
    return this.connection.append({ type: 'turn.retry', ...(reason === undefined ? {} : { reason }) });
  }

  /**
   * Ask for approval of a tool call and wait for the answer. Rejects with `approval_dropped`
   * if the call ends (its `tool.result`) first, with the server's refusal if the request is
   * refused, or with `signal.reason` when aborted.
   */
  requestApproval(request: ApprovalRequest): Promise<ApprovalDecision> {
    const approvalId = request.approvalId ?? `approval-${randomId()}`;
    return new Promise<ApprovalDecision>((resolve, reject) => {
      const signal = request.signal;
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => {
        this.approvalWaiters.delete(approvalId);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.approvalWaiters.set(approvalId, {
        toolCallId: request.toolCallId,
        resolve: (d) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(d);
        },
        reject: (e) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
      });
      this.connection
        .append({
          type: 'tool.approval.request',
          approvalId,
          toolCallId: request.toolCallId,
          to: request.to ?? { role: 'user' },
          ...(request.input === undefined ? {} : { input: request.input }),
          ...(request.text === undefined ? {} : { text: request.text }),
        })
        .catch((error: unknown) => {
          const waiter = this.approvalWaiters.get(approvalId);
          this.approvalWaiters.delete(approvalId);
          waiter?.reject(error);
        });
    });
  }

  /** Send what every open stream has buffered, then wait until every append is answered. */
  override async flush(): Promise<void> {
    await Promise.all(this.openStreams.map((w) => w.flush().catch(() => undefined)));
    await this.connection.flush();
  }

  /** Flush the open streams' text, then leave (the server ends those streams as cancelled). */
  override async leave(): Promise<ServerAckFrame> {
    await this.flush();
    return this.connection.leave();
  }

  /** What a restarted agent needs to carry on (REST resume package). */
  resume(after?: number): Promise<ResumePackage> {
    return this.connection.rest.resume(this.sessionId, after);
  }

  /** Stop following the connection (the connection stays open). */
  detach(): void {
    for (const off of this.unsubscribe.splice(0)) off();
  }

  // ---- events ----

  private onEvent(event: SessionEvent): void {
    switch (event.type) {
      case 'signal':
        return this.onSignalEvent(event);
      case 'stream.ended': {
        const writer = this.writers.get(event.messageId);
        if (writer !== undefined) writer.ended(event, event.by.id === this.me?.id);
        return;
      }
      case 'tool.approval.answered':
        return this.onApprovalAnswered(event);
      case 'tool.result': {
        for (const [approvalId, waiter] of this.approvalWaiters) {
          if (waiter.toolCallId !== event.toolCallId) continue;
          this.approvalWaiters.delete(approvalId);
          waiter.reject(
            new DurableSessionsError({
              code: 'approval_dropped',
              message: `tool call ${event.toolCallId} ended (${event.outcome}) before approval ${approvalId} was answered`,
              source: 'client',
            }),
          );
        }
        return;
      }
      default:
        return;
    }
  }

  private onSignalEvent(event: SignalEvent): void {
    const me = this.me;
    if (me === undefined || !addresses(event.to, me)) return;
    if (this.signalsAfter === undefined || event.offset <= this.signalsAfter) return;
    const stops = event.kind === 'interrupt' || (event.kind === 'cancel' && event.toolCallId === undefined);
    if (stops) {
      const open = [...this.writers.values()].filter((w) => w.state === 'open');
      const turn = this.turnController;
      this.turnController = new AbortController();
      turn.abort(event);
      const auto = this.options.handleInterrupts ?? true;
      const endings = open.map((w) => w.interrupt(event, auto));
      if (auto) {
        const outcome = open.length > 0 ? 'consumed' : 'ignored';
        void Promise.all(endings)
          .then(() => this.answerSignal(event.offset, outcome, open.length > 0 ? undefined : 'nothing to interrupt'))
          .catch(() => undefined);
      }
    } else if (event.kind === 'cancel' && event.toolCallId !== undefined) {
      this.toolControllers.get(event.toolCallId)?.abort(event);
    }
    for (const handler of [...this.signalHandlers]) {
      try {
        handler(event);
      } catch (error) {
        this.connection.reportError(
          new DurableSessionsError({ code: 'listener_error', message: `an onSignal handler threw: ${String(error)}`, source: 'client', cause: error }),
        );
      }
    }
  }

  private onApprovalAnswered(event: ToolApprovalAnswered): void {
    const waiter = this.approvalWaiters.get(event.approvalId);
    if (waiter === undefined) return;
    this.approvalWaiters.delete(event.approvalId);
    waiter.resolve({
      approvalId: event.approvalId,
      approved: event.approved,
      by: event.by,
      offset: event.offset,
      ...(event.reason === undefined ? {} : { reason: event.reason }),
    });
  }

  private onClosed(error: DurableSessionsError | undefined): void {
    const reason = error ?? new DurableSessionsError({ code: 'connection_closed', message: 'the connection closed', source: 'client' });
    for (const waiter of this.approvalWaiters.values()) waiter.reject(reason);
    this.approvalWaiters.clear();
    for (const writer of [...this.writers.values()]) writer.connectionClosed(reason);
  }
}
