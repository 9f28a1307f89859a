/// <reference types="node" />
/**
 * A request listener for Node's `http` (or anything with its shape) that accepts the node's
 * webhook requests: reads the raw body, verifies it, then runs `handle`.
 */
import { verifyWebhookSignature, WebhookSignatureError } from './signature.js';
import type { WebhookPayload } from './payload.js';

/** What the handler reads of a request: Node's `IncomingMessage` fits. */
export interface WebhookRequestLike extends AsyncIterable<Uint8Array | string> {
  method?: string | undefined;
  headers: Record<string, string | string[] | undefined>;
}

/** What the handler writes to a response: Node's `ServerResponse` fits. */
export interface WebhookResponseLike {
  statusCode: number;
  setHeader(name: string, value: string): unknown;
  end(body?: string): unknown;
}

/** About this delivery, from the request's headers. */
export interface WebhookDelivery {
  /** The `Idempotency-Key` header (the payload's `idempotencyKey`): the same on every attempt of one need. */
  idempotencyKey: string;
  /** The `DS-Attempt` header: 1 for the first attempt. */
  attempt: number;
}

export interface WebhookHandlerOptions {
  /** The pool's secret (`webhook.secret` on the node). */
  secret: string;
  /**
   * Runs the agent for the session (or hands it to something that does). The node waits for the
   * answer at most the pool's `timeout` (5s by default) and retries after that with the same
   * key: start long work and resolve, and drop a key you already took.
   */
  handle: (payload: WebhookPayload, delivery: WebhookDelivery) => Promise<void> | void;
  /** Default 300. */
  toleranceSeconds?: number;
  /** Larger bodies are refused with 413 before they are verified (default 4 MiB). */
  maxBodyBytes?: number;
}

/**
 * `http.createServer(webhookHandler({ secret, handle }))`: 401 for a request that is not the
 * node's (bad or old signature), 405 for another method than POST, 413 for a body too large,
 * 204 once `handle` resolved, 500 if it threw (the node retries).
 */
export function webhookHandler(options: WebhookHandlerOptions): (req: WebhookRequestLike, res: WebhookResponseLike) => Promise<void> {
  const maxBodyBytes = options.maxBodyBytes ?? 4 * 1024 * 1024;
  return async (req, res) => {
    if (req.method !== undefined && req.method !== 'POST') return reply(res, 405, { error: 'method_not_allowed' });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk);
      size += bytes.length;
      if (size > maxBodyBytes) return reply(res, 413, { error: 'payload_too_large' });
      chunks.push(bytes);
    }
    const rawBody = Buffer.concat(chunks);
    let payload: WebhookPayload;
    try {
      payload = verifyWebhookSignature({
        secret: options.secret,
        header: req.headers['ds-signature'],
        rawBody,
        ...(options.toleranceSeconds === undefined ? {} : { toleranceSeconds: options.toleranceSeconds }),
      });
    } catch (e) {
      if (e instanceof WebhookSignatureError) return reply(res, e.code === 'invalid_payload' ? 400 : 401, { error: e.code });
      throw e;
    }
    const attempt = Number(first(req.headers['ds-attempt']) ?? '1');
    try {
      await options.handle(payload, { idempotencyKey: payload.idempotencyKey, attempt: Number.isFinite(attempt) ? attempt : 1 });
    } catch {
      return reply(res, 500, { error: 'handler_failed' });
    }
    res.statusCode = 204;
    res.end();
  };
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function reply(res: WebhookResponseLike, status: number, body: { error: string }): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify(body));
}
