/**
 * The REST client against a real node: every endpoint of PROTOCOL §3, and typed errors that
 * carry the server's code and status.
 */
import { describe, expect, it } from 'vitest';
import { Agent, DurableSessionsError, RestClient, type SessionEvent } from '../../src/index.js';
import { token } from '../support/tokens.js';
import { waitFor } from '../support/wait.js';
import { connectAs, nodeUrl, restAs, uniqueId } from './harness.js';

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function refusal(promise: Promise<unknown>): Promise<DurableSessionsError> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof DurableSessionsError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('RestClient', () => {
  it('creates a session in a pool, recorded in its summary and created event, and refuses an unknown pool', async () => {
    const ada = await restAs('ada', 'user');
    const id = uniqueId('pool');
    expect(await ada.createSession(id, { pool: 'default' })).toEqual({ sessionId: id, head: 2, pool: 'default' });
    expect((await ada.getSession(id)).pool).toBe('default');
    const [created] = await collect(ada.events(id));
    expect(created).toMatchObject({ type: 'session.created', pool: 'default' });
    const other = uniqueId('pool');
    expect(await refusal(ada.createSession(other, { pool: 'nobody-runs-this' }))).toMatchObject({ code: 'unknown_pool', status: 400 });
    expect(await refusal(ada.getSession(other))).toMatchObject({ code: 'session_not_found' });
  });

  it('creates, reads and pages a session, and refuses with typed errors', async () => {
    const ada = await restAs('ada', 'user');
    const id = uniqueId('rest');
    expect(await ada.createSession(id)).toEqual({ sessionId: id, head: 2, pool: 'default' });
    expect(await refusal(ada.createSession(id))).toMatchObject({ code: 'session_exists', status: 409, source: 'rest' });
    expect(await refusal(ada.getSession(`${id}-none`))).toMatchObject({ code: 'session_not_found', status: 404 });
    const narrow = new RestClient({ url: nodeUrl(), token: await token({ sub: 'eve', role: 'user', sessions: ['other-*'] }) });
    expect(await refusal(narrow.getSession(id))).toMatchObject({ code: 'forbidden', status: 403 });
    const forged = new RestClient({ url: nodeUrl(), token: 'not.a.token' });
    expect(await refusal(forged.getSession(id))).toMatchObject({ code: 'unauthorized', status: 401 });
    expect(await refusal(ada.listSessions())).toMatchObject({ code: 'forbidden' });
    expect(await (await restAs('sam', 'support')).listSessions(1000)).toContain(id);

    // messages with a producer stamp are exactly-once
    const first = await ada.postMessage(id, { text: 'hello', messageId: 'q-1', producer: { id: 'web', epoch: 1, seq: 0 } });
    expect(first).toEqual({ offset: 3, seq: 0, duplicate: false });
    expect(await ada.postMessage(id, { text: 'hello', producer: { id: 'web', epoch: 1, seq: 0 } })).toEqual({ offset: 3, seq: 0, duplicate: true });
    expect(await refusal(ada.postMessage(id, { text: 'x', producer: { id: 'web', epoch: 0, seq: 1 } }))).toMatchObject({ code: 'stale_epoch', status: 409 });
    for (let i = 1; i <= 24; i++) await ada.postMessage(id, { text: `m${i}`, producer: { id: 'web', epoch: 1, seq: i } });

    // history as an async iterator, page by page
    const summary = await ada.getSession(id);
    expect(summary.head).toBe(27);
    const events = await collect(ada.events(id, { limit: 7 }));
    expect(events.map((e) => e.offset)).toEqual(Array.from({ length: 27 }, (_, i) => i + 1));
    expect(events.filter((e) => e.type === 'message').map((e) => (e as { text: string }).text)).toEqual([
      'hello',
      ...Array.from({ length: 24 }, (_, i) => `m${i + 1}`),
    ]);
    expect((await collect(ada.events(id, { after: 20 }))).map((e) => e.offset)).toEqual([21, 22, 23, 24, 25, 26, 27]);
    const page = await ada.history(id, { after: 25, limit: 1 });
    expect(page).toMatchObject({ head: 27, next: 26, hasMore: true });
    expect(await refusal(ada.history(id, { after: 99 }))).toMatchObject({ code: 'offset_beyond_head', status: 400 });
  });

  it('makes the control requests of §9: warm transfer with a note, accept, handback, close; queues', async () => {
    const ada = await restAs('ada', 'user');
    const sam = await restAs('sam', 'support');
    const alice = await restAs('alice', 'human');
    const id = (await ada.createSession(uniqueId('control'))).sessionId;
    const note = { next: ['confirm the address'], decided: [{ what: 'refund', why: 'damaged' }] };

    await sam.requestTransfer(id, { mode: 'warm', to: { participant: 'alice' }, note });
    expect((await ada.getSession(id)).control).toMatchObject({ phase: 'transfer_pending', invited: { participant: 'alice' }, note });
    expect(await refusal(ada.acceptTransfer(id))).toMatchObject({ code: 'forbidden' });
    const accepted = await alice.acceptTransfer(id);
    expect(accepted.offset).toBeGreaterThan(2);
    expect((await ada.getSession(id)).control).toEqual({ phase: 'human_in_control', human: 'alice' });
    await alice.handback(id, { note: { next: ['ship it'] } });
    const back = await ada.getSession(id);
    expect(back.control).toEqual({ phase: 'agent_in_control' });
    expect(back.latestNote).toEqual({ next: ['ship it'] });
    expect(await refusal(alice.handback(id))).toMatchObject({ code: 'not_in_control', status: 409 });
    await sam.closeSession(id, 'resolved');
    expect((await ada.getSession(id)).control).toEqual({ phase: 'closed', reason: 'resolved' });
    expect(await refusal(ada.postMessage(id, { text: 'late' }))).toMatchObject({ code: 'session_closed', status: 409 });

    // a cold transfer queues the session; a human claims it from the queue
    const queue = uniqueId('billing');
    const queued = (await ada.createSession(uniqueId('queued'))).sessionId;
    await sam.requestTransfer(queued, { mode: 'cold', to: { queue }, note: { waitingOn: ['warehouse'] } });
    await waitFor(async () => (await alice.getQueue(queue)).waiting.length === 1, { what: 'the queue directory' });
    expect((await alice.listQueues()).queues[queue]?.map((e) => e.sessionId)).toEqual([queued]);
    expect(await refusal(ada.listQueues())).toMatchObject({ code: 'forbidden', status: 403 });
    const claimed = await alice.claimFromQueue(queue);
    expect(claimed).toMatchObject({ sessionId: queued, queue, note: { waitingOn: ['warehouse'] } });
    expect(await refusal(sam.claim(queued))).toMatchObject({ code: 'already_claimed' });
    await sam.cancelTransfer(queued).catch((e: DurableSessionsError) => expect(e.code).toBe('no_transfer_pending'));
  });

  it('reads state, diffs, commits, the resume package, receipts, the audit trail, and erases', async () => {
    const ada = await restAs('ada', 'user');
    const id = (await ada.createSession(uniqueId('state'))).sessionId;
    const agent = new Agent(await connectAs('bot', 'agent', id));
    try {
      await ada.postMessage(id, { text: 'fix the login' }); // turn 1
      const call = await agent.toolCall({ name: 'edit_file', toolCallId: 'call-1', inputHash: 'sha256:aa' });
      const firstCommit = await agent.commit({
        patch: [{ op: 'add', path: '/files_modified/-', value: 'src/login.ts' }],
        tool: 'edit_file',
        toolCallId: call.toolCallId,
        provenance: 'verified',
      });
      await agent.toolResult({ toolCallId: 'call-1', outcome: 'ok', summary: '1 file changed' });
      await agent.sendMessage('fixed');
      await ada.postMessage(id, { text: 'and the session?' }); // turn 2
      await agent.commit({ patch: [{ op: 'add', path: '/decisions_made/-', value: { what: 'patch it', why: 'small' } }], tool: 'think' });
      await agent.retryTurn('low score');
      await agent.commit({ patch: [{ op: 'add', path: '/score', value: 0.9 }], tool: 'score' });
      await agent.toolCall({ name: 'lookup', toolCallId: 'call-2' });
      const refused = await refusal(agent.commit({ patch: [{ op: 'remove', path: '/nope' }] }));
      expect(refused).toMatchObject({ code: 'patch_rejected', source: 'socket' });

      const now = await ada.getState(id);
      expect(now.turn).toEqual({ number: 2, attempt: 2, open: true });
      expect(now.document).toMatchObject({ files_modified: ['src/login.ts'], decisions_made: [{ what: 'patch it', why: 'small' }], score: 0.9 });
      expect((await ada.getState(id, { at: firstCommit.offset! })).document).toMatchObject({ files_modified: ['src/login.ts'], decisions_made: [] });
      expect((await ada.getState(id, { turn: 1 })).atTurn).toBe(1);
      const turns = await ada.diffTurns(id, 1, 2);
      expect(turns.commits.map((c) => c.tool)).toEqual(['think', 'score']);
      const attempts = await ada.diffAttempts(id, 2, 1, 2);
      expect(attempts.patch).toEqual([{ op: 'add', path: '/score', value: 0.9 }]);
      const log = await ada.commits(id, { path: '/files_modified' });
      expect(log.commits.map((c) => c.toolCallId)).toEqual(['call-1']);
      expect(log.touched).toEqual(['/files_modified/-']);
      expect(await refusal(ada.getState(id, { turn: 9 }))).toMatchObject({ code: 'invalid_request', status: 400 });

      // from the start: without `after` the package starts at the agent's receipts, which may already cover the message
      const resume = await agent.resume(0);
      expect(resume.turn).toEqual({ number: 2, attempt: 2, open: true });
      expect(resume.openRuns.toolCalls).toEqual([{ toolCallId: 'call-2', name: 'lookup', turn: 2 }]);
      expect(resume.addressed.filter((e) => e.type === 'message').map((e) => (e as { text: string }).text)).toContain('and the session?');

      // receipts: the agent's socket confirmed what it received; the session writes the
      // highest confirmation at the latest when the socket ends (§8 Delivery receipts)
      const confirmed = agent.connection.lastOffset;
      await agent.flush();
      await waitFor(() => agent.connection.confirmedOffset >= confirmed, { what: 'the ack to go out' });
      agent.close();
      const bot = await restAs('bot', 'agent');
      await waitFor(async () => (await bot.receiptFor(id, 'bot', confirmed)).reached, { what: 'the receipt' });
      const receipts = (await bot.receipts(id, 'bot')).receipts;
      expect(receipts).toEqual([expect.objectContaining({ participant: expect.objectContaining({ id: 'bot' }), device: 'bot-device' })]);
      // at least what it had confirmed when we looked (events may have arrived since)
      expect(receipts[0]!.delivered).toBeGreaterThanOrEqual(confirmed);
      expect(await refusal(ada.receipts(id))).toMatchObject({ code: 'forbidden' });

      const sam = await restAs('sam', 'support');
      const audit = await collect(sam.audit(id, { type: ['state.committed'] }));
      expect(audit.map((e) => e.type)).toEqual(['state.committed', 'state.committed', 'state.committed']);
      const everything: SessionEvent[] = await collect(sam.audit(id));
      expect(everything.some((e) => e.type === 'receipt')).toBe(true);
      expect(await refusal(collect(ada.audit(id)))).toMatchObject({ code: 'forbidden' });
    } finally {
      agent.close();
    }

    const root = await restAs('root', 'admin');
    expect(await refusal(ada.eraseSession(id))).toMatchObject({ code: 'forbidden' });
    const erased = await root.eraseSession(id);
    expect(erased).toMatchObject({ sessionId: id, erasedBy: 'root', reason: 'admin', alreadyErased: false });
    expect(await root.getErasure(id)).toMatchObject({ sessionId: id, erasedBy: 'root' });
    expect((await root.listErasures({ limit: 1000 })).map((r) => r.sessionId)).toContain(id);
    expect(await refusal(ada.getSession(id))).toMatchObject({ code: 'session_erased', status: 410 });
    expect((await root.health()).status).toBe('ok');
    expect(await root.metrics()).toContain('ds_events_persisted_total');
  });
});
