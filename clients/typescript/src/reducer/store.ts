/**
 * A session view kept up to date from a connection: `getView()` and `subscribe()` fit React's
 * `useSyncExternalStore`, and any other UI library's store contract.
 */
import type { SessionConnection } from '../connection/connection.js';
import type { SessionEvent } from '../protocol/events.js';
import { reduceSession } from './reduce.js';
import { initialSessionView, type SessionView } from './view.js';

export class SessionStore {
  private view: SessionView;
  private readonly listeners = new Set<(view: SessionView, event: SessionEvent | undefined) => void>();
  private readonly unsubscribe: () => void;

  /**
   * @param initial A view to start from (for example one saved with its `offset`, when the
   *   connection resumes after that offset). Default: the empty view, for a connection that
   *   starts at offset 0.
   */
  constructor(connection: SessionConnection, initial: SessionView = initialSessionView()) {
    this.view = initial;
    this.unsubscribe = connection.on('event', (event) => {
      const next = reduceSession(this.view, event);
      if (next === this.view) return;
      this.view = next;
      for (const listener of [...this.listeners]) listener(next, event);
    });
  }

  getView = (): SessionView => this.view;

  /** Called after every event that changed the view. Returns the function that unsubscribes. */
  subscribe = (listener: (view: SessionView, event: SessionEvent | undefined) => void): (() => void) => {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  };

  /** Stop following the connection. */
  dispose(): void {
    this.unsubscribe();
    this.listeners.clear();
  }
}
