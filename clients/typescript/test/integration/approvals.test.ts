/**
 * Tool approvals end to end: the agent asks, the user approves or denies, the agent is told at
 * once; refusals follow docs/PROTOCOL.md (only the addressee decides, once; a tool result drops
 * the pending approval).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Participant, pendingApprovals, SessionStore } from '../../src/index.js';
import { waitFor } from '../support/wait.js';
import { agentAs, connectAs, newSession, restAs } from './harness.js';

describe('tool approvals against the node', () => {
  const cleanup: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it('tell the agent at once what the user decided, and refuse a second answer', async () => {
    const sessionId = await newSession('approvals');
    const agent = await agentAs('bot', sessionId);
    cleanup.push(() => agent.close());
    let store: SessionStore | undefined;
    const user = new Participant(await connectAs('ada', 'user', sessionId, {}, (c) => (store = new SessionStore(c))));
    cleanup.push(() => user.close());

    await agent.toolCall({ name: 'delete_file', toolCallId: 'call-1' });
    const decision = agent.requestApproval({ toolCallId: 'call-1', approvalId: 'ap-1', input: { path: 'a.ts' }, text: 'may I delete a.ts?' });
    const outcome = await Promise.race([decision.then(() => 'answered'), waitFor(() => pendingApprovals(store!.getView()).length > 0 && 'pending')]).catch(
      (e: unknown) => e,
    );
    expect(outcome).toBe('pending');
    expect(pendingApprovals(store!.getView())[0]).toMatchObject({ approvalId: 'ap-1', toolCallId: 'call-1', name: 'delete_file', input: { path: 'a.ts' } });

    await expect(agent.answerApproval('ap-1', true)).rejects.toMatchObject({ code: 'not_addressee' });
    await user.answerApproval('ap-1', false, 'not that file');
    await expect(decision).resolves.toMatchObject({ approved: false, reason: 'not that file', by: { id: 'ada' } });
    await expect(user.answerApproval('ap-1', true)).rejects.toMatchObject({ code: 'approval_not_found' });
    await waitFor(() => store!.getView().approvals['ap-1']?.status === 'denied', { what: 'the user to see the answer' });
  });

  it('can be answered over REST, and are dropped by the tool result', async () => {
    const sessionId = await newSession('approvals-rest');
    const agent = await agentAs('bot', sessionId);
    cleanup.push(() => agent.close());
    await agent.toolCall({ name: 'deploy', toolCallId: 'call-2' });
    const requested = new Promise<'pending'>((resolve) =>
      agent.connection.on('event', (e) => {
        if (e.type === 'tool.approval.requested' && e.approvalId === 'ap-2') resolve('pending');
      }),
    );
    const first = agent.requestApproval({ toolCallId: 'call-2', approvalId: 'ap-2' });
    const outcome = await Promise.race([requested, first.catch((e: unknown) => e)]);
    expect(outcome).toBe('pending');

    const ada = await restAs('ada', 'user');
    await ada.answerApproval(sessionId, 'ap-2', { approved: true });
    await expect(first).resolves.toMatchObject({ approved: true });

    await agent.toolCall({ name: 'deploy', toolCallId: 'call-3' });
    const dropped = agent.requestApproval({ toolCallId: 'call-3', approvalId: 'ap-3' });
    // Observed now: the tool.result event that drops the approval can arrive before the result's
    // ack, and a rejection nobody has awaited yet is an unhandled one.
    const droppedOutcome = dropped.catch((e: unknown) => e);
    await agent.toolResult({ toolCallId: 'call-3', outcome: 'error', summary: 'gave up' });
    expect(await droppedOutcome).toMatchObject({ code: 'approval_dropped' });
    await expect(ada.answerApproval(sessionId, 'ap-3', { approved: true })).rejects.toMatchObject({ code: 'approval_not_found', status: 404 });
  });
});
