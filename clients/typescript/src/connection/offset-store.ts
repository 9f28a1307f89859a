/**
 * Where a connection keeps the offset of the last event it delivered, so that a new
 * connection (after a page reload, a process restart) resumes exactly after it.
 */
export interface OffsetStore {
  /** The last delivered offset for this key, or undefined to start from the beginning. */
  load(key: string): number | undefined | Promise<number | undefined>;
  /** Called after every delivered event, in order. */
  save(key: string, offset: number): void | Promise<void>;
}

/** Keeps offsets in memory: a new connection object in the same process resumes; a restart does not. */
export class MemoryOffsetStore implements OffsetStore {
  private readonly offsets = new Map<string, number>();

  load(key: string): number | undefined {
    return this.offsets.get(key);
  }

  save(key: string, offset: number): void {
    this.offsets.set(key, offset);
  }
}

/** The part of the Web Storage API the store uses (localStorage, sessionStorage). */
export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/**
 * Keeps offsets in a browser's `localStorage` (survives reloads and restarts, shared by the
 * tabs of an origin) or `sessionStorage` (per tab, survives reloads). Keys are prefixed.
 */
export class WebStorageOffsetStore implements OffsetStore {
  constructor(
    private readonly storage: StorageLike,
    private readonly prefix = 'durable-sessions:offset:',
  ) {}

  load(key: string): number | undefined {
    const raw = this.storage.getItem(this.prefix + key);
    if (raw === null) return undefined;
    const n = Number(raw);
    return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
  }

  save(key: string, offset: number): void {
    this.storage.setItem(this.prefix + key, String(offset));
  }
}
