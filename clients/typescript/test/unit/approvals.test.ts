/**
 * Tool approvals on the agent side (the wire format agreed for issue 12): the agent awaits the
 * answer as a Promise; a tool.result drops the approval; the user answers with a frame. These
 * run against the in-memory server; test/integration/approvals.test.ts runs them against a node.
 */
import { describe, expect, it } from 'vitest';
import { Agent, connect, Participant, pendingApprovals, SessionStore, type ParticipantRef } from '../../src/index.js';
import { FakeSessionServer } from '../support/fake-server.js';
import { waitFor } from '../support/wait.js';

const bot: ParticipantRef = { id: 'bot', role: 'agent', subject: 'bot' };
const ada: ParticipantRef = { id: 'ada', role: 'user', subject: 'ada' };

/** A tiny session: acks every append and writes the event it stands for. */
function fakeSession(reader: ParticipantRef) {
  const server = new FakeSessionServer([], reader, () => true, { initiallyReleased: 0, plans: [] });
  const names = new Map<string, string>();
  server.onClientFrame = (f) => {
    if (f['type'] === 'heartbeat' || f['type'] === 'ack') return;
    const { type, ref, producer, ...body } = f as { type: string; ref: string; producer: { seq: number } } & Record<string, unknown>;
    let event: Record<string, unknown> | undefined;
    if (type === 'tool.call') {
      names.set(String(body['toolCallId']), String(body['name']));
      event = { type: 'tool.called', ...body, turn: 0 };
    } else if (type === 'tool.result') event = { type: 'tool.result', ...body };
    else if (type === 'tool.approval.request') event = { type: 'tool.approval.requested', ...body, name: names.get(String(body['toolCallId'])) };
    else if (type === 'tool.approval.answer') event = { type: 'tool.approval.answered', ...body, toolCallId: 'call-1' };
    const written = event === undefined ? undefined : server.write(event, reader);
    server.reply({ type: 'ack', ref, seq: producer.seq, duplicate: false, ...(written ? { offset: written.offset } : {}) });
  };
  const connection = connect({
    url: 'http://fake.invalid',
    sessionId: 's',
    token: 't',
    WebSocket: server.WebSocket(),
    fetch: server.fetch,
    backoff: { initialDelayMs: 0, maxDelayMs: 0 },
  });
  return { server, connection };
}

describe('tool approvals', () => {
  it('resolve the agent’s promise with the answer', async () => {
    const { server, connection } = fakeSession(bot);
    const agent = new Agent(connection);
    await connection.whenLive();
    const store = new SessionStore(connection);
    await agent.toolCall({ name: 'delete_file', toolCallId: 'call-1' });
    const decision = agent.requestApproval({ toolCallId: 'call-1', approvalId: 'ap-1', input: { path: 'a.ts' }, text: 'may I?' });
    await waitFor(() => pendingApprovals(store.getView()).length === 1, { what: 'the request' });
    expect(server.clientFrames).toContainEqual(
      expect.objectContaining({ type: 'tool.approval.request', approvalId: 'ap-1', toolCallId: 'call-1', to: { role: 'user' }, input: { path: 'a.ts' } }),
    );
    expect(pendingApprovals(store.getView())[0]).toMatchObject({ approvalId: 'ap-1', name: 'delete_file', input: { path: 'a.ts' } });

    // the user's answer, as the server writes it
    server.write({ type: 'tool.approval.answered', approvalId: 'ap-1', toolCallId: 'call-1', approved: false, reason: 'not that file' }, ada);
    await expect(decision).resolves.toMatchObject({ approvalId: 'ap-1', approved: false, reason: 'not that file', by: ada });
    expect(store.getView().approvals['ap-1']).toMatchObject({ status: 'denied', answer: { approved: false, reason: 'not that file' } });
    connection.close();
  });

  it('reject with approval_dropped when the tool call ends first', async () => {
    const { connection } = fakeSession(bot);
    const agent = new Agent(connection);
    await connection.whenLive();
    await agent.toolCall({ name: 'deploy', toolCallId: 'call-1' });
    const decision = agent.requestApproval({ toolCallId: 'call-1', approvalId: 'ap-2' });
    await agent.toolResult({ toolCallId: 'call-1', outcome: 'timeout' });
    await expect(decision).rejects.toMatchObject({ code: 'approval_dropped' });
    connection.close();
  });

  it('stop waiting when aborted', async () => {
    const { connection } = fakeSession(bot);
    const agent = new Agent(connection);
    await connection.whenLive();
    const controller = new AbortController();
    const decision = agent.requestApproval({ toolCallId: 'call-9', signal: controller.signal });
    controller.abort(new Error('user went away'));
    await expect(decision).rejects.toThrow('user went away');
    connection.close();
  });

  it('are answered by the addressee with a tool.approval.answer frame', async () => {
    const { server, connection } = fakeSession(ada);
    const user = new Participant(connection);
    await connection.whenLive();
    const ack = await user.answerApproval('ap-1', true, 'go ahead');
    expect(ack.duplicate).toBe(false);
    expect(server.clientFrames).toContainEqual(
      expect.objectContaining({ type: 'tool.approval.answer', approvalId: 'ap-1', approved: true, reason: 'go ahead', producer: expect.any(Object) }),
    );
    connection.close();
  });
});
