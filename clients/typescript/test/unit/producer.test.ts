/**
 * The producer's bookkeeping (§6): stamps, resends with the same stamps, and the rule that a
 * refused append does not use up its seq.
 */
import { describe, expect, it } from 'vitest';
import { Producer, type AppendingFrame, type DurableSessionsError } from '../../src/index.js';

const delta = (text: string) => ({ type: 'stream.delta' as const, messageId: 'r', text });
const seqs = (frames: AppendingFrame[]) => frames.map((f) => f.producer?.seq);
const refs = (frames: AppendingFrame[]) => frames.map((f) => f.ref as string);

describe('Producer', () => {
  it('stamps appends with consecutive seqs in one epoch', () => {
    const p = new Producer('w', 7);
    void p.enqueue(delta('a'));
    void p.enqueue(delta('b'));
    const sent = p.takeSendable(10);
    expect(sent.map((f) => f.producer)).toEqual([
      { id: 'w', epoch: 7, seq: 0 },
      { id: 'w', epoch: 7, seq: 1 },
    ]);
  });

  it('resends every unanswered append with the same stamp after the socket is lost', async () => {
    const p = new Producer('w', 1);
    const a = p.enqueue(delta('a'));
    const b = p.enqueue(delta('b'));
    const first = p.takeSendable(10);
    p.onAck({ type: 'ack', ref: first[0]!.ref, offset: 5, seq: 0, duplicate: false });
    expect(await a).toEqual({ offset: 5, seq: 0, duplicate: false });
    p.resetSends();
    const again = p.takeSendable(10);
    expect(again.map((f) => [f.producer?.seq, (f as { text: string }).text])).toEqual([[1, 'b']]);
    // an answer to the old socket's send is not taken for the new one
    expect(p.onAck({ type: 'ack', ref: first[1]!.ref, offset: 6, seq: 1, duplicate: false })).toBe(false);
    p.onAck({ type: 'ack', ref: again[0]!.ref, offset: 6, seq: 1, duplicate: true });
    expect(await b).toEqual({ offset: 6, seq: 1, duplicate: true });
    expect(p.pending).toBe(0);
  });

  it('reuses the seq of a refused append for the appends after it, and resends those', async () => {
    const p = new Producer('w', 1);
    const a = p.enqueue(delta('a'));
    const b = p.enqueue(delta('b'));
    const c = p.enqueue(delta('c'));
    const sent = p.takeSendable(10);
    expect(seqs(sent)).toEqual([0, 1, 2]);
    p.onAck({ type: 'ack', ref: sent[0]!.ref, offset: 3, seq: 0, duplicate: false });
    const outcome = p.onError({ type: 'error', ref: sent[1]!.ref, code: 'stream_not_open', message: 'no' });
    expect(outcome).toEqual({ holdMs: 0 });
    await expect(b).rejects.toMatchObject({ code: 'stream_not_open', source: 'socket' });
    // the server answers the old send of c with a gap: that answer is stale now
    expect(p.onError({ type: 'error', ref: sent[2]!.ref, code: 'sequence_gap', message: 'expected 1' })).toBeUndefined();
    const resent = p.takeSendable(10);
    expect(resent.map((f) => [f.producer?.seq, (f as { text: string }).text])).toEqual([[1, 'c']]);
    p.onAck({ type: 'ack', ref: resent[0]!.ref, offset: 4, seq: 1, duplicate: false });
    await expect(a).resolves.toMatchObject({ seq: 0 });
    await expect(c).resolves.toMatchObject({ seq: 1, offset: 4 });
  });

  it('resends from a rate-limited append after the server says when, with the same stamps', () => {
    const p = new Producer('w', 1);
    void p.enqueue(delta('a'));
    void p.enqueue(delta('b'));
    const sent = p.takeSendable(10);
    expect(p.onError({ type: 'error', ref: sent[0]!.ref, code: 'rate_limited', message: 'slow down', retryAfterMs: 30 })).toEqual({ holdMs: 30 });
    const again = p.takeSendable(10);
    expect(seqs(again)).toEqual([0, 1]);
    expect(refs(again)).not.toEqual(refs(sent));
  });

  it('treats timeout and unavailable as "maybe written": same stamps again', () => {
    const p = new Producer('w', 1);
    void p.enqueue(delta('a'));
    const sent = p.takeSendable(10);
    expect(p.onError({ type: 'error', ref: sent[0]!.ref, code: 'timeout', message: 'late' })).toEqual({ holdMs: 0 });
    const again = p.takeSendable(10);
    expect(again[0]!.producer).toEqual(sent[0]!.producer);
    expect(p.onError({ type: 'error', ref: again[0]!.ref, code: 'unavailable', message: 'db' })).toEqual({ holdMs: 1000 });
    expect(p.takeSendable(10)[0]!.producer).toEqual(sent[0]!.producer);
  });

  it('is fenced for good by stale_epoch', async () => {
    const p = new Producer('w', 1);
    const a = p.enqueue(delta('a'));
    const b = p.enqueue(delta('b'));
    const sent = p.takeSendable(10);
    const outcome = p.onError({ type: 'error', ref: sent[0]!.ref, code: 'stale_epoch', message: 'epoch 1 < 2' });
    expect(outcome?.report?.code).toBe('stale_epoch');
    await expect(a).rejects.toMatchObject({ code: 'stale_epoch' });
    await expect(b).rejects.toMatchObject({ code: 'stale_epoch' });
    await expect(p.enqueue(delta('c'))).rejects.toMatchObject({ code: 'stale_epoch' });
  });

  it('waits for earlier answers before acting on a gap, then resends', () => {
    const p = new Producer('w', 1);
    void p.enqueue(delta('a'));
    void p.enqueue(delta('b'));
    const sent = p.takeSendable(10);
    expect(p.onError({ type: 'error', ref: sent[1]!.ref, code: 'sequence_gap', message: 'expected 0' })).toEqual({ holdMs: 0 });
    expect(p.takeSendable(10)).toEqual([]);
    p.onAck({ type: 'ack', ref: sent[0]!.ref, offset: 3, seq: 0, duplicate: false });
    expect(seqs(p.takeSendable(10))).toEqual([1]);
  });

  it('fails what it holds and starts a new epoch when the server disagrees about its sequence', async () => {
    const p = new Producer('w', 1);
    const a = p.enqueue(delta('a'));
    const sent = p.takeSendable(10);
    const outcome = p.onError({ type: 'error', ref: sent[0]!.ref, code: 'sequence_gap', message: 'expected seq 4, got 0' });
    expect((outcome?.report as DurableSessionsError).code).toBe('sequence_gap');
    await expect(a).rejects.toMatchObject({ code: 'sequence_gap' });
    void p.enqueue(delta('b'));
    const next = p.takeSendable(10)[0]!.producer!;
    expect(next.seq).toBe(0);
    expect(next.epoch).toBeGreaterThan(1);
  });

  it('keeps at most `window` appends unanswered', () => {
    const p = new Producer('w', 1);
    for (let i = 0; i < 5; i++) void p.enqueue(delta(String(i)));
    const first = p.takeSendable(2);
    expect(seqs(first)).toEqual([0, 1]);
    expect(p.takeSendable(2)).toEqual([]);
    p.onAck({ type: 'ack', ref: first[0]!.ref, offset: 1, seq: 0, duplicate: false });
    expect(seqs(p.takeSendable(2))).toEqual([2]);
  });
});
