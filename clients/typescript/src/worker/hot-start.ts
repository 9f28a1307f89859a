/**
 * Hot start: what a new agent of a session has to answer, so that it answers every user
 * message that has no answer, once, and nothing that was answered.
 *
 * The resume package alone does not say it: `addressed` lists the user messages but not the
 * answers (streamed answers are `stream.*` events), and `turn` says only whether the latest
 * question is open, not which earlier ones an answer cut off. The rule therefore folds the
 * session's events, following the turn rules of PROTOCOL "Session state":
 *
 * - A `message` from a `user` is a question.
 * - An answer is a stream whose owner joined as an `agent` or a `human`, or a `message` from
 *   one (the roles whose answers close a turn). A stream answers the questions waiting when it
 *   started (or those announced with `answering()`): from `stream.started` they are in
 *   progress. Its `stream.ended` settles them, whatever the reason, except `agent_lost`: an
 *   answer cut off because its agent was lost (a failover) puts its questions back, and is
 *   reported as interrupted. (`cancelled` and `error` close the turn: the user interrupted, a
 *   transfer or close took the floor, or the agent gave up; the question is not asked again.)
 *   An answering `message` answers every waiting question at once.
 * - `turn.retried` puts the current turn's question back: the agent is redoing it.
 *
 * Pure and incremental: `AnswerLedger.apply` takes events in offset order (events at or below
 * the last applied offset are ignored, so a socket's backlog may overlap the history read), so
 * an agent keeps one ledger from its hot start through the live events of its session.
 */
import type { HandoffNote, ParticipantRef } from '../protocol/common.js';
import type { MessageEvent, SessionEvent } from '../protocol/events.js';
import type { RestClient } from '../rest/client.js';
import type { ResumePackage } from '../rest/types.js';

/** An answer cut off because its agent was lost (`agent_lost`): its questions are unanswered again. */
export interface InterruptedAnswer {
  messageId: string;
  by: ParticipantRef;
  reason: 'agent_lost';
  error?: string;
  /** The offset of its `stream.ended`. */
  endedAt: number;
  /** The text it had written before it was cut off. */
  text: string;
  /** The questions it was answering. */
  questions: MessageEvent[];
}

/** A stream answering questions, still open. */
export interface OpenAnswer {
  messageId: string;
  by: ParticipantRef;
  startedAt: number;
  text: string;
  questions: MessageEvent[];
}

export interface HotStart {
  /** User messages without an answer and without an open one, oldest first: answer each once. */
  unanswered: MessageEvent[];
  /** Interrupted answers whose questions are still unanswered (say, ended `agent_lost` by a failover). */
  interrupted: InterruptedAnswer[];
  /** Answers still open. */
  open: OpenAnswer[];
  /** The session's latest handoff note, from the resume package. */
  note?: HandoffNote;
  /** The resume package was truncated: questions older than its window are not considered. */
  truncated: boolean;
  /** The offset the ledger has applied up to (the resume package's head after a hot start). */
  offset: number;
}

const ANSWERING_ROLES: ReadonlySet<string> = new Set(['agent', 'human']);

interface StreamRecord {
  messageId: string;
  by: ParticipantRef;
  startedAt: number;
  text: string[];
  questions: MessageEvent[];
  answering: boolean;
}

/** The questions of one session and their answers, folded from its events. */
export class AnswerLedger {
  private last = 0;
  private waiting: MessageEvent[] = [];
  private readonly streams = new Map<string, StreamRecord>();
  private interruptedAnswers: InterruptedAnswer[] = [];
  /** The question of the current turn (the latest user message). */
  private turnQuestion: MessageEvent | undefined;
  private readonly answered = new Set<number>();

  /** Start after `offset`: events at or below it are ignored. */
  constructor(offset = 0) {
    this.last = offset;
  }

  get offset(): number {
    return this.last;
  }

  /** Apply one event. Returns false when it was at or below the last applied offset (ignored). */
  apply(event: SessionEvent): boolean {
    if (event.offset <= this.last) return false;
    this.last = event.offset;
    switch (event.type) {
      case 'message':
        if (event.by.role === 'user') {
          this.waiting.push(event);
          this.turnQuestion = event;
        } else if (ANSWERING_ROLES.has(event.by.role)) {
          this.answer(this.waiting.splice(0));
        }
        return true;
      case 'stream.started': {
        if (this.streams.has(event.messageId)) {
          // Announced with answering(): it answers what was announced.
          const announced = this.streams.get(event.messageId)!;
          announced.startedAt = event.offset;
          announced.by = event.by;
          return true;
        }
        const answering = ANSWERING_ROLES.has(event.by.role);
        this.streams.set(event.messageId, {
          messageId: event.messageId,
          by: event.by,
          startedAt: event.offset,
          text: [],
          questions: answering ? this.waiting.splice(0) : [],
          answering,
        });
        return true;
      }
      case 'stream.delta':
        this.streams.get(event.messageId)?.text.push(event.text);
        return true;
      case 'stream.ended': {
        const stream = this.streams.get(event.messageId);
        if (stream === undefined) return true;
        this.streams.delete(event.messageId);
        if (!stream.answering) return true;
        if (event.reason !== 'agent_lost') {
          this.answer(stream.questions);
        } else {
          this.putBack(stream.questions);
          this.interruptedAnswers.push({
            messageId: stream.messageId,
            by: stream.by,
            reason: 'agent_lost',
            ...(event.error === undefined ? {} : { error: event.error }),
            endedAt: event.offset,
            text: stream.text.join(''),
            questions: stream.questions,
          });
        }
        return true;
      }
      case 'turn.retried': {
        const question = this.turnQuestion;
        if (question !== undefined && this.answered.delete(question.offset)) this.putBack([question]);
        return true;
      }
      default:
        return true;
    }
  }

  /**
   * Announce that this agent's stream `messageId` answers `questions` (taken from unanswered),
   * before starting it: they are in progress at once, and a question that arrives before the
   * stream's `stream.started` is not counted as answered by it (the rule alone would).
   * `by` is the author until the stream's `stream.started` names it.
   */
  answering(messageId: string, questions: readonly MessageEvent[], by: ParticipantRef = { id: '', role: 'agent', subject: '' }): void {
    const taking = new Set(questions.map((q) => q.offset));
    const taken = this.waiting.filter((q) => taking.has(q.offset));
    this.waiting = this.waiting.filter((q) => !taking.has(q.offset));
    this.streams.set(messageId, { messageId, by, startedAt: 0, text: [], questions: taken, answering: true });
  }

  /**
   * An announced stream that never started (its `stream.start` was refused): its questions are
   * unanswered again.
   */
  abandon(messageId: string): void {
    const stream = this.streams.get(messageId);
    if (stream === undefined || stream.startedAt !== 0) return;
    this.streams.delete(messageId);
    this.putBack(stream.questions);
  }

  /** Questions without a complete or open answer, oldest first. */
  get unanswered(): MessageEvent[] {
    return [...this.waiting];
  }

  /** Answers cut off whose questions are still waiting. */
  get interrupted(): InterruptedAnswer[] {
    const waiting = new Set(this.waiting.map((q) => q.offset));
    return this.interruptedAnswers.filter((a) => a.questions.some((q) => waiting.has(q.offset)));
  }

  get open(): OpenAnswer[] {
    return [...this.streams.values()]
      .filter((s) => s.answering)
      .map((s) => ({ messageId: s.messageId, by: s.by, startedAt: s.startedAt, text: s.text.join(''), questions: s.questions }));
  }

  private answer(questions: MessageEvent[]): void {
    for (const q of questions) this.answered.add(q.offset);
  }

  private putBack(questions: MessageEvent[]): void {
    const known = new Set(this.waiting.map((q) => q.offset));
    this.waiting = [...this.waiting, ...questions.filter((q) => !known.has(q.offset))].sort((a, b) => a.offset - b.offset);
  }
}

/**
 * The hot start of a new agent: fold `events` (the session's history in offset order, from its
 * start or from a point before which everything was answered) into what is unanswered,
 * interrupted and open. Events after the package's head are left for the live socket. Returns
 * the ledger too, to keep applying the socket's events.
 *
 * Why from the start and not from the package's `since`: `since` is the caller's own highest
 * receipt, and a worker that gets back a session it lost had received (and confirmed) the
 * question whose answer the failover cut off.
 */
export function hotStart(resume: ResumePackage, events: Iterable<SessionEvent>): HotStart & { ledger: AnswerLedger } {
  const ledger = new AnswerLedger();
  for (const event of events) {
    if (event.offset > resume.head) break;
    ledger.apply(event);
  }
  return {
    unanswered: ledger.unanswered,
    interrupted: ledger.interrupted,
    open: ledger.open,
    ...(resume.note === undefined ? {} : { note: resume.note }),
    truncated: resume.truncated,
    offset: ledger.offset,
    ledger,
  };
}

/** Read the history up to the package's head (after `from`, default 0) and fold it (see hotStart). */
export async function loadHotStart(
  rest: RestClient,
  resume: ResumePackage,
  options: { from?: number; signal?: AbortSignal } = {},
): Promise<HotStart & { ledger: AnswerLedger }> {
  const events: SessionEvent[] = [];
  if (resume.head > (options.from ?? 0)) {
    for await (const e of rest.events(resume.sessionId, { after: options.from ?? 0, ...(options.signal === undefined ? {} : { signal: options.signal }) })) {
      if (e.offset > resume.head) break;
      events.push(e);
      if (e.offset === resume.head) break;
    }
  }
  return hotStart(resume, events);
}
