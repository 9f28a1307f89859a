/**
 * Request and response bodies of the REST endpoints (PROTOCOL §3).
 */
import type {
  AgentStatus,
  Control,
  HandoffNote,
  JsonPatchOperation,
  JsonValue,
  ParticipantRef,
  PresenceStatus,
  ProducerStamp,
  Target,
  Turn,
} from '../protocol/common.js';
import type { SessionEvent, StateCommitted } from '../protocol/events.js';

export interface CreatedSession {
  sessionId: string;
  head: number;
  /** The agent pool the session belongs to. */
  pool: string;
}

export interface Presence {
  status: PresenceStatus;
  devices: string[];
  since: string;
  /** Only while `disconnected`. */
  graceUntil?: string;
}

export interface AttachedDevice {
  device: string;
  since: string;
  lastActivity: string;
  delivered: number;
  /** Absent until the socket confirms an offset. */
  acked?: number;
}

export interface SummaryParticipant {
  participant: ParticipantRef;
  presence: Presence;
  devices: AttachedDevice[];
  status?: AgentStatus;
}

/** A pending (unanswered) tool approval, as listed in the summary and the resume package. */
export interface PendingApproval {
  approvalId: string;
  toolCallId: string;
  name: string;
  to: Target;
  input?: JsonValue;
  text?: string;
  offset: number;
}

export interface SessionSummary {
  sessionId: string;
  head: number;
  createdAt: string;
  createdBy: ParticipantRef;
  participants: SummaryParticipant[];
  openStreams: string[];
  stalled: Record<string, string>;
  control: Control;
  latestNote?: HandoffNote;
  subscribers: number;
  /** With the tool approval server change (issue 12). */
  pendingApprovals?: PendingApproval[];
  /** The agent pool named at creation; absent for sessions created before pools (the default pool). */
  pool?: string;
}

export interface HistoryPage {
  sessionId: string;
  head: number;
  events: SessionEvent[];
  /** Pass as `after` for the next page: it moves past events the caller may not see. */
  next: number;
  hasMore: boolean;
}

export interface PostMessageBody {
  text: string;
  messageId?: string;
  producer?: ProducerStamp;
}

export interface PostMessageResult {
  /** Absent only for a duplicate older than the producer window. */
  offset?: number;
  seq?: number;
  duplicate: boolean;
}

/** Every control endpoint answers the offset of the last event it wrote. */
export interface ControlResult {
  offset: number;
}

export interface TransferRequest {
  mode: 'warm' | 'cold';
  to: { participant: string } | { queue: string };
  note?: HandoffNote;
}

export interface HandbackRequest {
  agent?: string;
  note?: HandoffNote;
}

export interface QueueEntry {
  sessionId: string;
  queue: string;
  since: string;
  note: HandoffNote;
}

/** `GET /v1/pools`: pools, their workers and the sessions waiting for an agent. */
export interface PoolsListing {
  pools: PoolListing[];
}
export interface PoolListing {
  name: string;
  mode: 'workers' | 'webhook';
  leaseTimeoutMs: number;
  heartbeatIntervalMs: number;
  /** The workers connected now. */
  workers: { worker: string; capacity: number; holding: number; lastSeen: string; /** false while its leases wait out the lease timeout. */ connected?: boolean }[];
  /** Sessions waiting for an agent, oldest first. */
  waiting: { sessionId: string; since: string; reason: string }[];
}

export interface QueuesListing {
  queues: Record<string, QueueEntry[]>;
}

export interface QueueListing {
  queue: string;
  waiting: QueueEntry[];
}

export interface QueueClaimResult {
  sessionId: string;
  queue: string;
  offset: number;
  note: HandoffNote;
}

export type StateDocumentJson = { [key: string]: JsonValue };

export interface StateNow {
  sessionId: string;
  head: number;
  turn: Turn;
  document: StateDocumentJson;
}
export interface StateAtOffset {
  sessionId: string;
  head: number;
  at: number;
  document: StateDocumentJson;
}
export interface StateAtTurn {
  sessionId: string;
  head: number;
  atTurn: number;
  document: StateDocumentJson;
}

export interface TurnDiff {
  from: number;
  to: number;
  patch: JsonPatchOperation[];
  commits: StateCommitted[];
}
export interface AttemptDiff {
  turn: number;
  attempt: number;
  vs: number;
  patch: JsonPatchOperation[];
  commits: StateCommitted[];
}

export interface CommitLog {
  turn: number;
  commits: StateCommitted[];
  touched: string[];
}

export interface ResumePackage {
  sessionId: string;
  head: number;
  since: number;
  truncated: boolean;
  note?: HandoffNote;
  control: Control;
  turn: Turn;
  state: StateDocumentJson;
  openRuns: {
    streams: { messageId: string; by: string; stalled: boolean }[];
    toolCalls: { toolCallId: string; name: string; turn: number }[];
    agentStatus: Record<string, AgentStatus>;
  };
  addressed: SessionEvent[];
  /** With the tool approval server change (issue 12). */
  pendingApprovals?: PendingApproval[];
}

export interface Receipt {
  participant: ParticipantRef;
  device: string;
  delivered: number;
  at: string;
}
export interface ReceiptList {
  sessionId: string;
  receipts: Receipt[];
}
export type ReceiptCheck =
  | { participant: string; offset: number; reached: true; device: string; confirmedUpTo: number; at: string }
  | { participant: string; offset: number; reached: false };

export interface ErasureRecord {
  sessionId: string;
  erasedBy: string;
  role: string;
  reason: 'admin' | 'retention';
  erasedAt: string;
  head: number;
  events: number;
  snapshots: number;
}
export interface ErasureResult extends ErasureRecord {
  alreadyErased: boolean;
}
