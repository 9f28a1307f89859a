import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_BACKOFF, parseRetryAfter, splitUtf8, tokenExpiry, WebStorageOffsetStore } from '../../src/index.js';
import { prng } from '../support/wait.js';

describe('backoffDelay', () => {
  it('grows exponentially up to the cap, with full jitter', () => {
    const policy = { initialDelayMs: 100, maxDelayMs: 1000, multiplier: 2 };
    expect([0, 1, 2, 3, 4, 10].map((a) => backoffDelay(a, policy, () => 0.999999))).toEqual([99, 199, 399, 799, 999, 999]);
    expect(backoffDelay(3, policy, () => 0)).toBe(0);
    const random = prng(7);
    for (let i = 0; i < 1000; i++) {
      const d = backoffDelay(i % 12, DEFAULT_BACKOFF, random);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(DEFAULT_BACKOFF.maxDelayMs);
    }
  });
});

describe('splitUtf8', () => {
  it('cuts at the byte bound without splitting a character', () => {
    const text = 'aé😀'.repeat(500);
    const parts = splitUtf8(text, 100);
    expect(parts.join('')).toBe(text);
    for (const p of parts) expect(new TextEncoder().encode(p).length).toBeLessThanOrEqual(100);
    expect(splitUtf8('short', 100)).toEqual(['short']);
  });
});

describe('tokens and headers', () => {
  it('reads a JWT exp without verifying it', () => {
    const payload = Buffer.from(JSON.stringify({ exp: 1700000000, sub: 'ü' })).toString('base64url');
    expect(tokenExpiry(`x.${payload}.y`)).toBe(1700000000_000);
    expect(tokenExpiry('not-a-jwt')).toBeUndefined();
  });

  it('parses Retry-After seconds and dates', () => {
    expect(parseRetryAfter('2')).toBe(2000);
    expect(parseRetryAfter(null)).toBeUndefined();
    const inFiveSeconds = new Date(Date.now() + 5000).toUTCString();
    expect(parseRetryAfter(inFiveSeconds)).toBeGreaterThan(3000);
  });
});

describe('WebStorageOffsetStore', () => {
  it('keeps offsets in a Storage under a prefix', () => {
    const map = new Map<string, string>();
    const storage = { getItem: (k: string) => map.get(k) ?? null, setItem: (k: string, v: string) => void map.set(k, v) };
    const store = new WebStorageOffsetStore(storage);
    expect(store.load('s/d')).toBeUndefined();
    store.save('s/d', 42);
    expect(new WebStorageOffsetStore(storage).load('s/d')).toBe(42);
    expect([...map.keys()]).toEqual(['durable-sessions:offset:s/d']);
  });
});

describe('errorOf', () => {
  it('carries the server code, the status and Retry-After in ms', async () => {
    const { errorOf } = await import('../../src/index.js');
    const response = new Response(JSON.stringify({ error: { code: 'rate_limited', message: 'ada may make 1000 appends per 1 s' } }), {
      status: 429,
      headers: { 'Retry-After': '2', 'Content-Type': 'application/json' },
    });
    const error = await errorOf(response);
    expect(error).toMatchObject({ code: 'rate_limited', status: 429, retryAfterMs: 2000, source: 'rest', retryable: true });
    const plain = await errorOf(new Response('Request-target too long', { status: 414 }));
    expect(plain).toMatchObject({ code: 'http_error', status: 414, retryable: false });
    expect(plain.message).toContain('Request-target too long');
  });
});
