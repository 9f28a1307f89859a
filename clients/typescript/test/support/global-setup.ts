/**
 * One node for the whole vitest run (demo agent off: the tests' own agents answer), started
 * from the built jar, stopped at the end.
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
  const node = await startNode({ demoAgent: false });
  project.provide('dsUrl', node.url);
  project.provide('dsPort', node.port);
  return () => node.stop();
}
