/**
 * Shapes shared by frames, events and REST bodies. Names mirror docs/PROTOCOL.md.
 */

/** Any JSON value. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** A token's role (§1 Participants and roles); `system` is the session itself and never in a token. */
export type Role = 'agent' | 'user' | 'human' | 'support' | 'admin' | 'observer' | 'system';

/** Roles that are operators: they see suggestions, read every receipt, may report any tool result. */
export const OPERATOR_ROLES: readonly Role[] = ['human', 'support', 'admin'];

/** A participant on the wire: `{"id", "role", "subject"}`. */
export interface ParticipantRef {
  id: string;
  role: Role;
  subject: string;
}

/** The addressee of a signal or an approval request: exactly one of a role or a participant. */
export type Target = { role: Role; participant?: never } | { participant: string; role?: never };

/** The idempotency stamp of an append (§6). */
export interface ProducerStamp {
  id: string;
  epoch: number;
  seq: number;
}

export type SignalKind = 'interrupt' | 'steer' | 'cancel' | 'typing' | 'custom';
export type SignalOutcome = 'consumed' | 'ignored';
/** `agent_lost` is decided by the session; a client may send only the other three. */
export type StreamEndReason = 'complete' | 'cancelled' | 'error' | 'agent_lost';
export type AgentStatus = 'idle' | 'thinking' | 'streaming' | 'tool_call' | 'waiting_for_input';
export type Provenance = 'verified' | 'unverified';
export type ToolOutcome = 'ok' | 'error' | 'timeout';
export type PresenceStatus = 'offline' | 'online' | 'disconnected' | 'lost';
export type DisconnectReason =
  | 'socket_closed'
  | 'connection_lost'
  | 'heartbeat_timeout'
  | 'token_expired'
  | 'not_reattached'
  | 'consumer_too_slow'
  | 'server_shutdown';

/** What went wrong in a step (commit, tool result). */
export interface StepError {
  code: string;
  message: string;
}

/** A handoff note (§3 Handoff note). Every field is optional. */
export interface HandoffNote {
  inProgress?: string[];
  decided?: { what: string; why: string }[];
  next?: string[];
  canWait?: string[];
  waitingOn?: string[];
}

/** Whom a transfer invites. */
export type Invitee = { participant: string; queue?: never } | { queue: string; participant?: never };

/** Who has the floor (§9). Fields that are null on the server are absent. */
export type Control =
  | { phase: 'agent_in_control'; agent?: string }
  | { phase: 'transfer_pending'; agent?: string; invited: Invitee; note: HandoffNote; since: string }
  | { phase: 'human_in_control'; human: string; previousAgent?: string }
  | { phase: 'queued'; queue: string; note: HandoffNote; since: string; previousAgent?: string }
  | { phase: 'closed'; reason?: string };

export type ControlPhase = Control['phase'];

/** The session's current turn (§1 Session state). */
export interface Turn {
  number: number;
  attempt: number;
  open: boolean;
}

/** One RFC 6902 operation. */
export type JsonPatchOperation =
  | { op: 'add'; path: string; value: JsonValue }
  | { op: 'remove'; path: string }
  | { op: 'replace'; path: string; value: JsonValue }
  | { op: 'move'; path: string; from: string }
  | { op: 'copy'; path: string; from: string }
  | { op: 'test'; path: string; value: JsonValue };

/** The state document: a JSON object with four sections the server keeps typed. */
export interface StateDocument {
  tools_used: JsonValue[];
  files_modified: JsonValue[];
  decisions_made: ({ what: string; why: string } & JsonObject)[];
  pending_actions: ({ id: string; done: boolean } & JsonObject)[];
  [member: string]: JsonValue;
}

export function initialStateDocument(): StateDocument {
  return { tools_used: [], files_modified: [], decisions_made: [], pending_actions: [] };
}

/** Does `to` address this participant (its role, or its ID)? */
export function addresses(to: Target, me: Pick<ParticipantRef, 'id' | 'role'>): boolean {
  return to.role !== undefined ? to.role === me.role : to.participant === me.id;
}
