/**
 * @durable-sessions/client/ai: the Vercel AI SDK (`ai` 7) on top of the client.
 *
 * - SessionChatTransport: a `ChatTransport` for `useChat` / `Chat` over a session.
 * - streamAnswer / pipeToSession: an agent answers with `streamText` into the session.
 *
 * Needs the `ai` package (a peer dependency); the main entry point does not load it.
 */
export { pausePoint, SessionChatTransport, uiMessagesFromEvents } from './transport.js';
export type { SessionChatTransportOptions } from './transport.js';
export { AnswerChunks } from './answer-chunks.js';
export type { AnswerStart } from './answer-chunks.js';
export { answerIdFor, pipeToSession, streamAnswer, ToolCallLedger } from './agent-pipe.js';
export type {
  AnswerResult,
  PipeOptions,
  PipeResult,
  StreamAnswerOptions,
  StreamTextLike,
  ToolApprovalDecision,
  UIMessageStreamSource,
} from './agent-pipe.js';
export { decodeToolRecord, encodeToolRecord } from './tool-record.js';
export type { ToolRecord } from './tool-record.js';
