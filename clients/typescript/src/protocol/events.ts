/**
 * Session events (PROTOCOL §5), as they appear on sockets, in history pages, in the state
 * endpoints and in the audit export. Each type is discriminated by `type`.
 */
import type {
  AgentStatus,
  DisconnectReason,
  HandoffNote,
  Invitee,
  JsonPatchOperation,
  JsonValue,
  ParticipantRef,
  Provenance,
  SignalKind,
  SignalOutcome,
  StepError,
  StreamEndReason,
  Target,
  ToolOutcome,
} from './common.js';

/** Fields every event has. */
export interface EventBase<T extends string> {
  type: T;
  /** The journal sequence number, from 1, without gaps in the session (a reader may not see all). */
  offset: number;
  by: ParticipantRef;
  /** When the session accepted it: an ISO-8601 UTC instant. */
  at: string;
}

export interface SessionCreated extends EventBase<'session.created'> {
  sessionId: string;
  /** The agent pool; absent in sessions created before pools (they belong to the default pool). */
  pool?: string;
}
export interface ParticipantJoined extends EventBase<'participant.joined'> {
  participant: ParticipantRef;
}
export interface ParticipantLeft extends EventBase<'participant.left'> {
  participant: ParticipantRef;
}
export interface ParticipantConnected extends EventBase<'participant.connected'> {
  participant: ParticipantRef;
  device: string;
}
export interface ParticipantDisconnected extends EventBase<'participant.disconnected'> {
  participant: ParticipantRef;
  device: string;
  reason: DisconnectReason;
  /** Present only when it was the participant's last connected device. */
  graceUntil?: string;
}
export interface ParticipantLost extends EventBase<'participant.lost'> {
  participant: ParticipantRef;
  reason: 'grace_expired';
}
export interface MessageEvent extends EventBase<'message'> {
  messageId: string;
  text: string;
}
export interface StreamStarted extends EventBase<'stream.started'> {
  messageId: string;
}
export interface StreamDeltaEvent extends EventBase<'stream.delta'> {
  messageId: string;
  text: string;
  /** How many appended deltas were merged into this event (§7). */
  parts: number;
}
export interface StreamEnded extends EventBase<'stream.ended'> {
  messageId: string;
  reason: StreamEndReason;
  error?: string;
}
export interface SignalEvent extends EventBase<'signal'> {
  kind: SignalKind;
  to: Target;
  text?: string;
  toolCallId?: string;
}
export interface SignalAnswered extends EventBase<'signal.answered'> {
  /** The offset of the `signal` event answered. */
  signal: number;
  outcome: SignalOutcome;
  text?: string;
}
export interface AgentStatusChanged extends EventBase<'agent.status'> {
  status: AgentStatus;
  detail?: string;
}
export interface AgentStalled extends EventBase<'agent.stalled'> {
  agent: string;
  messageId: string;
  silentMillis: number;
}
/** A handoff note written on its own (a `note` frame): the session's latest note now. */
export interface HandoffNotedEvent extends EventBase<'handoff.noted'> {
  note: HandoffNote;
}
export interface SuggestionEvent extends EventBase<'suggestion'> {
  text: string;
}
export interface TransferRequested extends EventBase<'transfer.requested'> {
  invited: Invitee;
  note: HandoffNote;
}
export interface TransferAccepted extends EventBase<'transfer.accepted'> {
  human: string;
}
export interface TransferCancelled extends EventBase<'transfer.cancelled'> {
  reason?: string;
}
export interface SessionQueued extends EventBase<'session.queued'> {
  queue: string;
  note: HandoffNote;
}
export interface SessionClaimed extends EventBase<'session.claimed'> {
  queue: string;
}
export interface ControlHandedBack extends EventBase<'control.handed_back'> {
  agent?: string;
  note?: HandoffNote;
}
export interface SessionClosed extends EventBase<'session.closed'> {
  reason?: string;
}
export interface StateCommitted extends EventBase<'state.committed'> {
  turn: number;
  attempt: number;
  tool?: string;
  toolCallId?: string;
  inputHash?: string;
  outputSummary?: string;
  provenance: Provenance;
  error?: StepError;
  patch: JsonPatchOperation[];
  evictedKeys: string[];
}
export interface ToolCalled extends EventBase<'tool.called'> {
  toolCallId: string;
  name: string;
  inputHash?: string;
  turn: number;
}
export interface ToolResultEvent extends EventBase<'tool.result'> {
  toolCallId: string;
  outcome: ToolOutcome;
  summary?: string;
  error?: StepError;
}
export interface TurnRetried extends EventBase<'turn.retried'> {
  turn: number;
  attempt: number;
  reason?: string;
}
/** Sent to no device; read through the receipts endpoint or the audit export. */
export interface ReceiptEvent extends EventBase<'receipt'> {
  participant: ParticipantRef;
  device: string;
  delivered: number;
  deliveredAt: string;
}
export interface AudienceChanged extends EventBase<'audience.changed'> {
  present: boolean;
  devices: number;
}
/** Tool approvals (issue 12, item 5). */
export interface ToolApprovalRequested extends EventBase<'tool.approval.requested'> {
  approvalId: string;
  toolCallId: string;
  /** The tool's name, from its `tool.called`. */
  name: string;
  to: Target;
  input?: JsonValue;
  text?: string;
}
export interface ToolApprovalAnswered extends EventBase<'tool.approval.answered'> {
  approvalId: string;
  toolCallId: string;
  approved: boolean;
  reason?: string;
}

/** Dispatch (§4 leases and fencing): worker `agent` holds lease `epoch` of the session's pool. */
export interface AgentAssigned extends EventBase<'agent.assigned'> {
  agent: string;
  epoch: number;
  /** `needs_agent` or `failover`. */
  reason: string;
}
/** The worker holding lease `epoch` let go of the session. */
export interface AgentReleased extends EventBase<'agent.released'> {
  agent: string;
  epoch: number;
  reason?: string;
}
/** Lease `epoch` of `agent` ended without a release (`lease_expired`); its open answers ended as `agent_lost`. */
export interface AgentFailover extends EventBase<'agent.failover'> {
  agent: string;
  epoch: number;
  reason: string;
}

/**
 * A webhook pool's call for this session's need failed for good: `attempts` made (0 if none
 * could be), `lastStatus` of the last answer (absent when there was none), `error` what went
 * wrong. The session still waits for its agent.
 */
export interface AgentWebhookFailed extends EventBase<'agent.webhook_failed'> {
  pool: string;
  attempts: number;
  lastStatus?: number;
  error: string;
  idempotencyKey: string;
}

export type SessionEvent =
  | SessionCreated
  | ParticipantJoined
  | ParticipantLeft
  | ParticipantConnected
  | ParticipantDisconnected
  | ParticipantLost
  | MessageEvent
  | StreamStarted
  | StreamDeltaEvent
  | StreamEnded
  | SignalEvent
  | SignalAnswered
  | AgentStatusChanged
  | AgentStalled
  | SuggestionEvent
  | HandoffNotedEvent
  | TransferRequested
  | TransferAccepted
  | TransferCancelled
  | SessionQueued
  | SessionClaimed
  | ControlHandedBack
  | SessionClosed
  | StateCommitted
  | ToolCalled
  | ToolResultEvent
  | TurnRetried
  | ReceiptEvent
  | AudienceChanged
  | ToolApprovalRequested
  | ToolApprovalAnswered
  | AgentAssigned
  | AgentReleased
  | AgentFailover
  | AgentWebhookFailed;

export type SessionEventType = SessionEvent['type'];

/** Pick the event type with the given name. */
export type EventOfType<T extends SessionEventType> = Extract<SessionEvent, { type: T }>;

/** Every event type name, in the order of §5. */
export const SESSION_EVENT_TYPES: readonly SessionEventType[] = [
  'session.created',
  'participant.joined',
  'participant.left',
  'participant.connected',
  'participant.disconnected',
  'participant.lost',
  'message',
  'stream.started',
  'stream.delta',
  'stream.ended',
  'signal',
  'signal.answered',
  'agent.status',
  'agent.stalled',
  'suggestion',
  'handoff.noted',
  'transfer.requested',
  'transfer.accepted',
  'transfer.cancelled',
  'session.queued',
  'session.claimed',
  'control.handed_back',
  'session.closed',
  'state.committed',
  'tool.called',
  'tool.result',
  'turn.retried',
  'receipt',
  'audience.changed',
  'tool.approval.requested',
  'tool.approval.answered',
  'agent.assigned',
  'agent.released',
  'agent.failover',
  'agent.webhook_failed',
];
