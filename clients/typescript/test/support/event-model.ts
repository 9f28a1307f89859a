/**
 * Builds plausible session logs for property tests: a list of random "moves" is interpreted
 * against a small model of the session so that every event is one the server could write
 * (streams are open before their deltas, answers follow their signals, patches apply, the
 * control phases follow §9).
 */
import type { JsonPatchOperation, ParticipantRef, Role, SessionEvent, Target } from '../../src/index.js';

export type Move = [kind: number, pick: number, text: string];

const SESSION: ParticipantRef = { id: 'session', role: 'system', subject: 'durable-sessions' };

export function buildLog(moves: Move[], sessionId = 's-1'): SessionEvent[] {
  const events: SessionEvent[] = [];
  const people: ParticipantRef[] = [];
  const devices = new Map<string, Set<string>>();
  const open = new Map<string, ParticipantRef>();
  const signals: number[] = [];
  const tools = new Map<string, ParticipantRef>();
  const approvals = new Map<string, string>();
  let phase: 'agent_in_control' | 'transfer_pending' | 'human_in_control' | 'queued' | 'closed' = 'agent_in_control';
  let turnNumber = 0;
  let attempt = 1;
  let streams = 0;
  let pendingActions = 0;
  let clock = Date.UTC(2026, 0, 1);

  const at = () => new Date((clock += 7)).toISOString();
  const push = (e: Record<string, unknown>) => {
    events.push({ ...e, offset: events.length + 1, at: at() } as unknown as SessionEvent);
  };
  const pick = <T>(xs: T[], n: number): T | undefined => (xs.length === 0 ? undefined : xs[n % xs.length]);
  const person = (role: Role, n: number): ParticipantRef => ({ id: `${role}-${n % 3}`, role, subject: `${role}-${n % 3}` });

  const creator = person('user', 0);
  push({ type: 'session.created', by: creator, sessionId });
  push({ type: 'participant.joined', by: creator, participant: creator });
  people.push(creator);

  for (const [kind, n, text] of moves) {
    const someone = pick(people, n)!;
    switch (kind % 22) {
      case 0: {
        const roles: Role[] = ['agent', 'user', 'human', 'support', 'observer'];
        const p = person(roles[n % roles.length]!, n >> 3);
        if (!people.some((q) => q.id === p.id)) {
          people.push(p);
          push({ type: 'participant.joined', by: p, participant: p });
        }
        break;
      }
      case 1: {
        const device = `d${n % 2}`;
        const set = devices.get(someone.id) ?? new Set();
        if (!set.has(device)) {
          set.add(device);
          devices.set(someone.id, set);
          push({ type: 'participant.connected', by: someone, participant: someone, device });
        }
        break;
      }
      case 2: {
        const set = devices.get(someone.id);
        const device = set === undefined ? undefined : [...set][n % set.size];
        if (set !== undefined && device !== undefined) {
          set.delete(device);
          push({
            type: 'participant.disconnected',
            by: someone,
            participant: someone,
            device,
            reason: 'socket_closed',
            ...(set.size === 0 ? { graceUntil: at() } : {}),
          });
        }
        break;
      }
      case 3:
        if ((devices.get(someone.id)?.size ?? 0) === 0) {
          push({ type: 'participant.lost', by: SESSION, participant: someone, reason: 'grace_expired' });
          for (const [id, owner] of [...open]) {
            if (owner.id !== someone.id) continue;
            open.delete(id);
            push({ type: 'stream.ended', by: SESSION, messageId: id, reason: 'agent_lost', error: `${someone.id} was lost` });
          }
        }
        break;
      case 4:
        if (phase !== 'closed' && someone.role !== 'observer') {
          push({ type: 'message', by: someone, messageId: `m-${events.length}`, text });
          if (someone.role === 'user') {
            turnNumber++;
            attempt = 1;
          }
        }
        break;
      case 5:
        if (phase !== 'closed' && someone.role !== 'observer') {
          const id = `r-${streams++ % 4}`;
          if (!open.has(id)) {
            open.set(id, someone);
            push({ type: 'stream.started', by: someone, messageId: id });
          }
        }
        break;
      case 6:
      case 7: {
        const id = pick([...open.keys()], n);
        if (id !== undefined && phase !== 'closed') push({ type: 'stream.delta', by: open.get(id)!, messageId: id, text, parts: 1 + (n % 3) });
        break;
      }
      case 8: {
        const id = pick([...open.keys()], n);
        if (id !== undefined && phase !== 'closed') {
          const owner = open.get(id)!;
          open.delete(id);
          const reasons = ['complete', 'cancelled', 'error'] as const;
          push({ type: 'stream.ended', by: owner, messageId: id, reason: reasons[n % 3], ...(n % 2 === 0 ? { error: text } : {}) });
        }
        break;
      }
      case 9:
        if (phase !== 'closed') {
          const to: Target = n % 2 === 0 ? { role: 'agent' } : { participant: someone.id };
          const kinds = ['interrupt', 'steer', 'cancel', 'typing', 'custom'] as const;
          signals.push(events.length + 1);
          push({ type: 'signal', by: someone, kind: kinds[n % kinds.length], to, ...(text === '' ? {} : { text }) });
        }
        break;
      case 10: {
        const signal = pick(signals, n);
        if (signal !== undefined && phase !== 'closed') {
          signals.splice(signals.indexOf(signal), 1);
          push({ type: 'signal.answered', by: someone, signal, outcome: n % 2 === 0 ? 'consumed' : 'ignored' });
        }
        break;
      }
      case 11:
        if (phase !== 'closed') {
          const statuses = ['idle', 'thinking', 'streaming', 'tool_call', 'waiting_for_input'] as const;
          push({ type: 'agent.status', by: someone, status: statuses[n % statuses.length], ...(n % 2 ? { detail: text } : {}) });
        }
        break;
      case 12: {
        const id = pick([...open.keys()], n);
        if (id !== undefined) push({ type: 'agent.stalled', by: SESSION, agent: open.get(id)!.id, messageId: id, silentMillis: 10000 });
        break;
      }
      case 13:
        if (phase !== 'closed') push({ type: 'suggestion', by: someone, text });
        break;
      case 14: {
        // a control move that is legal in the current phase
        const queue = `q${n % 2}`;
        const note = n % 3 === 0 ? {} : { next: [text] };
        if (phase === 'agent_in_control' && n % 2 === 0) {
          phase = 'transfer_pending';
          push({ type: 'transfer.requested', by: someone, invited: n % 4 === 0 ? { queue } : { participant: 'human-1' }, note });
        } else if (phase === 'agent_in_control' || phase === 'transfer_pending') {
          if (n % 3 === 0 && phase === 'transfer_pending') {
            phase = 'agent_in_control';
            push({ type: 'transfer.cancelled', by: someone, ...(text === '' ? {} : { reason: text }) });
          } else if (n % 3 === 1 && phase === 'transfer_pending') {
            phase = 'human_in_control';
            closeAgentStreams(someone);
            push({ type: 'transfer.accepted', by: someone, human: someone.id });
          } else {
            phase = 'queued';
            closeAgentStreams(someone);
            push({ type: 'session.queued', by: someone, queue, note });
          }
        } else if (phase === 'queued') {
          if (n % 2 === 0) {
            phase = 'human_in_control';
            push({ type: 'session.claimed', by: someone, queue });
          } else {
            phase = 'agent_in_control';
            push({ type: 'control.handed_back', by: someone, ...(n % 4 === 1 ? { agent: 'agent-1' } : {}), ...(n % 3 === 0 ? { note } : {}) });
          }
        } else if (phase === 'human_in_control') {
          phase = 'agent_in_control';
          push({ type: 'control.handed_back', by: someone, ...(n % 4 === 1 ? { agent: 'agent-2' } : {}) });
        }
        break;
      }
      case 15:
        if (phase !== 'closed') push({ type: 'state.committed', by: someone, turn: turnNumber, attempt, provenance: 'unverified', patch: patchFor(n, text), evictedKeys: [] });
        break;
      case 16:
        if (phase !== 'closed') {
          const id = `call-${events.length}`;
          tools.set(id, someone);
          push({ type: 'tool.called', by: someone, toolCallId: id, name: `tool${n % 3}`, turn: turnNumber });
        }
        break;
      case 17: {
        const id = pick([...tools.keys()], n);
        if (id !== undefined && phase !== 'closed') {
          tools.delete(id);
          for (const [a, call] of [...approvals]) if (call === id) approvals.delete(a);
          push({ type: 'tool.result', by: someone, toolCallId: id, outcome: (['ok', 'error', 'timeout'] as const)[n % 3], ...(text ? { summary: text } : {}) });
        }
        break;
      }
      case 18: {
        const id = pick([...tools.keys()], n);
        if (id !== undefined && phase !== 'closed') {
          const approvalId = `ap-${events.length}`;
          approvals.set(approvalId, id);
          push({
            type: 'tool.approval.requested',
            by: tools.get(id)!,
            approvalId,
            toolCallId: id,
            name: 'tool',
            to: { role: 'user' },
            input: { path: text },
            ...(n % 2 ? { text } : {}),
          });
        }
        break;
      }
      case 19: {
        const approvalId = pick([...approvals.keys()], n);
        if (approvalId !== undefined && phase !== 'closed') {
          const toolCallId = approvals.get(approvalId)!;
          approvals.delete(approvalId);
          push({ type: 'tool.approval.answered', by: someone, approvalId, toolCallId, approved: n % 2 === 0, ...(text ? { reason: text } : {}) });
        }
        break;
      }
      case 20:
        if (turnNumber > 0 && phase !== 'closed') {
          attempt++;
          push({ type: 'turn.retried', by: someone, turn: turnNumber, attempt, ...(text ? { reason: text } : {}) });
        } else {
          push({ type: 'audience.changed', by: SESSION, present: n % 2 === 0, devices: n % 3 });
        }
        break;
      case 21:
        if (n % 5 === 0 && phase !== 'closed') {
          for (const id of [...open.keys()]) {
            open.delete(id);
            push({ type: 'stream.ended', by: someone, messageId: id, reason: 'cancelled', error: 'session closed' });
          }
          phase = 'closed';
          push({ type: 'session.closed', by: someone, ...(text ? { reason: text } : {}) });
        } else {
          push({ type: 'receipt', by: someone, participant: someone, device: 'd0', delivered: events.length, deliveredAt: at() });
        }
        break;
    }
  }
  return events;

  function closeAgentStreams(by: ParticipantRef): void {
    for (const [id, owner] of [...open]) {
      if (owner.role !== 'agent') continue;
      open.delete(id);
      push({ type: 'stream.ended', by, messageId: id, reason: 'cancelled', error: 'control transferred' });
    }
  }

  function patchFor(n: number, text: string): JsonPatchOperation[] {
    switch (n % 4) {
      case 0:
        return [{ op: 'add', path: '/files_modified/-', value: text }];
      case 1:
        return [{ op: 'add', path: '/decisions_made/-', value: { what: text, why: 'because' } }];
      case 2:
        return [{ op: 'add', path: '/pending_actions/-', value: { id: `a${pendingActions++}`, done: false } }];
      default:
        return [{ op: 'add', path: `/notes_${n % 3}`, value: { text, n } }];
    }
  }
}

/** What a reader with this role receives: no receipts, and suggestions only for operators and their author. */
export function visibleTo(events: SessionEvent[], reader: ParticipantRef): SessionEvent[] {
  const operator = reader.role === 'human' || reader.role === 'support' || reader.role === 'admin';
  return events.filter((e) => e.type !== 'receipt' && (e.type !== 'suggestion' || operator || e.by.id === reader.id));
}
