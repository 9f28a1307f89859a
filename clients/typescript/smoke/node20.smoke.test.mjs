// Node 20 smoke test: the built package (dist/) works under the machine's Node 20 with the
// `ws` package passed in, against a real node from the jar with the built-in demo agent on:
// a user asks, the demo agent answers by streaming, our own agent streams too, and the views
// equal the history. Run by `npm test` with /usr/bin/node.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SignJWT } from 'jose';
import { WebSocket } from 'ws';
import { Agent, connect, foldEvents, Participant, RestClient, SessionStore } from '../dist/index.js';
import { startNode, TEST_SECRET } from '../test/support/node-process.mjs';

const key = new TextEncoder().encode(TEST_SECRET);
const token = (sub, role) =>
  new SignJWT({ role, sessions: ['*'] })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer('durable-sessions')
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(key);

async function waitFor(condition, what, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

let node;
before(async () => {
  node = await startNode({ demoAgent: true });
});
after(async () => {
  await node?.stop();
});

test('runs on Node 20 or later', () => {
  const major = Number(process.versions.node.split('.')[0]);
  console.log(`node ${process.versions.node}`);
  assert.ok(major >= 20);
});

test('asks for a WebSocket implementation where there is no global one', { skip: typeof globalThis.WebSocket === 'function' }, () => {
  assert.throws(() => connect({ url: node.url, sessionId: 'x', token: 't' }), /pass options\.WebSocket/);
});

test('a user asks, the demo agent streams its answer, and the view equals the history', async () => {
  const rest = new RestClient({ url: node.url, getToken: () => token('ada', 'user') });
  const { sessionId } = await rest.createSession(`smoke-${Date.now()}`);
  const connection = connect({ url: node.url, sessionId, device: 'smoke-tab', getToken: () => token('ada', 'user'), WebSocket });
  const store = new SessionStore(connection);
  try {
    await connection.whenLive();
    const user = new Participant(connection);
    await user.sendMessage('hello from Node 20');
    const answer = await waitFor(
      () => store.getView().messages.find((m) => m.kind === 'stream' && m.by.id === 'demo-agent' && m.state === 'complete'),
      'the demo agent to finish its answer',
    );
    assert.match(answer.text, /^You said: "hello from Node 20"/);

    const history = [];
    for await (const e of rest.events(sessionId)) history.push(e);
    await waitFor(() => connection.lastOffset >= history.at(-1).offset, 'the connection to reach the history head');
    const view = store.getView();
    assert.deepEqual(view, foldEvents(history.filter((e) => e.offset <= view.offset)));
  } finally {
    connection.close();
  }
});

test('an agent written with the package streams exactly what it wrote', async () => {
  const rest = new RestClient({ url: node.url, getToken: () => token('ada', 'user') });
  const { sessionId } = await rest.createSession(`smoke-agent-${Date.now()}`);
  const agent = new Agent(connect({ url: node.url, sessionId, device: 'smoke-agent', getToken: () => token('bot', 'agent'), WebSocket }));
  try {
    await agent.connection.whenLive();
    const writer = agent.startStream({ messageId: 'smoke-answer' });
    const words = Array.from({ length: 200 }, (_, i) => `w${i} `);
    for (const w of words) writer.write(w);
    await writer.end();
    const history = [];
    for await (const e of rest.events(sessionId)) history.push(e);
    const text = history.filter((e) => e.type === 'stream.delta' && e.messageId === 'smoke-answer').map((e) => e.text).join('');
    assert.equal(text, words.join(''));
  } finally {
    agent.close();
  }
});
