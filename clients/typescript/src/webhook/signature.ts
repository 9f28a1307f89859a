/// <reference types="node" />
/**
 * Verifying a webhook request (docs/AGENTS.md "Webhook pools"): the `DS-Signature` header is
 * `t=<unix seconds>,v1=<hex>`, where hex is HMAC-SHA256(secret, `${t}.${rawBody}`). Node only.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { WebhookPayload } from './payload.js';

/** Why a request was not accepted as the node's. */
export type WebhookErrorCode =
  | 'missing_signature'
  | 'malformed_signature'
  | 'timestamp_out_of_tolerance'
  | 'signature_mismatch'
  | 'invalid_payload';

export class WebhookSignatureError extends Error {
  override readonly name = 'WebhookSignatureError';
  readonly code: WebhookErrorCode;

  constructor(code: WebhookErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

export interface VerifyOptions {
  /** The pool's secret, as configured on the node (`webhook.secret`). */
  secret: string;
  /** The `DS-Signature` header's value. */
  header: string | string[] | undefined | null;
  /** The body exactly as received: not parsed and re-serialized. */
  rawBody: string | Uint8Array;
  /** How far the signed time may be from `now` (default 300): an older request is a replay. */
  toleranceSeconds?: number;
  /** Milliseconds since the epoch (default `Date.now()`). */
  now?: number;
}

const encoder = new TextEncoder();

/** The lowercase hex HMAC-SHA256 of `${t}.${rawBody}`: what `v1` must be. */
export function webhookSignature(secret: string, t: number, rawBody: string | Uint8Array): string {
  const body = typeof rawBody === 'string' ? encoder.encode(rawBody) : rawBody;
  return createHmac('sha256', secret).update(`${t}.`).update(body).digest('hex');
}

/**
 * Checks the signature and the timestamp, then parses the body. Throws a
 * {@link WebhookSignatureError} (with its `code`) if the request is not the node's, too old,
 * or not a webhook payload.
 */
export function verifyWebhookSignature(options: VerifyOptions): WebhookPayload {
  const { secret, rawBody, toleranceSeconds = 300 } = options;
  const header = Array.isArray(options.header) ? options.header[0] : options.header;
  if (header === undefined || header === null || header === '') {
    throw new WebhookSignatureError('missing_signature', 'no DS-Signature header');
  }
  let t: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't' && /^[0-9]{1,12}$/.test(value)) t = Number(value);
    else if (key === 'v1') signatures.push(value);
  }
  if (t === undefined || signatures.length === 0) {
    throw new WebhookSignatureError('malformed_signature', 'DS-Signature is not t=<unix seconds>,v1=<hex>');
  }
  const nowSeconds = Math.floor((options.now ?? Date.now()) / 1000);
  if (Math.abs(nowSeconds - t) > toleranceSeconds) {
    throw new WebhookSignatureError('timestamp_out_of_tolerance', `signed at ${t}, more than ${toleranceSeconds}s from now (${nowSeconds})`);
  }
  const expected = Buffer.from(webhookSignature(secret, t, rawBody), 'utf8');
  const matches = signatures.some((s) => {
    const given = Buffer.from(s, 'utf8');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!matches) throw new WebhookSignatureError('signature_mismatch', 'the signature does not match the body and the secret');
  const text = typeof rawBody === 'string' ? rawBody : new TextDecoder().decode(rawBody);
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch {
    throw new WebhookSignatureError('invalid_payload', 'the signed body is not JSON');
  }
  if (!isPayload(payload)) throw new WebhookSignatureError('invalid_payload', 'the signed body is not a webhook payload');
  return payload;
}

function isPayload(p: unknown): p is WebhookPayload {
  if (typeof p !== 'object' || p === null) return false;
  const o = p as Record<string, unknown>;
  return (
    typeof o['sessionId'] === 'string' &&
    typeof o['pool'] === 'string' &&
    typeof o['fromOffset'] === 'number' &&
    typeof o['idempotencyKey'] === 'string' &&
    typeof o['token'] === 'string'
  );
}
