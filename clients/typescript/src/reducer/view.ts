/**
 * The session view: what a UI shows, folded from events. Plain JSON (no classes, no Maps), so
 * it can be compared, stored and sent as is.
 */
import type {
  AgentStatus,
  Control,
  HandoffNote,
  JsonValue,
  ParticipantRef,
  PresenceStatus,
  SignalKind,
  StateDocument,
  StepError,
  Target,
  ToolOutcome,
  Turn,
} from '../protocol/common.js';
import { initialStateDocument } from '../protocol/common.js';

export interface PresenceView {
  status: PresenceStatus;
  /** The devices counted as connected. */
  devices: string[];
  since: string;
  /** Only while `disconnected`. */
  graceUntil?: string;
}

export interface ParticipantView {
  participant: ParticipantRef;
  presence: PresenceView;
  /** The latest `agent.status`; absent until the participant publishes one. */
  agentStatus?: { status: AgentStatus; detail?: string; at: string };
}

/** `complete` for a posted message; a stream's end reason once it ended; `streaming` while open. */
export type MessageState = 'streaming' | 'complete' | 'cancelled' | 'error' | 'agent_lost';

export interface MessageView {
  /** The offset of the `message` or `stream.started` event: unique, unlike messageId (a stream ID may be reused). */
  offset: number;
  messageId: string;
  kind: 'message' | 'stream';
  by: ParticipantRef;
  at: string;
  /** The whole text, or for a stream the text so far. */
  text: string;
  state: MessageState;
  /** For streams: how many appended deltas the text was made of. */
  parts?: number;
  /** For ended streams: the end's `error` text, when there is one. */
  error?: string;
  endedAt?: string;
}

export interface OpenStreamView {
  /** Key of the stream's entry in `messages` (its `offset`). */
  offset: number;
  owner: string;
  /** Set by `agent.stalled`, cleared by the next delta. */
  stalled: boolean;
}

export interface ToolCallView {
  toolCallId: string;
  name: string;
  /** The participant that made the call. */
  caller: string;
  turn: number;
  inputHash?: string;
  offset: number;
  result?: { outcome: ToolOutcome; summary?: string; error?: StepError; by: string; offset: number };
}

export interface PendingSignalView {
  offset: number;
  kind: SignalKind;
  to: Target;
  by: ParticipantRef;
  at: string;
  text?: string;
  toolCallId?: string;
}

export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'dropped';

export interface ApprovalView {
  approvalId: string;
  toolCallId: string;
  name: string;
  to: Target;
  by: ParticipantRef;
  offset: number;
  at: string;
  input?: JsonValue;
  text?: string;
  status: ApprovalStatus;
  /** Set once answered. */
  answer?: { approved: boolean; reason?: string; by: ParticipantRef; offset: number };
}

export interface SuggestionView {
  offset: number;
  by: ParticipantRef;
  at: string;
  text: string;
}

export interface SessionView {
  sessionId?: string;
  createdAt?: string;
  createdBy?: ParticipantRef;
  /** The offset of the last event folded in. */
  offset: number;
  /** Current participants (joined and not left), by ID. */
  participants: Record<string, ParticipantView>;
  /** Who has the floor. */
  control: Control;
  latestNote?: HandoffNote;
  turn: Turn;
  /** Messages and streams, in the order they started. */
  messages: MessageView[];
  /** Streams started and not ended, by messageId. */
  openStreams: Record<string, OpenStreamView>;
  /** The state document, with every `state.committed` patch applied. */
  state: StateDocument;
  /** Set if a journaled patch did not apply here (it always applied on the server): the client's document is then stale. */
  stateError?: string;
  toolCalls: Record<string, ToolCallView>;
  /** Signals not answered yet (the 256 most recent, as the server remembers them). */
  pendingSignals: PendingSignalView[];
  /** Tool approvals by approvalId, answered or not. */
  approvals: Record<string, ApprovalView>;
  suggestions: SuggestionView[];
  /** Absent until the first `audience.changed`. */
  audience?: { present: boolean; devices: number };
}

export function initialSessionView(): SessionView {
  return {
    offset: 0,
    participants: {},
    control: { phase: 'agent_in_control' },
    turn: { number: 0, attempt: 1, open: false },
    messages: [],
    openStreams: {},
    state: initialStateDocument(),
    toolCalls: {},
    pendingSignals: [],
    approvals: {},
    suggestions: [],
  };
}

/** Approvals still waiting for their answer. */
export function pendingApprovals(view: SessionView): ApprovalView[] {
  return Object.values(view.approvals)
    .filter((a) => a.status === 'pending')
    .sort((a, b) => a.offset - b.offset);
}

/** The message entry of an open stream. */
export function openStreamMessage(view: SessionView, messageId: string): MessageView | undefined {
  const open = view.openStreams[messageId];
  return open === undefined ? undefined : view.messages.find((m) => m.offset === open.offset);
}
