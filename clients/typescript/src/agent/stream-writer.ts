/**
 * One streamed message. `write(text)` is cheap and synchronous: text lingers up to `lingerMs`
 * (or until `maxBatchBytes` of it wait) and then goes out as one `stream.delta` frame, stamped,
 * so that it lands exactly once however often the connection drops.
 */
import type { SessionConnection } from '../connection/connection.js';
import { utf8Length } from '../util.js';
import type { AppendAck } from '../connection/producer.js';
import { DurableSessionsError, isDurableSessionsError } from '../errors.js';
import type { StreamEnded } from '../protocol/events.js';

export interface StreamWriterOptions {
  /** How long written text may wait to be batched with more (default 40 ms, the server's coalesce-linger). */
  lingerMs?: number;
  /** A batch is sent at once when it reaches this many UTF-8 bytes (default 4096, the server's coalesce-max-bytes). */
  maxBatchBytes?: number;
}

/** How a stream ended, as the session wrote it. */
export type StreamEnd = Pick<StreamEnded, 'reason' | 'error' | 'offset' | 'by'>;

type WriterState = 'open' | 'ending' | 'ended';

export class StreamWriter {
  readonly messageId: string;
  /**
   * Aborted when this stream must stop: an `interrupt` (or a `cancel` without a tool call)
   * addressed to this participant, the stream ended by someone else (a transfer, a close, the
   * owner lost), or its start refused. `signal.reason` is the signal event or the error.
   */
  readonly signal: AbortSignal;
  /** The `ack` of the `stream.start` (for a continued stream: `{seq: -1, duplicate: true}` at once). */
  readonly started: Promise<AppendAck>;
  /**
   * Resolves with the `stream.ended` event of this stream, whoever ended it; rejects if the
   * connection closes for good before that event arrives (after `leave()`, for example).
   */
  readonly done: Promise<StreamEnd>;

  private readonly controller = new AbortController();
  private readonly lingerMs: number;
  private readonly maxBatchBytes: number;
  private buffer = '';
  private bufferBytes = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stateValue: WriterState = 'open';
  private lastAppend: Promise<unknown> = Promise.resolve();
  private failure: DurableSessionsError | undefined;
  private resolveDone!: (end: StreamEnd) => void;
  private rejectDone!: (error: unknown) => void;
  private endedExternally = false;
  private endPromise: Promise<AppendAck | undefined> | undefined;

  /** @internal created by Agent.startStream(). */
  constructor(
    private readonly connection: SessionConnection,
    messageId: string,
    options: StreamWriterOptions,
    private readonly onFinished: (writer: StreamWriter) => void,
    /** The stream is open already (a restarted agent carrying on): send no `stream.start`. */
    alreadyOpen = false,
  ) {
    this.messageId = messageId;
    this.signal = this.controller.signal;
    this.lingerMs = options.lingerMs ?? 40;
    this.maxBatchBytes = options.maxBatchBytes ?? 4096;
    this.done = new Promise((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    this.done.catch(() => undefined); // rejected only when the connection closes; awaiting it still sees that
    this.started = alreadyOpen
      ? Promise.resolve({ seq: -1, duplicate: true })
      : connection.append({ type: 'stream.start', messageId });
    this.started.catch((error: unknown) => this.fail(error));
    this.lastAppend = this.started.catch(() => undefined);
  }

  /** `open` until end() is called; `ended` once the stream is over, by whoever ended it. */
  get state(): WriterState {
    return this.stateValue;
  }

  /**
   * Add text to the stream. After the stream has ended because it was interrupted or ended by
   * someone else, writes are ignored (check `signal.aborted`); after end() they throw.
   */
  write(text: string): void {
    if (this.stateValue !== 'open') {
      if (this.signal.aborted) return;
      throw new Error(`stream ${this.messageId} has ended`);
    }
    if (text === '') return;
    const bytes = utf8Length(text);
    // Text that would push the batch past the bound is not added to it: the batch goes out
    // as it is, and the text starts the next one (so a token is never cut in two).
    if (this.buffer !== '' && this.bufferBytes + bytes > this.maxBatchBytes) this.sendBuffered();
    this.buffer += text;
    this.bufferBytes += bytes;
    if (this.bufferBytes >= this.maxBatchBytes) {
      this.sendBuffered();
    } else if (this.timer === undefined) {
      this.timer = setTimeout(() => this.sendBuffered(), this.lingerMs);
    }
  }

  /** Send what is buffered now; resolves when every delta so far is written. */
  async flush(): Promise<void> {
    this.sendBuffered();
    await this.lastAppend;
    if (this.failure !== undefined && !this.endedExternally) throw this.failure;
  }

  /**
   * Flush, then end the stream. Resolves with the `stream.end` ack, or undefined if the stream
   * had already been ended by someone else (then `done` says how). Calling it again returns
   * the first call's promise.
   */
  end(options: { reason?: 'complete' | 'cancelled' | 'error'; error?: string } = {}): Promise<AppendAck | undefined> {
    if (this.endPromise !== undefined) return this.endPromise;
    if (this.endedExternally) return Promise.resolve(undefined);
    this.sendBuffered();
    this.stateValue = 'ending';
    this.endPromise = this.sendEnd(options);
    return this.endPromise;
  }

  private async sendEnd(options: { reason?: 'complete' | 'cancelled' | 'error'; error?: string }): Promise<AppendAck | undefined> {
    await this.lastAppend;
    if (this.endedExternally) return undefined;
    if (this.failure !== undefined) throw this.failure;
    try {
      return await this.connection.append({
        type: 'stream.end',
        messageId: this.messageId,
        reason: options.reason ?? 'complete',
        ...(options.error === undefined ? {} : { error: options.error }),
      });
    } catch (error) {
      if (this.endedExternally) return undefined;
      throw error;
    }
  }

  /** @internal An interrupt reached this stream: abort, and with `autoEnd`, end it as cancelled. */
  interrupt(reason: unknown, autoEnd: boolean): Promise<unknown> {
    if (!this.controller.signal.aborted) this.controller.abort(reason);
    if (autoEnd && this.stateValue === 'open') return this.end({ reason: 'cancelled' }).catch(() => undefined);
    return Promise.resolve();
  }

  /** @internal The connection closed for good before this stream's end was seen. */
  connectionClosed(error: unknown): void {
    if (this.stateValue === 'ended') return;
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.controller.signal.aborted) this.controller.abort(error);
    this.stateValue = 'ended';
    this.rejectDone(error);
    this.onFinished(this);
  }

  /** @internal The session wrote this stream's `stream.ended`; `byOwner`: this participant wrote it. */
  ended(event: StreamEnded, byOwner: boolean): void {
    if (this.stateValue !== 'ending' || !byOwner) {
      // Someone else ended it: a transfer, a close, the owner lost, a leave.
      this.endedExternally = true;
      clearTimeout(this.timer);
      this.timer = undefined;
      this.buffer = '';
      this.bufferBytes = 0;
      if (!this.controller.signal.aborted) this.controller.abort(event);
    }
    this.stateValue = 'ended';
    this.resolveDone({ reason: event.reason, offset: event.offset, by: event.by, ...(event.error === undefined ? {} : { error: event.error }) });
    this.onFinished(this);
  }

  private sendBuffered(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.buffer === '') return;
    const text = this.buffer;
    this.buffer = '';
    this.bufferBytes = 0;
    for (const chunk of splitUtf8(text, this.maxBatchBytes)) {
      const append = this.connection.append({ type: 'stream.delta', messageId: this.messageId, text: chunk });
      append.catch((error: unknown) => this.fail(error));
      this.lastAppend = append.catch(() => undefined);
    }
  }

  private fail(error: unknown): void {
    if (this.failure !== undefined || this.endedExternally) return;
    this.failure = isDurableSessionsError(error)
      ? error
      : new DurableSessionsError({ code: 'internal', message: String(error), source: 'client', cause: error });
    if (!this.controller.signal.aborted) this.controller.abort(this.failure);
  }
}

/** Split text into pieces of at most `maxBytes` UTF-8 bytes, never inside a surrogate pair. */
export function splitUtf8(text: string, maxBytes: number): string[] {
  if (utf8Length(text) <= maxBytes) return [text];
  const out: string[] = [];
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < text.length; ) {
    const c = text.charCodeAt(i);
    const pair = c >= 0xd800 && c <= 0xdbff && i + 1 < text.length;
    const size = c < 0x80 ? 1 : c < 0x800 ? 2 : pair ? 4 : 3;
    const width = pair ? 2 : 1;
    if (bytes + size > maxBytes && i > start) {
      out.push(text.slice(start, i));
      start = i;
      bytes = 0;
    }
    bytes += size;
    i += width;
  }
  if (start < text.length) out.push(text.slice(start));
  return out;
}
