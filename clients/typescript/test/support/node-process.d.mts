export declare const TEST_SECRET: string;
export declare const DEFAULT_JAR: string;

export interface NodeOptions {
  /** The built-in demo agent (off unless a test wants it). */
  demoAgent?: boolean;
  /** More HOCON lines. */
  config?: string;
}

export interface RunningNode {
  url: string;
  port: number;
  dir: string;
  logPath: string;
  stop(): Promise<void>;
}

export declare function freePort(): Promise<number>;
export declare function startNode(options?: NodeOptions): Promise<RunningNode>;
