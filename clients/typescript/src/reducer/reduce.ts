/**
 * The pure reducer: `reduceSession(view, event)` returns the next view and never changes its
 * input. It depends only on the events (never on the clock or on how they arrived), and it
 * skips an event at or below `view.offset`, so a live socket, a catch-up, a history replay
 * or any mix of them with duplicates fold to the same view.
 *
 * It mirrors the server's own fold (session-core `SessionState`) for presence, control, turns
 * and the state document.
 */
import jsonpatch from 'fast-json-patch';
import type { Operation } from 'fast-json-patch';
import type { Control, Role, StateDocument } from '../protocol/common.js';
import type { SessionEvent } from '../protocol/events.js';
import type { MessageView, ParticipantView, PresenceView, SessionView } from './view.js';
import { initialSessionView } from './view.js';

const MAX_PENDING_SIGNALS = 256;

function speaksAsAssistant(role: Role | undefined): boolean {
  return role === 'agent' || role === 'human';
}

/** Fold one event into the view. */
export function reduceSession(view: SessionView, event: SessionEvent): SessionView {
  if (event.offset <= view.offset) return view;
  const next = apply(view, event);
  return next === view ? { ...view, offset: event.offset } : { ...next, offset: event.offset };
}

/** Fold events, in order, into `view` (default: the empty view). */
export function foldEvents(events: Iterable<SessionEvent>, view: SessionView = initialSessionView()): SessionView {
  let v = view;
  for (const e of events) v = reduceSession(v, e);
  return v;
}

function apply(v: SessionView, e: SessionEvent): SessionView {
  switch (e.type) {
    case 'session.created':
      return { ...v, sessionId: e.sessionId, createdAt: e.at, createdBy: e.by };

    case 'participant.joined': {
      const p = e.participant;
      const known = v.participants[p.id];
      return withParticipant(v, p.id, { ...known, participant: p, presence: known?.presence ?? offline(e.at) });
    }
    case 'participant.left': {
      const { [e.participant.id]: _gone, ...rest } = v.participants;
      return { ...v, participants: rest };
    }
    case 'participant.connected': {
      const p = e.participant;
      const known = v.participants[p.id];
      const presence = connectDevice(known?.presence ?? offline(e.at), e.device, e.at);
      return withParticipant(v, p.id, { ...known, participant: known?.participant ?? p, presence });
    }
    case 'participant.disconnected': {
      const known = v.participants[e.participant.id];
      if (known === undefined) return v;
      const devices = known.presence.devices.filter((d) => d !== e.device);
      const presence: PresenceView =
        devices.length > 0
          ? { status: 'online', devices, since: known.presence.since }
          : { status: 'disconnected', devices: [], since: e.at, ...(e.graceUntil === undefined ? {} : { graceUntil: e.graceUntil }) };
      return withParticipant(v, e.participant.id, { ...known, presence });
    }
    case 'participant.lost': {
      const known = v.participants[e.participant.id];
      if (known === undefined) return v;
      return withParticipant(v, e.participant.id, { ...known, presence: { status: 'lost', devices: [], since: e.at } });
    }

    case 'message': {
      const message: MessageView = { offset: e.offset, messageId: e.messageId, kind: 'message', by: e.by, at: e.at, text: e.text, state: 'complete' };
      const messages = [...v.messages, message];
      if (e.by.role === 'user') return { ...v, messages, turn: { number: v.turn.number + 1, attempt: 1, open: true } };
      if (speaksAsAssistant(e.by.role) && v.turn.open) return { ...v, messages, turn: { ...v.turn, open: false } };
      return { ...v, messages };
    }
    case 'stream.started': {
      const message: MessageView = {
        offset: e.offset,
        messageId: e.messageId,
        kind: 'stream',
        by: e.by,
        at: e.at,
        text: '',
        state: 'streaming',
        parts: 0,
      };
      return {
        ...v,
        messages: [...v.messages, message],
        openStreams: { ...v.openStreams, [e.messageId]: { offset: e.offset, owner: e.by.id, stalled: false } },
      };
    }
    case 'stream.delta': {
      const open = v.openStreams[e.messageId];
      if (open === undefined) return v;
      const messages = updateMessage(v.messages, open.offset, (m) => ({ ...m, text: m.text + e.text, parts: (m.parts ?? 0) + e.parts }));
      const openStreams = open.stalled ? { ...v.openStreams, [e.messageId]: { ...open, stalled: false } } : v.openStreams;
      return { ...v, messages, openStreams };
    }
    case 'stream.ended': {
      const open = v.openStreams[e.messageId];
      if (open === undefined) return v;
      const { [e.messageId]: _ended, ...openStreams } = v.openStreams;
      const messages = updateMessage(v.messages, open.offset, (m) => ({
        ...m,
        state: e.reason,
        endedAt: e.at,
        ...(e.error === undefined ? {} : { error: e.error }),
      }));
      const ownerRole = v.participants[open.owner]?.participant.role;
      // An answer cut off because its agent was lost does not answer the turn: the next agent does.
      const turn = v.turn.open && speaksAsAssistant(ownerRole) && e.reason !== 'agent_lost' ? { ...v.turn, open: false } : v.turn;
      return { ...v, messages, openStreams, turn };
    }
    case 'agent.stalled': {
      const open = v.openStreams[e.messageId];
      if (open === undefined) return v;
      return { ...v, openStreams: { ...v.openStreams, [e.messageId]: { ...open, stalled: true } } };
    }

    case 'signal': {
      const signal = {
        offset: e.offset,
        kind: e.kind,
        to: e.to,
        by: e.by,
        at: e.at,
        ...(e.text === undefined ? {} : { text: e.text }),
        ...(e.toolCallId === undefined ? {} : { toolCallId: e.toolCallId }),
      };
      const pendingSignals = [...v.pendingSignals, signal];
      return { ...v, pendingSignals: pendingSignals.length > MAX_PENDING_SIGNALS ? pendingSignals.slice(-MAX_PENDING_SIGNALS) : pendingSignals };
    }
    case 'signal.answered':
      return { ...v, pendingSignals: v.pendingSignals.filter((s) => s.offset !== e.signal) };

    case 'agent.status': {
      const known = v.participants[e.by.id];
      if (known === undefined) return v;
      const agentStatus = { status: e.status, at: e.at, ...(e.detail === undefined ? {} : { detail: e.detail }) };
      return withParticipant(v, e.by.id, { ...known, agentStatus });
    }
    case 'suggestion':
      return { ...v, suggestions: [...v.suggestions, { offset: e.offset, by: e.by, at: e.at, text: e.text }] };
    case 'handoff.noted':
      return { ...v, latestNote: e.note };

    case 'transfer.requested': {
      const agent = v.control.phase === 'agent_in_control' ? v.control.agent : undefined;
      const control: Control = { phase: 'transfer_pending', ...opt('agent', agent), invited: e.invited, note: e.note, since: e.at };
      return { ...v, control, latestNote: e.note };
    }
    case 'transfer.accepted': {
      const agent = v.control.phase === 'transfer_pending' ? v.control.agent : undefined;
      return { ...v, control: { phase: 'human_in_control', human: e.human, ...opt('previousAgent', agent) } };
    }
    case 'transfer.cancelled': {
      const agent = v.control.phase === 'transfer_pending' ? v.control.agent : undefined;
      return { ...v, control: { phase: 'agent_in_control', ...opt('agent', agent) } };
    }
    case 'session.queued': {
      const agent = v.control.phase === 'agent_in_control' || v.control.phase === 'transfer_pending' ? v.control.agent : undefined;
      const control: Control = { phase: 'queued', queue: e.queue, note: e.note, since: e.at, ...opt('previousAgent', agent) };
      return { ...v, control, latestNote: e.note };
    }
    case 'session.claimed': {
      const agent = v.control.phase === 'queued' ? v.control.previousAgent : undefined;
      return { ...v, control: { phase: 'human_in_control', human: e.by.id, ...opt('previousAgent', agent) } };
    }
    case 'control.handed_back':
      return {
        ...v,
        control: { phase: 'agent_in_control', ...opt('agent', e.agent) },
        ...(e.note === undefined ? {} : { latestNote: e.note }),
      };
    case 'session.closed':
      return { ...v, control: { phase: 'closed', ...opt('reason', e.reason) } };

    case 'state.committed': {
      if (v.stateError !== undefined) return v;
      try {
        const result = jsonpatch.applyPatch(v.state, e.patch as Operation[], true, false);
        return { ...v, state: result.newDocument as StateDocument };
      } catch (error) {
        return { ...v, stateError: `commit at offset ${e.offset} did not apply: ${error instanceof Error ? error.message : String(error)}` };
      }
    }
    case 'tool.called':
      return {
        ...v,
        toolCalls: {
          ...v.toolCalls,
          [e.toolCallId]: { toolCallId: e.toolCallId, name: e.name, caller: e.by.id, turn: e.turn, offset: e.offset, ...opt('inputHash', e.inputHash) },
        },
      };
    case 'tool.result': {
      const call = v.toolCalls[e.toolCallId];
      const result = { outcome: e.outcome, by: e.by.id, offset: e.offset, ...opt('summary', e.summary), ...opt('error', e.error) };
      const toolCalls = call === undefined ? v.toolCalls : { ...v.toolCalls, [e.toolCallId]: { ...call, result } };
      // A tool.result ends the call and drops its pending approval.
      let approvals = v.approvals;
      for (const a of Object.values(v.approvals)) {
        if (a.toolCallId === e.toolCallId && a.status === 'pending') approvals = { ...approvals, [a.approvalId]: { ...a, status: 'dropped' } };
      }
      return { ...v, toolCalls, approvals };
    }
    case 'turn.retried':
      return { ...v, turn: { number: e.turn, attempt: e.attempt, open: true } };

    case 'tool.approval.requested':
      return {
        ...v,
        approvals: {
          ...v.approvals,
          [e.approvalId]: {
            approvalId: e.approvalId,
            toolCallId: e.toolCallId,
            name: e.name,
            to: e.to,
            by: e.by,
            offset: e.offset,
            at: e.at,
            status: 'pending',
            ...opt('input', e.input),
            ...opt('text', e.text),
          },
        },
      };
    case 'tool.approval.answered': {
      const approval = v.approvals[e.approvalId];
      if (approval === undefined) return v;
      const answer = { approved: e.approved, by: e.by, offset: e.offset, ...opt('reason', e.reason) };
      return { ...v, approvals: { ...v.approvals, [e.approvalId]: { ...approval, status: e.approved ? 'approved' : 'denied', answer } } };
    }

    case 'audience.changed':
      return { ...v, audience: { present: e.present, devices: e.devices } };
    case 'receipt':
    case 'agent.assigned':
    case 'agent.released':
    case 'agent.failover':
    case 'agent.webhook_failed':
      return v;
    default:
      return ignoreUnknown(v, e);
  }
}

function offline(at: string): PresenceView {
  return { status: 'offline', devices: [], since: at };
}

function connectDevice(presence: PresenceView, device: string, at: string): PresenceView {
  if (presence.devices.includes(device)) return presence;
  return { status: 'online', devices: [...presence.devices, device], since: presence.status === 'online' ? presence.since : at };
}

function withParticipant(v: SessionView, id: string, p: ParticipantView): SessionView {
  return { ...v, participants: { ...v.participants, [id]: p } };
}

/** Replace the message at `offset` (messages are sorted by offset). */
function updateMessage(messages: MessageView[], offset: number, change: (m: MessageView) => MessageView): MessageView[] {
  let lo = 0;
  let hi = messages.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const m = messages[mid]!;
    if (m.offset === offset) {
      const copy = messages.slice();
      copy[mid] = change(m);
      return copy;
    }
    if (m.offset < offset) lo = mid + 1;
    else hi = mid - 1;
  }
  return messages;
}

/** `{key: value}` when value is defined, `{}` otherwise: the view leaves absent fields out, like the wire. */
function opt<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/**
 * Every event type of the protocol is handled above (the compiler checks it); an event type a
 * newer server adds is skipped, its offset still counted.
 */
function ignoreUnknown(v: SessionView, _e: never): SessionView {
  return v;
}
