/**
 * Buffers the events a connection delivers from the moment it is created, so that a reader can
 * first read older events over REST and then carry on with the live ones, missing nothing.
 */
import type { SessionConnection } from '../connection/connection.js';
import { DurableSessionsError } from '../errors.js';
import type { SessionEvent } from '../protocol/events.js';

export class EventTap {
  private buffer: SessionEvent[] = [];
  private wake: (() => void) | undefined;
  private failure: unknown;
  private readonly offs: (() => void)[];

  constructor(connection: SessionConnection) {
    this.offs = [
      connection.on('event', (event) => {
        this.buffer.push(event);
        this.notify();
      }),
      connection.on('closed', (error) => {
        this.failure = error ?? new DurableSessionsError({ code: 'connection_closed', message: 'the connection closed', source: 'client' });
        this.notify();
      }),
    ];
  }

  /** Everything buffered so far (emptying the buffer); throws once the connection has closed. */
  drain(): SessionEvent[] {
    const events = this.buffer;
    this.buffer = [];
    if (events.length === 0 && this.failure !== undefined) throw this.failure;
    return events;
  }

  /** Resolves when an event (or the connection's end) arrives, or when `signal` aborts. */
  wait(signal: AbortSignal): Promise<void> {
    if (this.buffer.length > 0 || this.failure !== undefined || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        signal.removeEventListener('abort', done);
        this.wake = undefined;
        resolve();
      };
      this.wake = done;
      signal.addEventListener('abort', done, { once: true });
    });
  }

  close(): void {
    for (const off of this.offs.splice(0)) off();
    this.buffer = [];
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
