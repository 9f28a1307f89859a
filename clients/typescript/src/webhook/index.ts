/**
 * @durable-sessions/client/webhook: receiving a webhook pool's calls (docs/AGENTS.md "Webhook
 * pools"). Node only (node:crypto).
 *
 * - verifyWebhookSignature: checks `DS-Signature` against the raw body and parses the payload.
 * - webhookHandler: a request listener for `http.createServer` that does the above, then your handler.
 */
export { verifyWebhookSignature, webhookSignature, WebhookSignatureError } from './signature.js';
export type { VerifyOptions, WebhookErrorCode } from './signature.js';
export { webhookHandler } from './handler.js';
export type { WebhookDelivery, WebhookHandlerOptions, WebhookRequestLike, WebhookResponseLike } from './handler.js';
export type { WebhookPayload } from './payload.js';
