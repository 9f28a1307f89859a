/**
 * What any participant can do on its connection: post, signal, answer signals and tool
 * approvals addressed to it, leave. Every append is exactly-once (see Producer).
 */
import type { SessionConnection } from '../connection/connection.js';
import type { AppendAck } from '../connection/producer.js';
import type { HandoffNote, SignalKind, SignalOutcome, Target } from '../protocol/common.js';
import type { ServerAckFrame } from '../protocol/frames.js';
import type { ControlResult, TransferRequest } from '../rest/types.js';

export interface SignalOptions {
  text?: string;
  toolCallId?: string;
}

export class Participant {
  constructor(readonly connection: SessionConnection) {}

  get sessionId(): string {
    return this.connection.sessionId;
  }

  /** Post a complete message. An `agent` or `human` needs the floor. */
  sendMessage(text: string, options: { messageId?: string } = {}): Promise<AppendAck> {
    return this.connection.append({ type: 'message', text, ...(options.messageId === undefined ? {} : { messageId: options.messageId }) });
  }

  /**
   * Write a handoff note on its own, without a change of control (agents and operators): it
   * becomes the session's latest note, what whoever takes over next reads first.
   */
  writeNote(note: HandoffNote): Promise<AppendAck> {
    return this.connection.append({ type: 'note', note });
  }

  /** Send a signal to a role or a participant. */
  signal(kind: SignalKind, to: Target, options: SignalOptions = {}): Promise<AppendAck> {
    return this.connection.append({ type: 'signal', kind, to, ...options });
  }

  /** Ask the agents (or one participant) to stop now. */
  interrupt(to: Target = { role: 'agent' }, text?: string): Promise<AppendAck> {
    return this.signal('interrupt', to, text === undefined ? {} : { text });
  }

  /** Give the agents a new instruction to take into account while they go on. */
  steer(text: string, to: Target = { role: 'agent' }): Promise<AppendAck> {
    return this.signal('steer', to, { text });
  }

  /** Cancel a run, or one tool call. */
  cancel(to: Target = { role: 'agent' }, toolCallId?: string): Promise<AppendAck> {
    return this.signal('cancel', to, toolCallId === undefined ? {} : { toolCallId });
  }

  typing(to: Target = { role: 'agent' }): Promise<AppendAck> {
    return this.signal('typing', to);
  }

  /** Say what was done with a signal addressed to this participant (the first answer wins). */
  answerSignal(signalOffset: number, outcome: SignalOutcome, text?: string): Promise<AppendAck> {
    return this.connection.append({ type: 'signal.answer', signal: signalOffset, outcome, ...(text === undefined ? {} : { text }) });
  }

  /** Approve or deny a tool call addressed to this participant (the first answer wins). */
  answerApproval(approvalId: string, approved: boolean, reason?: string): Promise<AppendAck> {
    return this.connection.append({ type: 'tool.approval.answer', approvalId, approved, ...(reason === undefined ? {} : { reason }) });
  }

  /** Request a transfer (support, admin, or an agent that has the floor), with a handoff note. */
  requestTransfer(request: TransferRequest): Promise<ControlResult> {
    return this.connection.rest.requestTransfer(this.sessionId, request);
  }

  /** Leave the session; the connection then closes for good. */
  leave(): Promise<ServerAckFrame> {
    return this.connection.leave();
  }

  /** Wait until every append so far is answered. */
  flush(): Promise<void> {
    return this.connection.flush();
  }

  close(): void {
    this.connection.close();
  }
}
