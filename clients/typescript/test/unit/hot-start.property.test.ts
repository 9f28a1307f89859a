/**
 * The hot-start rule (src/worker/hot-start.ts): a new agent answers exactly the user messages
 * without a complete answer, once, whatever failovers cut answers off and wherever they fall.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AnswerLedger, hotStart, type MessageEvent, type ParticipantRef, type ResumePackage, type SessionEvent } from '../../src/index.js';

const ada: ParticipantRef = { id: 'ada', role: 'user', subject: 'ada' };
const sam: ParticipantRef = { id: 'sam', role: 'support', subject: 'sam' };
const hal: ParticipantRef = { id: 'hal', role: 'human', subject: 'hal' };
const system: ParticipantRef = { id: 'session', role: 'system', subject: 'durable-sessions' };
const agent = (n: number): ParticipantRef => ({ id: `worker-${n}`, role: 'agent', subject: `worker-${n}` });

class Log {
  readonly events: SessionEvent[] = [];
  write(event: Record<string, unknown>, by: ParticipantRef): SessionEvent {
    const e = { ...event, by, at: '2026-01-01T00:00:00Z', offset: this.events.length + 1 } as unknown as SessionEvent;
    this.events.push(e);
    return e;
  }
  resume(): ResumePackage {
    return {
      sessionId: 's',
      head: this.events.length,
      since: 0,
      truncated: false,
      control: { phase: 'agent_in_control' },
      turn: { number: 0, attempt: 1, open: false },
      state: {} as ResumePackage['state'],
      openRuns: { streams: [], toolCalls: [], agentStatus: {} },
      addressed: this.events.filter((e) => e.type === 'message' && e.by.id !== 'worker'),
    };
  }
}

const ask = (log: Log, text: string) => log.write({ type: 'message', messageId: text, text }, ada) as MessageEvent;

describe('a hot start', () => {
  it('finds the question whose answer a failover cut off, though the turn is closed', () => {
    const log = new Log();
    log.write({ type: 'session.created', sessionId: 's' }, system);
    ask(log, 'q1');
    log.write({ type: 'stream.started', messageId: 'a1' }, agent(1));
    log.write({ type: 'stream.delta', messageId: 'a1', text: 'Answer', parts: 1 }, agent(1));
    log.write({ type: 'stream.ended', messageId: 'a1', reason: 'complete' }, agent(1));
    const q2 = ask(log, 'q2');
    log.write({ type: 'stream.started', messageId: 'a2' }, agent(1));
    log.write({ type: 'stream.delta', messageId: 'a2', text: 'Half an ans', parts: 1 }, agent(1));
    log.write({ type: 'stream.ended', messageId: 'a2', reason: 'agent_lost', error: 'worker-1 was lost' }, system);
    log.write({ type: 'agent.failover', agent: 'worker-1', epoch: 1, reason: 'lease_expired' }, system);
    const q3 = ask(log, 'q3');

    const start = hotStart(log.resume(), log.events);
    expect(start.unanswered).toEqual([q2, q3]);
    expect(start.interrupted).toHaveLength(1);
    expect(start.interrupted[0]).toMatchObject({ messageId: 'a2', reason: 'agent_lost', text: 'Half an ans', questions: [q2] });
    expect(start.open).toEqual([]);
  });

  it('settles a question with a cancelled answer (an interrupt), not with one cut off by a lost agent', () => {
    const log = new Log();
    ask(log, 'q1');
    log.write({ type: 'stream.started', messageId: 'a1' }, agent(1));
    log.write({ type: 'stream.ended', messageId: 'a1', reason: 'cancelled' }, agent(1));
    expect(hotStart(log.resume(), log.events).unanswered).toEqual([]);
    const q2 = ask(log, 'q2');
    log.write({ type: 'stream.started', messageId: 'a2' }, agent(1));
    log.write({ type: 'stream.ended', messageId: 'a2', reason: 'agent_lost' }, system);
    expect(hotStart(log.resume(), log.events).unanswered).toEqual([q2]);
  });

  it('counts a human answer and not a support remark; a retry puts the question back', () => {
    const log = new Log();
    const q1 = ask(log, 'q1');
    log.write({ type: 'message', messageId: 'r', text: 'looking into it' }, sam);
    expect(hotStart(log.resume(), log.events).unanswered).toEqual([q1]);
    log.write({ type: 'message', messageId: 'h', text: 'here you go' }, hal);
    expect(hotStart(log.resume(), log.events).unanswered).toEqual([]);
    log.write({ type: 'turn.retried', turn: 1, attempt: 2 }, agent(1));
    expect(hotStart(log.resume(), log.events).unanswered).toEqual([q1]);
  });

  it('leaves an open answer in progress, and events after the head to the socket', () => {
    const log = new Log();
    const q1 = ask(log, 'q1');
    log.write({ type: 'stream.started', messageId: 'a1' }, agent(1));
    const resume = log.resume();
    ask(log, 'q2');
    const start = hotStart(resume, log.events);
    expect(start.unanswered).toEqual([]);
    expect(start.open).toMatchObject([{ messageId: 'a1', questions: [q1] }]);
    expect(start.offset).toBe(resume.head);
  });

  it('counts an announced answer for what it announced, not for a question that arrived before its start', () => {
    const log = new Log();
    const ledger = new AnswerLedger();
    const q1 = ask(log, 'q1');
    ledger.apply(q1);
    ledger.answering('a1', ledger.unanswered, agent(1));
    expect(ledger.unanswered).toEqual([]);
    const q2 = ask(log, 'q2'); // arrives before the answer's stream.started
    ledger.apply(q2);
    ledger.apply(log.write({ type: 'stream.started', messageId: 'a1' }, agent(1)));
    ledger.apply(log.write({ type: 'stream.ended', messageId: 'a1', reason: 'complete' }, agent(1)));
    expect(ledger.unanswered).toEqual([q2]);
    ledger.answering('a2', [q2], agent(1));
    ledger.abandon('a2'); // its start was refused
    expect(ledger.unanswered).toEqual([q2]);
  });

  it('ignores events it has applied already (a socket backlog overlapping the history read)', () => {
    const log = new Log();
    ask(log, 'q1');
    log.write({ type: 'stream.started', messageId: 'a1' }, agent(1));
    log.write({ type: 'stream.ended', messageId: 'a1', reason: 'complete' }, agent(1));
    const ledger = new AnswerLedger();
    for (const e of log.events) ledger.apply(e);
    for (const e of log.events) expect(ledger.apply(e)).toBe(false);
    expect(ledger.unanswered).toEqual([]);
  });
});

/**
 * Random runs of a session: users ask at any time; the agent of the moment answers what its
 * ledger says is unanswered, one stream per answer; at any time a failover ends its open answer
 * as agent_lost, and the next agent hot-starts from the history. At the end every question is
 * settled by exactly one answer that was not cut off (complete, or cancelled), and the
 * incremental ledger agrees with a hot start at every step.
 */
type Step = 'ask' | 'start' | 'delta' | 'complete' | 'cancel' | 'failover' | 'remark';
const step = fc.constantFrom<Step>('ask', 'ask', 'start', 'delta', 'complete', 'complete', 'cancel', 'failover', 'remark');

describe('agents that answer what the ledger says is unanswered', () => {
  it('answer every question exactly once across failovers', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 120 }), (steps) => {
        const log = new Log();
        let n = 0;
        let me = agent(++n);
        let ledger = hotStart(log.resume(), log.events).ledger;
        let open: { messageId: string; questions: string[] } | undefined;
        const answers = new Map<string, string[]>(); // complete answer -> the questions it meant
        let streams = 0;
        const apply = (e: SessionEvent) => ledger.apply(e);
        const startAnswer = () => {
          if (open !== undefined || ledger.unanswered.length === 0) return;
          const messageId = `a${++streams}`;
          open = { messageId, questions: ledger.unanswered.map((q) => (q as { messageId: string }).messageId) };
          ledger.answering(messageId, ledger.unanswered, me);
          apply(log.write({ type: 'stream.started', messageId }, me));
        };
        const end = (reason: 'complete' | 'cancelled') => {
          if (open === undefined) return;
          apply(log.write({ type: 'stream.ended', messageId: open.messageId, reason }, me));
          answers.set(open.messageId, open.questions); // a cancelled answer settles its questions too
          open = undefined;
        };
        for (const s of steps) {
          switch (s) {
            case 'ask':
              apply(ask(log, `q${log.events.length + 1}`));
              break;
            case 'start':
              startAnswer();
              break;
            case 'delta':
              if (open !== undefined) apply(log.write({ type: 'stream.delta', messageId: open.messageId, text: 'x', parts: 1 }, me));
              break;
            case 'complete':
              end('complete');
              break;
            case 'cancel':
              end('cancelled');
              break;
            case 'remark':
              apply(log.write({ type: 'message', messageId: `r${log.events.length}`, text: 'noted' }, sam));
              break;
            case 'failover':
              if (open !== undefined) log.write({ type: 'stream.ended', messageId: open.messageId, reason: 'agent_lost', error: `${me.id} was lost` }, system);
              log.write({ type: 'agent.failover', agent: me.id, epoch: n, reason: 'lease_expired' }, system);
              open = undefined;
              me = agent(++n);
              log.write({ type: 'agent.assigned', agent: me.id, epoch: n, reason: 'failover' }, system);
              ledger = hotStart(log.resume(), log.events).ledger;
              break;
          }
          // The incremental ledger and a hot start from the history agree at every step.
          expect(ledger.unanswered).toEqual(hotStart(log.resume(), log.events).unanswered);
        }
        // The last agent answers what is left.
        while (ledger.unanswered.length > 0 || open !== undefined) {
          startAnswer();
          end('complete');
        }
        const asked = log.events.filter((e) => e.type === 'message' && e.by.role === 'user').map((e) => (e as { messageId: string }).messageId);
        const answeredBy = new Map<string, number>();
        for (const qs of answers.values()) for (const q of qs) answeredBy.set(q, (answeredBy.get(q) ?? 0) + 1);
        for (const q of asked) expect(answeredBy.get(q)).toBe(1);
        expect([...answeredBy.keys()].sort()).toEqual([...asked].sort());
      }),
      { numRuns: 300 },
    );
  });
});
