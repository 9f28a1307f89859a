// Checks what `npm pack` gives: the tarball installs into an empty ESM project, its
// declarations type-check a strict consumer (including that wrong frames are type errors),
// and its exports load at run time; the AI SDK entry point (./ai) type-checks and loads once
// `ai` is installed, and the main entry point loads without it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const work = mkdtempSync(join(tmpdir(), 'ds-pack-'));
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });

try {
  run('npm', ['pack', '--silent', '--pack-destination', work], root);
  const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
  if (tarball === undefined) throw new Error('npm pack made no tarball');
  const listing = run('tar', ['-tzf', join(work, tarball)], work).split('\n');
  for (const needed of ['package/dist/index.js', 'package/dist/index.d.ts', 'package/README.md', 'package/docs/API.md']) {
    if (!listing.includes(needed)) throw new Error(`the tarball lacks ${needed}`);
  }
  if (listing.some((f) => f.startsWith('package/test/') || f.startsWith('package/node_modules/'))) throw new Error('the tarball holds tests or node_modules');

  const consumer = join(work, 'consumer');
  mkdirSync(consumer);
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(work, tarball)], consumer);
  writeFileSync(
    join(consumer, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, lib: ['ES2022', 'DOM'], types: [] },
      include: ['consumer.ts'],
    }),
  );
  writeFileSync(
    join(consumer, 'consumer.ts'),
    `import {
  Agent, connect, foldEvents, RestClient, SessionStore, DurableSessionsError, WebStorageOffsetStore,
  type ClientFrame, type SessionEvent, type SessionView, type AppendAck,
} from '@durable-sessions/client';

const connection = connect({ url: 'http://localhost:8080', sessionId: 's', token: 't', device: 'd' });
const agent = new Agent(connection);
const writer = agent.startStream();
writer.write('hi');
const aborted: boolean = writer.signal.aborted;
const ack: Promise<AppendAck | undefined> = writer.end();
const store = new SessionStore(connection);
const view: SessionView = store.getView();
const text: string | undefined = view.messages[0]?.text;
connection.onEvent('stream.delta', (e) => e.text.toUpperCase());
const describe = (e: SessionEvent): string => (e.type === 'signal' ? e.kind : e.type === 'message' ? e.text : e.type);
const frame: ClientFrame = { type: 'stream.delta', messageId: 'r', text: 'x' };
// @ts-expect-error a delta needs its text
const wrong: ClientFrame = { type: 'stream.delta', messageId: 'r' };
const rest = new RestClient({ url: 'http://localhost:8080', token: 't' });
const page = rest.history('s', { after: 0 });
const isCode = (e: unknown) => e instanceof DurableSessionsError && e.code === 'session_not_found' && e.retryAfterMs === undefined;
void [aborted, ack, text, describe, frame, wrong, page, isCode, foldEvents, WebStorageOffsetStore];
`,
  );
  run(join(root, 'node_modules/.bin/tsc'), ['-p', consumer], consumer);
  writeFileSync(
    join(consumer, 'run.mjs'),
    `import * as client from '@durable-sessions/client';
const names = ['connect', 'SessionConnection', 'Agent', 'Participant', 'StreamWriter', 'RestClient', 'reduceSession', 'foldEvents', 'SessionStore', 'DurableSessionsError', 'MemoryOffsetStore', 'WebStorageOffsetStore', 'Producer', 'backoffDelay'];
const missing = names.filter((n) => typeof client[n] !== 'function');
if (missing.length > 0) throw new Error('missing exports: ' + missing.join(', '));
const view = client.foldEvents([{ type: 'state.committed', offset: 1, by: { id: 'a', role: 'agent', subject: 'a' }, at: 'x', turn: 0, attempt: 1, provenance: 'unverified', evictedKeys: [], patch: [{ op: 'add', path: '/files_modified/-', value: 'a.ts' }] }]);
if (view.state.files_modified[0] !== 'a.ts') throw new Error('the JSON Patch dependency did not load');
console.log('package ok: ' + names.length + ' exports, types check');
`,
  );
  process.stdout.write(run('node', ['run.mjs'], consumer));

  // The AI SDK entry point: packed, not loaded by the main one (which just ran without `ai`
  // installed), and with `ai` installed its declarations type-check a consumer and it loads.
  for (const needed of ['package/dist/ai/index.js', 'package/dist/ai/index.d.ts']) {
    if (!listing.includes(needed)) throw new Error(`the tarball lacks ${needed}`);
  }
  const aiVersion = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).devDependencies.ai;
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', `ai@${aiVersion}`], consumer);
  writeFileSync(
    join(consumer, 'tsconfig.ai.json'),
    JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, lib: ['ES2022', 'DOM'], types: [] },
      include: ['consumer-ai.ts'],
    }),
  );
  writeFileSync(
    join(consumer, 'consumer-ai.ts'),
    `import type { ChatTransport, UIMessage } from 'ai';
import { Agent, connect } from '@durable-sessions/client';
import { SessionChatTransport, streamAnswer, type AnswerResult } from '@durable-sessions/client/ai';

const connection = connect({ url: 'http://localhost:8080', sessionId: 's', token: 't', device: 'd' });
const transport: ChatTransport<UIMessage> = new SessionChatTransport({ connection });
const loaded: Promise<UIMessage[]> = new SessionChatTransport({ connection }).loadMessages();
const answer = (agent: Agent): Promise<AnswerResult> =>
  streamAnswer(agent, { messages: [], generate: () => ({ toUIMessageStream: () => new ReadableStream(), responseMessages: Promise.resolve([]) }) });
void [transport, loaded, answer];
`,
  );
  run(join(root, 'node_modules/.bin/tsc'), ['-p', join(consumer, 'tsconfig.ai.json')], consumer);
  process.stdout.write(
    run('node', ['--input-type=module', '-e', "const ai = await import('@durable-sessions/client/ai'); if (typeof ai.SessionChatTransport !== 'function' || typeof ai.streamAnswer !== 'function') throw new Error('missing AI SDK exports'); console.log('ai entry point ok: types check, it loads with ai ' + (await import('ai/package.json', { with: { type: 'json' } })).default.version);"], consumer),
  );
  // The webhook receiver entry point (Node only): packed, its declarations type-check a consumer
  // that hands it to node:http, and it verifies what it signs.
  for (const needed of ['package/dist/webhook/index.js', 'package/dist/webhook/index.d.ts']) {
    if (!listing.includes(needed)) throw new Error(`the tarball lacks ${needed}`);
  }
  const nodeTypes = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).devDependencies['@types/node'];
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', `@types/node@${nodeTypes}`], consumer);
  writeFileSync(
    join(consumer, 'tsconfig.webhook.json'),
    JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, lib: ['ES2022'], types: ['node'] },
      include: ['consumer-webhook.ts'],
    }),
  );
  writeFileSync(
    join(consumer, 'consumer-webhook.ts'),
    `import { createServer } from 'node:http';
import { verifyWebhookSignature, webhookHandler, WebhookSignatureError, type WebhookPayload } from '@durable-sessions/client/webhook';

const server = createServer(webhookHandler({ secret: 's', handle: async (p: WebhookPayload, d) => { void [p.sessionId, p.token, p.resume.head, d.attempt]; } }));
const check = (raw: string, header: string): WebhookPayload => verifyWebhookSignature({ secret: 's', header, rawBody: raw });
const isCode = (e: unknown) => e instanceof WebhookSignatureError && e.code === 'signature_mismatch';
void [server, check, isCode];
`,
  );
  run(join(root, 'node_modules/.bin/tsc'), ['-p', join(consumer, 'tsconfig.webhook.json')], consumer);
  process.stdout.write(
    run('node', ['--input-type=module', '-e', "const w = await import('@durable-sessions/client/webhook'); const body = JSON.stringify({ sessionId: 's', pool: 'p', fromOffset: 1, idempotencyKey: 'k', token: 't' }); const t = Math.floor(Date.now() / 1000); const p = w.verifyWebhookSignature({ secret: 'x', header: 't=' + t + ',v1=' + w.webhookSignature('x', t, body), rawBody: body }); if (p.sessionId !== 's' || typeof w.webhookHandler !== 'function') throw new Error('webhook entry point broken'); console.log('webhook entry point ok: types check, it verifies');"], consumer),
  );
  console.log(`1 passed, 0 failed: npm pack gives a typed package (${tarball})`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
