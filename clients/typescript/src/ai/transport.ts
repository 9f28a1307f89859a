/**
 * A Vercel AI SDK `ChatTransport` over a Durable Sessions session: `useChat({ transport })`.
 *
 * - sendMessages posts the user's message into the session (a `message` frame, exactly once) and
 *   returns the agent's answer as UI message chunks, built from the session's events (see
 *   AnswerChunks). The UI message's id is the answer stream's `messageId`.
 * - reconnectToStream replays the answer in flight from its first event (a `start` chunk with the
 *   same messageId, then everything), whatever offset the connection resumed from; `null` when
 *   no answer is in flight.
 * - Stop (the request's abortSignal) sends an `interrupt` signal to the answering agent.
 * - Tool approvals: an approval addressed to this participant ends the UI stream (as the AI SDK's
 *   own server does); `addToolApprovalResponse` plus `sendAutomaticallyWhen:
 *   lastAssistantMessageIsCompleteWithApprovalResponses` calls sendMessages again, which sends
 *   the `tool.approval.answer` frames and continues the same message.
 */
import type { ChatTransport, UIMessage, UIMessageChunk } from 'ai';
import { readUIMessageStream } from 'ai';
import { Participant } from '../agent/participant.js';
import { connect, type SessionConnection } from '../connection/connection.js';
import type { ConnectOptions } from '../connection/options.js';
import { DurableSessionsError, isDurableSessionsError } from '../errors.js';
import { addresses, type ParticipantRef, type Target } from '../protocol/common.js';
import type { SessionEvent, StreamStarted } from '../protocol/events.js';
import { AnswerChunks, type AnswerStart } from './answer-chunks.js';
import { EventTap } from './event-tap.js';

export interface SessionChatTransportOptions {
  /** A connection as the person chatting (role `user`, usually). */
  connection: SessionConnection;
  /**
   * Which streams and messages are answers (default: those of agents and operators, that is any
   * role but `user` and `observer`).
   */
  isAnswer?: (start: AnswerStart) => boolean;
  /**
   * End the UI stream at a tool approval addressed to this participant, as the AI SDK's own
   * server does, so that `addToolApprovalResponse` continues it (default true). With false the
   * stream stays open until the answer ends; answer with `answerApproval()`.
   */
  pauseOnApproval?: boolean;
  /** Whom stop interrupts before the answer has started (default all agents, `{role: 'agent'}`). */
  interruptTo?: Target;
  /** close() also closes the connection (default: only a connection the transport opened). */
  closeConnection?: boolean;
}

type FollowKind = 'send' | 'resume' | 'continue';

interface FollowPlan {
  kind: FollowKind;
  tap: EventTap;
  /** Read events after this offset (from history first when `history`). */
  after: number;
  history: boolean;
  /** How the answer is recognised: the first answer after `after`, or the event at this offset. */
  answerAt?: number;
  /** Emit only the chunks of events after this offset (computed once the history part is read). */
  emitAfter?: (history: SessionEvent[]) => number;
  abortSignal: AbortSignal | undefined;
}

const defaultIsAnswer = (start: AnswerStart): boolean => start.by.role !== 'user' && start.by.role !== 'observer';

/**
 * Is this answer the one to the question at `questionOffset`? An answer named after its question
 * (`answer-<offset>`, see answerIdFor) answers that one only; any other is taken as the answer
 * to the latest question before it.
 */
function answers(start: AnswerStart, question: number): boolean {
  return start.type !== 'stream.started' || !ANSWER_ID.test(start.messageId) || questionOffset(start.messageId) === question;
}

const ANSWER_ID = /^answer-(\d+)$/;

/** An answer named `answer-<offset>` started after that offset: history scans for it start there (0 for other names). */
function questionOffset(messageId: string): number {
  const named = ANSWER_ID.exec(messageId);
  return named === null ? 0 : Number(named[1]);
}

export class SessionChatTransport<UI_MESSAGE extends UIMessage = UIMessage> implements ChatTransport<UI_MESSAGE> {
  /** A reconnect replays the answer from its beginning (the Chat then rebuilds the message). */
  readonly resumeStreamIsReplay = true;
  readonly connection: SessionConnection;
  readonly participant: Participant;

  private readonly isAnswer: (start: AnswerStart) => boolean;
  private readonly pauseOnApproval: boolean;
  private readonly interruptTo: Target;
  private readonly ownsConnection: boolean;
  /** Streams seen starting on the connection and not ended yet, by messageId. */
  private readonly openStarts = new Map<string, StreamStarted>();
  /** Approvals seen answered on the connection. */
  private readonly answered = new Set<string>();
  /** Where a UI stream of an answer paused at an approval: the offset of that request. */
  private readonly pausedAt = new Map<string, number>();
  /** The offsets of the messages this transport posted, by messageId. */
  private readonly posted = new Map<string, { offset: number; text: string }>();
  private readonly offs: (() => void)[];
  private resumeGeneration = 0;
  private current: AnswerChunks | undefined;

  constructor(options: SessionChatTransportOptions) {
    this.connection = options.connection;
    this.participant = new Participant(options.connection);
    this.isAnswer = options.isAnswer ?? defaultIsAnswer;
    this.pauseOnApproval = options.pauseOnApproval ?? true;
    this.interruptTo = options.interruptTo ?? { role: 'agent' };
    this.ownsConnection = options.closeConnection ?? false;
    this.offs = [
      this.connection.on('event', (event) => {
        if (event.type === 'stream.started') this.openStarts.set(event.messageId, event);
        else if (event.type === 'stream.ended') this.openStarts.delete(event.messageId);
        else if (event.type === 'tool.approval.answered') this.answered.add(event.approvalId);
      }),
    ];
  }

  /** Open a connection with these options and a transport over it (close() closes both). */
  static connect<UI_MESSAGE extends UIMessage = UIMessage>(
    options: ConnectOptions,
    transportOptions: Omit<SessionChatTransportOptions, 'connection'> = {},
  ): SessionChatTransport<UI_MESSAGE> {
    return new SessionChatTransport<UI_MESSAGE>({ closeConnection: true, ...transportOptions, connection: connect(options) });
  }

  get sessionId(): string {
    return this.connection.sessionId;
  }

  // ---- ChatTransport ----

  async sendMessages(options: Parameters<ChatTransport<UI_MESSAGE>['sendMessages']>[0]): Promise<ReadableStream<UIMessageChunk>> {
    if (options.trigger === 'regenerate-message') {
      throw new DurableSessionsError({
        code: 'invalid_request',
        message: 'regenerate is not supported: a session is append-only; send the question again instead',
        source: 'client',
      });
    }
    const last = options.messages[options.messages.length - 1];
    if (last === undefined) throw new DurableSessionsError({ code: 'invalid_request', message: 'sendMessages needs a message', source: 'client' });
    await this.attached();
    if (last.role === 'assistant') return this.continueAfterApprovals(last, options.abortSignal);
    const text = last.parts.flatMap((part) => (part.type === 'text' ? [part.text] : [])).join('');
    const posted = this.posted.get(last.id);
    if ((posted !== undefined && posted.text !== text) || (posted === undefined && options.messageId !== undefined)) {
      throw new DurableSessionsError({
        code: 'invalid_request',
        message: 'editing a sent message is not supported: a session is append-only; send a new message instead',
        source: 'client',
      });
    }
    const tap = new EventTap(this.connection);
    if (posted !== undefined) {
      // Sent already (sendMessage() again after an error): follow its answer, from the history on.
      return this.follow({ kind: 'send', tap, after: posted.offset, history: true, abortSignal: options.abortSignal });
    }
    let offset: number;
    try {
      const ack = await this.participant.sendMessage(text, { messageId: last.id });
      offset = ack.offset ?? this.connection.lastOffset;
    } catch (error) {
      tap.close();
      throw error;
    }
    this.posted.set(last.id, { offset, text });
    return this.follow({ kind: 'send', tap, after: offset, history: false, abortSignal: options.abortSignal });
  }

  async reconnectToStream(options: Parameters<ChatTransport<UI_MESSAGE>['reconnectToStream']>[0]): Promise<ReadableStream<UIMessageChunk> | null> {
    const generation = ++this.resumeGeneration;
    await this.attached();
    const tap = new EventTap(this.connection);
    let start: StreamStarted | undefined;
    try {
      start = await this.inFlight();
    } catch (error) {
      tap.close();
      throw error;
    }
    if (start === undefined || options.abortSignal?.aborted === true || generation !== this.resumeGeneration) {
      tap.close();
      return null;
    }
    return this.follow(
      { kind: 'resume', tap, after: start.offset - 1, history: true, answerAt: start.offset, abortSignal: options.abortSignal },
      generation,
    );
  }

  /** Stop following the session; closes the connection if the transport opened it. */
  close(): void {
    for (const off of this.offs.splice(0)) off();
    if (this.ownsConnection) this.connection.close();
  }

  // ---- beyond the interface ----

  /** Interrupt the answer in flight (its owner), or all agents when none is known. */
  interrupt(text?: string): Promise<unknown> {
    const answer = this.current;
    const to: Target = answer !== undefined && !answer.done ? { participant: answer.owner.id } : this.interruptTo;
    return this.participant.interrupt(to, text);
  }

  /** Approve or deny a tool call addressed to this participant directly (with `pauseOnApproval: false`). */
  answerApproval(approvalId: string, approved: boolean, reason?: string): Promise<unknown> {
    return this.participant.answerApproval(approvalId, approved, reason);
  }

  /**
   * The conversation as UI messages, read from the session's history: the users' messages and
   * the answers (streams and messages of agents and operators), the answer in flight included as
   * far as it got. For `useChat({ messages })` on page load, before `resume`.
   */
  async loadMessages(): Promise<UI_MESSAGE[]> {
    const events: SessionEvent[] = [];
    for await (const event of this.connection.rest.events(this.sessionId)) events.push(event);
    return uiMessagesFromEvents<UI_MESSAGE>(events, { isAnswer: this.isAnswer });
  }

  // ---- following an answer ----

  private async continueAfterApprovals(message: UI_MESSAGE, abortSignal: AbortSignal | undefined): Promise<ReadableStream<UIMessageChunk>> {
    const approvals: { id: string; approved?: boolean; reason?: string; responded: boolean }[] = [];
    for (const part of message.parts) {
      const tool = part as { approval?: { id: string; approved?: boolean; reason?: string }; state?: string };
      if (tool.approval !== undefined) approvals.push({ ...tool.approval, responded: tool.state === 'approval-responded' });
    }
    const tap = new EventTap(this.connection);
    try {
      for (const approval of approvals) {
        if (!approval.responded || approval.approved === undefined || this.answered.has(approval.id)) continue;
        try {
          await this.participant.answerApproval(approval.id, approval.approved, approval.reason);
        } catch (error) {
          // Answered already (elsewhere, or by an earlier try), or dropped because the call ended.
          if (!isDurableSessionsError(error, 'approval_not_found')) throw error;
        }
      }
      const start = await this.findStart(message.id);
      if (start === undefined) {
        throw new DurableSessionsError({ code: 'invalid_request', message: `no answer ${message.id} in session ${this.sessionId}`, source: 'client' });
      }
      const ids = new Set(approvals.map((a) => a.id));
      const paused = this.pausedAt.get(message.id);
      return this.follow({
        kind: 'continue',
        tap,
        after: start.offset - 1,
        history: true,
        answerAt: start.offset,
        abortSignal,
        emitAfter: (history) => paused ?? pausePoint(history, ids) ?? history[history.length - 1]?.offset ?? start.offset,
      });
    } catch (error) {
      tap.close();
      throw error;
    }
  }

  private follow(plan: FollowPlan, resumeGeneration?: number): ReadableStream<UIMessageChunk> {
    const stop = new AbortController();
    let controller!: ReadableStreamDefaultController<UIMessageChunk>;
    let closed = false;
    let chunker: AnswerChunks | undefined;
    const finish = (error?: unknown) => {
      if (closed) return;
      closed = true;
      stop.abort();
      plan.tap.close();
      plan.abortSignal?.removeEventListener('abort', onAbort);
      try {
        if (error === undefined) controller.close();
        else controller.error(error);
      } catch {
        // cancelled by the reader already
      }
    };
    const onAbort = () => {
      const answer = chunker;
      const wasOpen = !closed;
      finish();
      if (!wasOpen || answer?.done === true) return;
      const to: Target = answer !== undefined ? { participant: answer.owner.id } : this.interruptTo;
      const send = () => void this.participant.interrupt(to).catch((error: unknown) => this.report(error));
      if (plan.kind !== 'resume') return send();
      // A Chat aborts a resume request also when it starts another one (a remount): only a stop
      // that no new resume follows interrupts the agent.
      setTimeout(() => {
        if (resumeGeneration === this.resumeGeneration) send();
      }, 0);
    };
    const emit = (chunks: UIMessageChunk[]) => {
      for (const chunk of chunks) if (!closed) controller.enqueue(chunk);
    };

    const run = async () => {
      const me = await this.attached();
      const waiting = new Set<string>();
      // Events read and not handled yet: pending[next..] (an index, not shift(): a replay can be long).
      let pending: SessionEvent[] = [];
      let next = 0;
      let last = plan.after;
      if (plan.history) {
        for await (const event of this.connection.rest.events(this.sessionId, { after: plan.after, signal: stop.signal })) {
          if (event.offset > last) {
            pending.push(event);
            last = event.offset;
          }
        }
      }
      const emitAfter = plan.emitAfter?.(pending) ?? plan.after;
      if (plan.kind === 'continue') {
        // The UI has this message up to emitAfter: its stream carries on from there.
        const start = pending.find((e) => e.offset === plan.answerAt);
        if (start !== undefined && 'messageId' in start) emit([{ type: 'start', messageId: start.messageId }]);
      }
      for (;;) {
        if (closed) return;
        for (const event of plan.tap.drain()) {
          if (event.offset > last) {
            pending.push(event);
            last = event.offset;
          }
        }
        if (next > 1024 && next * 2 > pending.length) {
          pending = pending.slice(next);
          next = 0;
        }
        const event = pending[next];
        if (event === undefined) {
          await plan.tap.wait(stop.signal);
          continue;
        }
        next++;
        const visible = event.offset > emitAfter;
        if (chunker === undefined) {
          const isStart =
            (event.type === 'stream.started' || event.type === 'message') &&
            (plan.answerAt !== undefined ? event.offset === plan.answerAt : this.isAnswer(event) && answers(event, plan.after));
          if (!isStart) {
            if (event.type === 'session.closed' && plan.answerAt === undefined) {
              emit([{ type: 'error', errorText: `the session was closed${event.reason === undefined ? '' : `: ${event.reason}`}` }]);
              return finish();
            }
            continue;
          }
          chunker = new AnswerChunks(event);
          if (plan.kind !== 'continue') this.current = chunker;
          const chunks = chunker.start();
          if (visible) emit(chunks);
          if (chunker.done) return finish();
          continue;
        }
        const chunks = chunker.push(event);
        if (!visible) {
          if (event.offset === emitAfter && plan.kind === 'continue') chunker.pause(); // the UI got these chunks when it paused here
          if (chunker.done) return finish();
          continue;
        }
        emit(chunks);
        if (chunker.done) return finish();
        if (!this.pauseOnApproval) continue;
        // Pause once the step is settled (every tool call has a result or waits for an
        // approval) and an approval waits for this participant.
        if (event.type === 'tool.approval.requested' && chunker.hasApproval(event.approvalId) && addresses(event.to, me)) {
          const answered =
            this.answered.has(event.approvalId) || pending.some((e, i) => i >= next && e.type === 'tool.approval.answered' && e.approvalId === event.approvalId);
          if (!answered) waiting.add(event.approvalId);
        } else if (event.type === 'tool.approval.answered') {
          waiting.delete(event.approvalId);
        }
        if (waiting.size > 0 && chunker.unsettledTools === 0) {
          this.pausedAt.set(chunker.messageId, event.offset);
          emit(chunker.pause());
          return finish();
        }
      }
    };

    const stream = new ReadableStream<UIMessageChunk>({
      start: (c) => {
        controller = c;
      },
      cancel: () => {
        closed = true;
        stop.abort();
        plan.tap.close();
      },
    });
    if (plan.abortSignal?.aborted === true) {
      queueMicrotask(onAbort);
    } else {
      plan.abortSignal?.addEventListener('abort', onAbort, { once: true });
      run().catch((error: unknown) => {
        if (!stop.signal.aborted) finish(error);
      });
    }
    return stream;
  }

  // ---- finding answers ----

  /** The latest answer stream that is open now, if any. */
  private async inFlight(): Promise<StreamStarted | undefined> {
    const summary = await this.connection.rest.getSession(this.sessionId);
    const open = new Set(summary.openStreams);
    if (open.size === 0) return undefined;
    const candidates = [...this.openStarts.values()].filter((s) => open.has(s.messageId));
    const known = new Set(candidates.map((s) => s.messageId));
    const unknown = [...open].filter((id) => !known.has(id));
    if (unknown.length > 0) {
      for (const start of await this.scanOpenStarts(Math.min(...unknown.map(questionOffset)), summary.head)) {
        if (open.has(start.messageId) && !known.has(start.messageId)) candidates.push(start);
      }
    }
    return candidates.filter((s) => this.isAnswer(s)).sort((a, b) => a.offset - b.offset).pop();
  }

  /** The `stream.started` of the latest stream with this messageId. */
  private async findStart(messageId: string): Promise<StreamStarted | undefined> {
    const known = this.openStarts.get(messageId);
    if (known !== undefined) return known;
    const scan = async (after: number) => {
      let found: StreamStarted | undefined;
      for await (const event of this.connection.rest.events(this.sessionId, { after })) {
        if (event.type === 'stream.started' && event.messageId === messageId) found = event;
      }
      return found;
    };
    try {
      return await scan(questionOffset(messageId));
    } catch (error) {
      if (!isDurableSessionsError(error, 'offset_beyond_head')) throw error;
      return scan(0); // a name that only looks like one of ours
    }
  }

  /** Streams open at `head` that started after `after`, from the history (for streams that started before this connection's offset). */
  private async scanOpenStarts(after: number, head: number): Promise<StreamStarted[]> {
    const open = new Map<string, StreamStarted>();
    for await (const event of this.connection.rest.events(this.sessionId, { after: Math.min(after, head) })) {
      if (event.offset > head) break;
      if (event.type === 'stream.started') open.set(event.messageId, event);
      else if (event.type === 'stream.ended') open.delete(event.messageId);
    }
    return [...open.values()];
  }

  private attached(): Promise<ParticipantRef> {
    const me = this.connection.participant;
    if (me !== undefined) return Promise.resolve(me);
    return new Promise((resolve, reject) => {
      const offAttached = this.connection.on('attached', (frame) => {
        offAttached();
        offClosed();
        resolve(frame.participant);
      });
      const offClosed = this.connection.on('closed', (error) => {
        offAttached();
        offClosed();
        reject(error ?? new DurableSessionsError({ code: 'connection_closed', message: 'the connection closed', source: 'client' }));
      });
    });
  }

  private report(error: unknown): void {
    if (isDurableSessionsError(error)) this.connection.reportError(error);
  }
}

/**
 * Where a UI stream of this answer paused, for a transport that did not see it pause (a page
 * restored from its own storage): the first event after which every approval of the message
 * has been asked for and every tool call of the step is settled, before any of those
 * approvals was answered.
 */
export function pausePoint(answer: SessionEvent[], approvalIds: ReadonlySet<string>): number | undefined {
  const first = answer[0];
  if (first === undefined || first.type !== 'stream.started' || approvalIds.size === 0) return undefined;
  const chunker = new AnswerChunks(first);
  chunker.start();
  const requested = new Set<string>();
  for (const event of answer.slice(1)) {
    if (event.type === 'tool.approval.answered' && approvalIds.has(event.approvalId)) return undefined;
    chunker.push(event);
    if (event.type === 'tool.approval.requested' && approvalIds.has(event.approvalId)) requested.add(event.approvalId);
    if (requested.size === approvalIds.size && chunker.unsettledTools === 0) return event.offset;
  }
  return undefined;
}

/**
 * UI messages from session events (a whole history, in order): user messages as `user`
 * messages, answers as `assistant` messages folded from the same chunks the transport streams.
 */
export async function uiMessagesFromEvents<UI_MESSAGE extends UIMessage = UIMessage>(
  events: Iterable<SessionEvent>,
  options: { isAnswer?: (start: AnswerStart) => boolean } = {},
): Promise<UI_MESSAGE[]> {
  const isAnswer = options.isAnswer ?? defaultIsAnswer;
  const out: ({ message: UI_MESSAGE } | { answer: AnswerChunks; chunks: UIMessageChunk[] })[] = [];
  const open: { answer: AnswerChunks; chunks: UIMessageChunk[] }[] = [];
  for (const event of events) {
    for (const entry of open) entry.chunks.push(...entry.answer.push(event));
    if ((event.type === 'message' || event.type === 'stream.started') && isAnswer(event)) {
      const answer = new AnswerChunks(event);
      const entry = { answer, chunks: answer.start() };
      out.push(entry);
      if (!answer.done) open.push(entry);
    } else if (event.type === 'message' && event.by.role === 'user') {
      out.push({ message: { id: event.messageId, role: 'user', parts: [{ type: 'text', text: event.text }] } as unknown as UI_MESSAGE });
    }
    for (let i = open.length - 1; i >= 0; i--) if (open[i]!.answer.done) open.splice(i, 1);
  }
  const messages: UI_MESSAGE[] = [];
  for (const entry of out) {
    if ('message' in entry) {
      messages.push(entry.message);
      continue;
    }
    const stream = new ReadableStream<UIMessageChunk>({
      start(controller) {
        for (const chunk of entry.chunks) controller.enqueue(chunk);
        controller.close();
      },
    });
    let folded: UI_MESSAGE | undefined;
    for await (const message of readUIMessageStream<UI_MESSAGE>({ stream, onError: () => undefined })) folded = message;
    if (folded !== undefined) messages.push(folded);
  }
  return messages;
}
