/** The node under test: see node-process.mjs (shared with the Node 20 smoke test). */
export { DEFAULT_JAR, freePort, startNode, TEST_SECRET } from './node-process.mjs';
export type { NodeOptions, RunningNode } from './node-process.mjs';
