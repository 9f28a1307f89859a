/**
 * The idempotent producer (PROTOCOL §6) behind every append of a connection: it stamps each
 * appending frame with {id, epoch, seq}, keeps it until the server answers, and resends the
 * unanswered ones, with the same stamps and in order, whenever they may have been lost (a new
 * socket, `timeout`, `unavailable`, `rate_limited`). The server answers a resend of something
 * it already wrote as a duplicate, so each append lands exactly once.
 *
 * This class is bookkeeping only: no socket, no timers. The connection asks it what to send
 * and tells it what came back.
 */
import { DurableSessionsError } from '../errors.js';
import type { ProducerStamp } from '../protocol/common.js';
import type { AppendingFrame, ErrorFrame, ServerAckFrame } from '../protocol/frames.js';

/** What the server answered for an append. */
export interface AppendAck {
  /** The offset of the event the append became; absent only for a duplicate older than the producer window. */
  offset?: number;
  seq: number;
  /** true: the append had been written before (a resend); nothing new was written. */
  duplicate: boolean;
}

/** An appending frame as the caller gives it: the producer adds `ref` and `producer`. */
export type AppendBody = AppendingFrame extends infer F ? (F extends AppendingFrame ? Omit<F, 'ref' | 'producer'> : never) : never;

interface Entry {
  body: AppendBody;
  seq: number;
  /** The ref of the current send attempt; undefined while it waits to be sent. */
  ref: string | undefined;
  /** Answered `sequence_gap` while an earlier append was still unanswered: resend once those are. */
  gapped: boolean;
  resolve: (ack: AppendAck) => void;
  reject: (error: DurableSessionsError) => void;
}

/** What the connection should do after an error frame that matched an append. */
export interface ErrorOutcome {
  /** Wait this long before sending again (the unanswered appends from the failed one on are resent then). */
  holdMs: number;
  /** Set when the error fenced or reset the producer, to be reported on the connection. */
  report?: DurableSessionsError;
}

export class Producer {
  private epochValue: number;
  private nextSeq = 0;
  private readonly entries: Entry[] = [];
  private readonly byRef = new Map<string, Entry>();
  private refCounter = 0;
  private fencedBy: DurableSessionsError | undefined;

  /**
   * @param id The producer ID: one writer of this participant (§6).
   * @param epoch This incarnation; a restarted writer must take a higher one (default: Date.now()).
   * @param refPrefix Makes refs unique across producers sharing a socket.
   */
  constructor(
    readonly id: string,
    epoch: number,
    private readonly refPrefix = 'p',
  ) {
    if (!Number.isSafeInteger(epoch) || epoch < 0) throw new RangeError('epoch is an integer >= 0');
    this.epochValue = epoch;
  }

  get epoch(): number {
    return this.epochValue;
  }

  /** Appends not yet answered. */
  get pending(): number {
    return this.entries.length;
  }

  /** Appends sent on the current socket and not yet answered. */
  get inFlight(): number {
    let n = 0;
    for (const e of this.entries) if (e.ref !== undefined) n++;
    return n;
  }

  get fenced(): DurableSessionsError | undefined {
    return this.fencedBy;
  }

  /** Queue an append; it is stamped with the next seq. */
  enqueue(body: AppendBody): Promise<AppendAck> {
    if (this.fencedBy !== undefined) return Promise.reject(this.fencedBy);
    return new Promise<AppendAck>((resolve, reject) => {
      this.entries.push({ body, seq: this.nextSeq++, ref: undefined, gapped: false, resolve, reject });
    });
  }

  /**
   * The frames to send now, in seq order, so that at most `window` are unanswered. Unsent
   * entries always form a suffix of the queue, so sending them in order never skips a seq.
   */
  takeSendable(window: number): AppendingFrame[] {
    const out: AppendingFrame[] = [];
    let inFlight = this.inFlight;
    for (const entry of this.entries) {
      if (inFlight >= window) break;
      if (entry.ref !== undefined) continue;
      entry.ref = `${this.refPrefix}${++this.refCounter}`;
      this.byRef.set(entry.ref, entry);
      inFlight++;
      out.push(this.frameOf(entry));
    }
    return out;
  }

  /** The socket is gone: every unanswered append goes out again on the next one, same stamps. */
  resetSends(): void {
    this.rewindFrom(0);
  }

  /** @returns whether the ack answered one of this producer's current sends. */
  onAck(ack: ServerAckFrame): boolean {
    const entry = ack.ref === undefined ? undefined : this.byRef.get(ack.ref);
    if (entry === undefined) return false;
    this.remove(entry);
    entry.resolve({ ...(ack.offset === undefined ? {} : { offset: ack.offset }), seq: entry.seq, duplicate: ack.duplicate === true });
    const first = this.entries[0];
    if (first !== undefined && first.gapped) this.rewindFrom(0);
    return true;
  }

  /** @returns what to do, or undefined if the error answered none of this producer's current sends. */
  onError(error: ErrorFrame): ErrorOutcome | undefined {
    const entry = error.ref === undefined ? undefined : this.byRef.get(error.ref);
    if (entry === undefined) return undefined;
    const index = this.entries.indexOf(entry);
    const failure = socketError(error, entry.body.type);

    if (failure.retryable) {
      // The append may or may not have been written (timeout), or was not (unavailable,
      // rate_limited): resend it and everything after it, same stamps, in order.
      this.rewindFrom(index);
      const holdMs = error.code === 'rate_limited' ? Math.max(1, error.retryAfterMs ?? 1000) : error.code === 'unavailable' ? 1000 : 0;
      return { holdMs };
    }

    if (error.code === 'stale_epoch') {
      // A newer incarnation of this producer exists: this one is fenced for good (§6).
      const fenced = new DurableSessionsError({
        code: 'stale_epoch',
        message: `producer ${this.id} epoch ${this.epochValue} was fenced by a newer incarnation: ${error.message}`,
        source: 'socket',
      });
      this.fencedBy = fenced;
      this.failAll(fenced);
      return { holdMs: 0, report: fenced };
    }

    if (error.code === 'sequence_gap') {
      if (this.hasEarlierInFlight(index)) {
        // The consequence of an earlier append's failure whose answer has not arrived yet.
        entry.gapped = true;
        return { holdMs: 0 };
      }
      // The server's record of this producer differs from ours: nothing we hold can be
      // placed. Fail what is pending, loudly, and go on in a fresh epoch.
      this.failAll(failure);
      this.epochValue = Math.max(Date.now(), this.epochValue + 1);
      this.nextSeq = 0;
      return { holdMs: 0, report: failure };
    }

    // A refusal writes nothing and does not use up its seq (§6): the later appends move down
    // by one, and those already sent (which the server answers sequence_gap) go out again.
    this.remove(entry);
    for (let i = index; i < this.entries.length; i++) this.entries[i]!.seq -= 1;
    this.nextSeq -= 1;
    this.rewindFrom(index);
    entry.reject(failure);
    return { holdMs: 0 };
  }

  /** Reject every pending append (the connection closed for good). */
  failAll(error: DurableSessionsError): void {
    const all = this.entries.splice(0);
    this.byRef.clear();
    for (const e of all) e.reject(error);
  }

  private frameOf(entry: Entry): AppendingFrame {
    const producer: ProducerStamp = { id: this.id, epoch: this.epochValue, seq: entry.seq };
    return { ...entry.body, ref: entry.ref, producer } as AppendingFrame;
  }

  private hasEarlierInFlight(index: number): boolean {
    for (let i = 0; i < index; i++) if (this.entries[i]!.ref !== undefined) return true;
    return false;
  }

  private rewindFrom(index: number): void {
    for (let i = index; i < this.entries.length; i++) {
      const e = this.entries[i]!;
      if (e.ref !== undefined) this.byRef.delete(e.ref);
      e.ref = undefined;
      e.gapped = false;
    }
  }

  private remove(entry: Entry): void {
    const i = this.entries.indexOf(entry);
    if (i >= 0) this.entries.splice(i, 1);
    if (entry.ref !== undefined) this.byRef.delete(entry.ref);
  }
}

function socketError(error: ErrorFrame, frameType: string): DurableSessionsError {
  return new DurableSessionsError({
    code: error.code,
    message: `${frameType}: ${error.message}`,
    source: 'socket',
    ...(error.ref === undefined ? {} : { ref: error.ref }),
    ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
  });
}
