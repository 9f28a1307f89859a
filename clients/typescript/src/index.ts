/**
 * @durable-sessions/client: a TypeScript client for Durable Sessions (docs/PROTOCOL.md).
 *
 * - connect(): a self-healing connection (resume by offset, exactly-once appends)
 * - SessionStore / reduceSession(): the session view folded from events
 * - Agent / Participant / StreamWriter: writing as an agent or a person
 * - RestClient: every REST endpoint
 * - startWorker(): an agent worker of a pool (assignments, leases, failover); hotStart(): what
 *   a new agent of a session has to answer
 */
export * from './protocol/common.js';
export * from './protocol/events.js';
export * from './protocol/frames.js';
export * from './protocol/errors.js';
export type * from './protocol/worker-frames.js';

export { DurableSessionsError, isDurableSessionsError } from './errors.js';
export type { DurableSessionsErrorInit, ErrorSource } from './errors.js';
export { TokenSource, tokenExpiry } from './auth.js';
export type { TokenOptions, TokenProvider } from './auth.js';

export { connect, SessionConnection } from './connection/connection.js';
export type { ConnectOptions, ConnectionEvents, ConnectionState, DeliveryInfo } from './connection/connection.js';
export { backoffDelay, DEFAULT_BACKOFF } from './connection/backoff.js';
export type { BackoffPolicy } from './connection/backoff.js';
export { MemoryOffsetStore, WebStorageOffsetStore } from './connection/offset-store.js';
export type { OffsetStore, StorageLike } from './connection/offset-store.js';
export { Producer } from './connection/producer.js';
export type { AppendAck, AppendBody, ErrorOutcome } from './connection/producer.js';
export type { WebSocketConstructor, WebSocketLike } from './connection/websocket.js';

export { reduceSession, foldEvents } from './reducer/reduce.js';
export { initialSessionView, pendingApprovals, openStreamMessage } from './reducer/view.js';
export type {
  ApprovalStatus,
  ApprovalView,
  MessageState,
  MessageView,
  OpenStreamView,
  ParticipantView,
  PendingSignalView,
  PresenceView,
  SessionView,
  SuggestionView,
  ToolCallView,
} from './reducer/view.js';
export { SessionStore } from './reducer/store.js';

export { Participant } from './agent/participant.js';
export type { SignalOptions } from './agent/participant.js';
export { Agent } from './agent/agent.js';
export type { AgentOptions, ApprovalDecision, ApprovalRequest, CommitInput } from './agent/agent.js';
export { StreamWriter, splitUtf8 } from './agent/stream-writer.js';
export type { StreamEnd, StreamWriterOptions } from './agent/stream-writer.js';

export { RestClient, errorOf, parseRetryAfter } from './rest/client.js';
export type { AuditFilter, FetchLike, HistoryOptions, RestClientOptions } from './rest/client.js';
export type * from './rest/types.js';

export { startWorker, Worker } from './worker/worker.js';
export type { WorkerEvents, WorkerLogger, WorkerOptions, WorkerState } from './worker/worker.js';
export { Assignment } from './worker/assignment.js';
export type { AssignmentEnd, AssignmentEndReason, JoinOptions } from './worker/assignment.js';
export { AnswerLedger, hotStart, loadHotStart } from './worker/hot-start.js';
export type { HotStart, InterruptedAnswer, OpenAnswer } from './worker/hot-start.js';
