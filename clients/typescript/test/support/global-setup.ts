/**
 * One node for the whole vitest run, started from the built jar, stopped at the end. The demo
 * agent is off: the tests' own agents answer. The heartbeat timeout is 3 s instead of 30 s, so
 * that every test's connections live only as long as their heartbeats keep them.
 */
import type { TestProject } from 'vitest/node';
import { startNode } from './node.js';

declare module 'vitest' {
  export interface ProvidedContext {
    dsUrl: string;
    dsPort: number;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const node = await startNode({ demoAgent: false, config: 'durable-sessions.http.socket.heartbeat-timeout = 3s' });
  project.provide('dsUrl', node.url);
  project.provide('dsPort', node.port);
  return () => node.stop();
}
