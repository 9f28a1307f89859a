/**
 * WebSocket frames (PROTOCOL §4): what a client sends, and the server's control frames.
 * A server frame whose `type` is not a control type is an event (see events.ts).
 */
import type {
  AgentStatus,
  HandoffNote,
  JsonPatchOperation,
  JsonValue,
  ParticipantRef,
  ProducerStamp,
  Provenance,
  SignalKind,
  SignalOutcome,
  StepError,
  Target,
  ToolOutcome,
} from './common.js';
import type { ServerErrorCode } from './errors.js';
import type { SessionEvent } from './events.js';

/** Fields every client frame may carry. `ref` is echoed in the `ack` or `error` that answers it. */
interface ClientFrameBase<T extends string> {
  type: T;
  ref?: string;
}

/** Appending frames may carry a producer stamp (§6). */
interface AppendingFrameBase<T extends string> extends ClientFrameBase<T> {
  producer?: ProducerStamp;
}

export interface MessageFrame extends AppendingFrameBase<'message'> {
  text: string;
  messageId?: string;
}
export interface StreamStartFrame extends AppendingFrameBase<'stream.start'> {
  messageId: string;
}
export interface StreamDeltaFrame extends AppendingFrameBase<'stream.delta'> {
  messageId: string;
  text: string;
}
export interface StreamEndFrame extends AppendingFrameBase<'stream.end'> {
  messageId: string;
  /** Defaults to `complete`. `agent_lost` is the session's to decide. */
  reason?: 'complete' | 'cancelled' | 'error';
  error?: string;
}
export interface SignalFrame extends AppendingFrameBase<'signal'> {
  kind: SignalKind;
  to: Target;
  text?: string;
  toolCallId?: string;
}
export interface SignalAnswerFrame extends AppendingFrameBase<'signal.answer'> {
  /** The offset of the `signal` event answered. */
  signal: number;
  outcome: SignalOutcome;
  text?: string;
}
export interface StatusFrame extends AppendingFrameBase<'status'> {
  status: AgentStatus;
  detail?: string;
}
export interface SuggestionFrame extends AppendingFrameBase<'suggestion'> {
  text: string;
}
/** A handoff note on its own, without a change of control (agents and operators). */
export interface NoteFrame extends AppendingFrameBase<'note'> {
  note: HandoffNote;
}
export interface CommitFrame extends AppendingFrameBase<'commit'> {
  patch: JsonPatchOperation[];
  tool?: string;
  toolCallId?: string;
  inputHash?: string;
  outputSummary?: string;
  provenance?: Provenance;
  error?: StepError;
  evictedKeys?: string[];
}
export interface ToolCallFrame extends AppendingFrameBase<'tool.call'> {
  toolCallId: string;
  name: string;
  inputHash?: string;
}
export interface ToolResultFrame extends AppendingFrameBase<'tool.result'> {
  toolCallId: string;
  outcome: ToolOutcome;
  summary?: string;
  error?: StepError;
}
export interface TurnRetryFrame extends AppendingFrameBase<'turn.retry'> {
  reason?: string;
}
/** Ask the addressee to approve a tool call (issue 12 approvals wire format). */
export interface ToolApprovalRequestFrame extends AppendingFrameBase<'tool.approval.request'> {
  toolCallId: string;
  approvalId: string;
  to: Target;
  input?: JsonValue;
  text?: string;
}
/** The addressee's decision. The first answer wins. */
export interface ToolApprovalAnswerFrame extends AppendingFrameBase<'tool.approval.answer'> {
  approvalId: string;
  approved: boolean;
  reason?: string;
}

export interface HeartbeatFrame extends ClientFrameBase<'heartbeat'> {
  /** When present, a delivery receipt like an `ack` frame. */
  offset?: number;
}
/** A delivery receipt: this device has processed every event up to `offset`. */
export interface ClientAckFrame extends ClientFrameBase<'ack'> {
  offset: number;
}
export interface AuthFrame extends ClientFrameBase<'auth'> {
  token: string;
}
export interface LeaveFrame extends ClientFrameBase<'leave'> {}

/** Frames that append to the session: these are stamped and answered with `ack` or `error`. */
export type AppendingFrame =
  | MessageFrame
  | StreamStartFrame
  | StreamDeltaFrame
  | StreamEndFrame
  | SignalFrame
  | SignalAnswerFrame
  | StatusFrame
  | SuggestionFrame
  | NoteFrame
  | CommitFrame
  | ToolCallFrame
  | ToolResultFrame
  | TurnRetryFrame
  | ToolApprovalRequestFrame
  | ToolApprovalAnswerFrame;

export type ClientFrame = AppendingFrame | HeartbeatFrame | ClientAckFrame | AuthFrame | LeaveFrame;
export type ClientFrameType = ClientFrame['type'];

/** Sent once per connection when the session has accepted the subscription. */
export interface AttachedFrame {
  type: 'attached';
  sessionId: string;
  participant: ParticipantRef;
  device: string;
  /** The session's head when the subscription was accepted: events up to it are the backlog. */
  head: number;
  /** The offset the client connected with. */
  after: number;
  /**
   * The last offset from `after + 1` to `head` this participant will receive (`after` if none):
   * the backlog is done once it has arrived. Absent from servers older than the field.
   */
  visibleHead?: number;
  /** Absent when the server's heartbeat check is off. */
  heartbeatTimeoutMs?: number;
}

/** Answers an accepted appending frame, `leave` or `auth`. */
export interface ServerAckFrame {
  type: 'ack';
  ref?: string;
  /** The offset of the event the frame became; absent only for a duplicate older than the producer window, and for `auth`. */
  offset?: number;
  /** The producer `seq` answered, when the frame was stamped. */
  seq?: number;
  duplicate?: boolean;
  /** Only for `auth`: the new token's `exp`. */
  expiresAt?: string;
}

export interface ErrorFrame {
  type: 'error';
  ref?: string;
  code: ServerErrorCode;
  message: string;
  /** Only with `rate_limited`. */
  retryAfterMs?: number;
}

export type ClosingCode = 4004 | 4008 | 4009 | 4010 | 4011 | 4410;
export type ClosingReason =
  | 'subscription_refused'
  | 'consumer_too_slow'
  | 'server_shutdown'
  | 'heartbeat_timeout'
  | 'token_expired'
  | 'session_erased';

/** The last frame before the server closes the socket on its own initiative. */
export interface ClosingFrame {
  type: 'closing';
  code: ClosingCode;
  reason: ClosingReason;
  /** true: reconnecting with the last processed offset works. */
  resumable: boolean;
  message: string;
}

/**
 * Several events in one frame, in offset order, exactly as if each had come in its own frame:
 * sent to a socket opened with `batch=true` whenever two or more events are ready at once (a
 * catch-up page, the session's tail, a write of several events). The connection unpacks it:
 * its `frame` and `event` listeners see each event on its own.
 */
export interface EventsFrame {
  type: 'events';
  events: SessionEvent[];
}

export type ServerControlFrame = AttachedFrame | ServerAckFrame | ErrorFrame | ClosingFrame;
export type ServerFrame = ServerControlFrame | SessionEvent;

const CONTROL_TYPES: ReadonlySet<string> = new Set(['attached', 'ack', 'error', 'closing']);

/** A server frame is an event exactly when its type is not one of the four control types. */
export function isControlFrame(frame: ServerFrame): frame is ServerControlFrame {
  return CONTROL_TYPES.has(frame.type);
}

export function isEventFrame(frame: ServerFrame): frame is SessionEvent {
  return !CONTROL_TYPES.has(frame.type);
}
