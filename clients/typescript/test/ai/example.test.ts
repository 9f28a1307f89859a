/**
 * The example agent (examples/agent.mjs) runs as its README says: started as a process against
 * the node, it answers a user's question, asked through SessionChatTransport, with its mock
 * model and the weather tool. It imports the built package (npm run build).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { SessionChatTransport } from '../../src/ai/index.js';
import { TEST_SECRET } from '../support/node.js';
import { waitFor } from '../support/wait.js';
import { connectAs, nodeUrl, uniqueId } from '../integration/harness.js';
import { TestChat, texts } from './support.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');

describe('examples/agent.mjs', () => {
  const cleanup: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it('answers a question in its session with the mock model and a tool', async () => {
    expect(existsSync(join(root, 'dist/ai/index.js')), 'the example imports the built package: run npm run build').toBe(true);
    const sessionId = uniqueId('example');
    const child = spawn(process.execPath, ['examples/agent.mjs'], {
      cwd: root,
      env: { ...process.env, DS_URL: nodeUrl(), DS_SESSION: sessionId, DS_JWT_SECRET: TEST_SECRET, OPENAI_API_KEY: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    cleanup.push(async () => {
      child.kill('SIGTERM');
      await exited;
    });
    await waitFor(() => output.includes('answering in session') || (child.exitCode !== null && Promise.reject(new Error(output))), {
      what: 'the example agent to start',
    });
    expect(output).toContain('model: the AI SDK mock model');

    const connection = await connectAs('ada', 'user', sessionId);
    cleanup.push(() => connection.close());
    const chat = new TestChat({ id: sessionId, transport: new SessionChatTransport({ connection }) });
    await chat.sendMessage({ text: 'What is the weather in Lyon?' });
    const answer = chat.answer()!;
    expect(chat.status).toBe('ready');
    expect(texts(answer).join('')).toBe('Let me check the weather in Lyon. It is 21 °C and sunny in Lyon. Anything else?');
    expect(answer.parts.find((p) => p.type === 'tool-weather')).toMatchObject({
      state: 'output-available',
      input: { city: 'Lyon' },
      output: { city: 'Lyon', sky: 'sunny', celsius: 21 },
    });
    await waitFor(() => output.includes(`answer ${answer.id} ended: complete`), { what: 'the agent to log the end of its answer' });
  });
});
