import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { foldEvents, initialSessionView, type SessionEvent } from '../../src/index.js';
import {
  verifyWebhookSignature,
  webhookHandler,
  webhookSignature,
  WebhookSignatureError,
  type WebhookPayload,
} from '../../src/webhook/index.js';

const SECRET = 'whsec-test-vector-0123456789abcdefghijkl';
const T = 1_700_000_000;

const payload: WebhookPayload = {
  sessionId: 's-1',
  pool: 'billing-fn',
  fromOffset: 3,
  reason: 'needs_agent',
  idempotencyKey: 's-1:1:1',
  token: 'eyJ.token.sig',
  tokenExpiresAt: '2023-11-14T22:18:20Z',
  resume: {
    sessionId: 's-1', head: 3, since: 2, truncated: false, control: { phase: 'agent_in_control' } as never,
    turn: { number: 1, attempt: 1, open: true } as never, state: {} as never,
    openRuns: { streams: [], toolCalls: [], agentStatus: {} }, addressed: [],
  },
};
const body = JSON.stringify(payload);
const header = `t=${T},v1=${webhookSignature(SECRET, T, body)}`;

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof WebhookSignatureError) return e.code;
    throw e;
  }
  return 'accepted';
}

describe('verifyWebhookSignature', () => {
  it('matches the server: HMAC-SHA256 of "<t>.<raw body>" (the Java test vector)', () => {
    expect(webhookSignature(SECRET, T, '{"sessionId":"s-1","reason":"needs_agent"}')).toBe(
      'fd2e981993975f568bc199c9aaea88bc5467e3d77d60666d9c24af035ad8039e',
    );
  });

  it('returns the payload of a valid request, given the body as text or bytes', () => {
    expect(verifyWebhookSignature({ secret: SECRET, header, rawBody: body, now: (T + 10) * 1000 })).toEqual(payload);
    const bytes = new TextEncoder().encode(body);
    expect(verifyWebhookSignature({ secret: SECRET, header, rawBody: bytes, now: (T - 10) * 1000 }).idempotencyKey).toBe('s-1:1:1');
  });

  it('refuses a tampered body, a wrong secret, an old timestamp and a missing or malformed header, with a code', () => {
    const now = (T + 10) * 1000;
    expect(codeOf(() => verifyWebhookSignature({ secret: SECRET, header, rawBody: body.replace('s-1', 's-2'), now }))).toBe('signature_mismatch');
    expect(codeOf(() => verifyWebhookSignature({ secret: `${SECRET}x`, header, rawBody: body, now }))).toBe('signature_mismatch');
    expect(codeOf(() => verifyWebhookSignature({ secret: SECRET, header, rawBody: body, now: (T + 301) * 1000 }))).toBe(
      'timestamp_out_of_tolerance',
    );
    expect(codeOf(() => verifyWebhookSignature({ secret: SECRET, header, rawBody: body, now: (T + 30) * 1000, toleranceSeconds: 20 }))).toBe(
      'timestamp_out_of_tolerance',
    );
    // a fresh timestamp on an old signature
    const moved = header.replace(`t=${T}`, `t=${T + 200}`);
    expect(codeOf(() => verifyWebhookSignature({ secret: SECRET, header: moved, rawBody: body, now: (T + 200) * 1000 }))).toBe('signature_mismatch');
    expect(codeOf(() => verifyWebhookSignature({ secret: SECRET, header: undefined, rawBody: body, now }))).toBe('missing_signature');
    expect(codeOf(() => verifyWebhookSignature({ secret: SECRET, header: 'sha256=abc', rawBody: body, now }))).toBe('malformed_signature');
  });

  it('refuses a correctly signed body that is not a webhook payload', () => {
    const other = '{"hello":"world"}';
    const signed = `t=${T},v1=${webhookSignature(SECRET, T, other)}`;
    expect(codeOf(() => verifyWebhookSignature({ secret: SECRET, header: signed, rawBody: other, now: T * 1000 }))).toBe('invalid_payload');
  });
});

describe('webhookHandler', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((done) => (server === undefined ? done() : server.close(() => done()))));

  async function serve(handle: (p: WebhookPayload) => Promise<void> | void): Promise<string> {
    server = createServer(webhookHandler({ secret: SECRET, handle }));
    await new Promise<void>((ready) => server!.listen(0, '127.0.0.1', ready));
    return `http://127.0.0.1:${(server!.address() as AddressInfo).port}/`;
  }

  const signedNow = (raw: string) => `t=${Math.floor(Date.now() / 1000)},v1=${webhookSignature(SECRET, Math.floor(Date.now() / 1000), raw)}`;

  it('answers 204 once handle resolved, with the verified payload', async () => {
    const handled: WebhookPayload[] = [];
    const url = await serve(async (p) => {
      handled.push(p);
    });
    const res = await fetch(url, { method: 'POST', body, headers: { 'DS-Signature': signedNow(body), 'DS-Attempt': '2' } });
    expect(res.status).toBe(204);
    expect(handled).toEqual([payload]);
  });

  it('answers 401 to a bad signature without calling handle, and 500 when handle throws', async () => {
    let calls = 0;
    const url = await serve(() => {
      calls += 1;
      throw new Error('the model is down');
    });
    const bad = await fetch(url, { method: 'POST', body: body.replace('s-1', 's-2'), headers: { 'DS-Signature': signedNow(body) } });
    expect(bad.status).toBe(401);
    expect(await bad.json()).toEqual({ error: 'signature_mismatch' });
    expect(calls).toBe(0);
    const failing = await fetch(url, { method: 'POST', body, headers: { 'DS-Signature': signedNow(body) } });
    expect(failing.status).toBe(500);
    expect(calls).toBe(1);
  });
});

describe('agent.webhook_failed', () => {
  it('is a session event the reducer accepts (the view is unchanged)', () => {
    const failed: SessionEvent = {
      type: 'agent.webhook_failed', offset: 1, by: { id: 'session', role: 'system', subject: 'durable-sessions' }, at: '2026-11-30T12:00:00Z',
      pool: 'billing-fn', attempts: 5, lastStatus: 503, error: 'HTTP 503', idempotencyKey: 's-1:1:1',
    };
    const view = foldEvents([failed]);
    expect({ ...view, offset: 0 }).toEqual(initialSessionView());
    expect(view.offset).toBe(1);
  });
});
