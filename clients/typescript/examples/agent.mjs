// An agent that answers every user message of a session with the Vercel AI SDK: streamText
// with two tools (`weather`, and `deleteFile`, which needs the user's approval), piped into the
// session by streamAnswer. Without a model key it uses the AI SDK's mock model (`ai/test`),
// which streams a scripted answer; with OPENAI_API_KEY set and `@ai-sdk/openai` installed it
// uses OpenAI. Stop it with Ctrl-C. See examples/README.md.
//
//   DS_URL        the node (default http://127.0.0.1:8080)
//   DS_SESSION    the session to answer in (default `ai-demo`; created if it does not exist)
//   DS_TOKEN      an agent token; default: one signed with DS_JWT_SECRET, or with the public
//                 dev-mode secret (a node started with DS_DEV_MODE=true and no secret)
//   OPENAI_API_KEY, DS_OPENAI_MODEL (default gpt-4o-mini)   optional: a real model
import { simulateReadableStream, stepCountIs, streamText, tool } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import { z } from 'zod';
import { Agent, connect, isDurableSessionsError } from '@durable-sessions/client';
import { streamAnswer } from '@durable-sessions/client/ai';
import { signToken } from './sign-token.mjs';

const url = process.env.DS_URL ?? 'http://127.0.0.1:8080';
const sessionId = process.env.DS_SESSION ?? 'ai-demo';

const tools = {
  weather: tool({
    description: 'The current weather in a city',
    inputSchema: z.object({ city: z.string() }),
    execute: async ({ city }) => ({ city, sky: 'sunny', celsius: 21 }),
  }),
  deleteFile: tool({
    description: 'Delete a file (asks the user first)',
    inputSchema: z.object({ path: z.string() }),
    needsApproval: true,
    execute: async ({ path }) => ({ deleted: path }),
  }),
};

/** The model: OpenAI when configured, else the AI SDK's mock model playing a short script. */
async function chooseModel() {
  if (process.env.OPENAI_API_KEY) {
    try {
      const { openai } = await import('@ai-sdk/openai');
      const name = process.env.DS_OPENAI_MODEL ?? 'gpt-4o-mini';
      console.log(`model: OpenAI ${name}`);
      return openai(name);
    } catch {
      console.log('OPENAI_API_KEY is set but @ai-sdk/openai is not installed (npm install @ai-sdk/openai): using the mock model');
    }
  }
  console.log('model: the AI SDK mock model (no key needed)');
  return scriptedMockModel();
}

const usage = { inputTokens: { total: 0, noCache: 0, cacheRead: undefined, cacheWrite: undefined }, outputTokens: { total: 0, text: 0, reasoning: undefined } };

/** Mock model: calls `weather` (and `deleteFile` when asked to delete), then answers with the results. */
function scriptedMockModel() {
  const words = (text) => text.split(/(?<= )/);
  const say = (id, text) => [{ type: 'text-start', id }, ...words(text).map((delta) => ({ type: 'text-delta', id, delta })), { type: 'text-end', id }];
  const call = (id, toolName, input) => [
    { type: 'tool-input-start', id, toolName },
    { type: 'tool-input-delta', id, delta: JSON.stringify(input) },
    { type: 'tool-input-end', id },
    { type: 'tool-call', toolCallId: id, toolName, input: JSON.stringify(input) },
  ];
  return new MockLanguageModelV4({
    doStream: async ({ prompt }) => {
      const last = prompt[prompt.length - 1];
      const question = [...prompt].reverse().find((m) => m.role === 'user')?.content.map((p) => p.text ?? '').join('') ?? '';
      let parts;
      let finish = 'stop';
      if (last.role === 'user') {
        const city = /in ([A-Z][a-z]+)/.exec(question)?.[1] ?? 'Paris';
        parts = [...say('t1', `Let me check the weather in ${city}. `), ...call(`weather-${Date.now()}`, 'weather', { city })];
        finish = 'tool-calls';
      } else {
        const results = prompt.filter((m) => m.role === 'tool').flatMap((m) => m.content).filter((p) => p.type === 'tool-result');
        const weather = results.find((r) => r.toolName === 'weather')?.output.value;
        const deletion = results.find((r) => r.toolName === 'deleteFile');
        const path = /delete (\S+)/.exec(question)?.[1];
        if (path !== undefined && deletion === undefined) {
          parts = [...say('t2', `It is ${weather?.celsius} °C and ${weather?.sky} in ${weather?.city}. Now deleting ${path}. `), ...call(`delete-${Date.now()}`, 'deleteFile', { path })];
          finish = 'tool-calls';
        } else if (deletion !== undefined) {
          const denied = deletion.output.type === 'execution-denied';
          parts = say('t3', denied ? `Fine, I left ${path} alone.` : `Done: ${path} is deleted.`);
        } else {
          parts = say('t2', `It is ${weather?.celsius} °C and ${weather?.sky} in ${weather?.city}. Anything else?`);
        }
      }
      const chunks = [{ type: 'stream-start', warnings: [] }, ...parts, { type: 'finish', finishReason: { unified: finish, raw: finish }, usage }];
      return { stream: simulateReadableStream({ chunks, chunkDelayInMs: 40 }) };
    },
  });
}

const token = process.env.DS_TOKEN ?? signToken('example-agent', 'agent');
const model = await chooseModel();
const connection = connect({ url, sessionId, token, device: 'example-agent' });
try {
  await connection.rest.createSession(sessionId);
  console.log(`created session ${sessionId}`);
} catch (error) {
  if (!isDurableSessionsError(error, 'session_exists')) throw error;
}
const agent = new Agent(connection);
await connection.whenLive();

// The conversation for the model: the users' messages and this agent's answers, from the session.
const conversation = [];
const answers = new Map(); // this agent's open answers: messageId -> text so far
connection.onEvent('stream.started', (event) => {
  if (event.by.id === agent.me?.id) answers.set(event.messageId, '');
});
connection.onEvent('stream.delta', (event) => {
  if (answers.has(event.messageId)) answers.set(event.messageId, answers.get(event.messageId) + event.text);
});
connection.onEvent('stream.ended', (event) => {
  if (!answers.has(event.messageId)) return;
  conversation.push({ role: 'assistant', content: answers.get(event.messageId) });
  answers.delete(event.messageId);
});
connection.onEvent('message', (message, { backlog }) => {
  if (message.by.role !== 'user') return;
  conversation.push({ role: 'user', content: message.text });
  if (backlog) return; // answered (or not) before this process started
  console.log(`question at offset ${message.offset}: ${message.text}`);
  streamAnswer(agent, {
    question: message,
    messages: [...conversation],
    generate: ({ messages, abortSignal }) =>
      streamText({ model, tools, instructions: 'You are a helpful agent in a Durable Sessions session.', messages, abortSignal, stopWhen: stepCountIs(5) }),
    approvalText: ({ toolName, input }) => `may I run ${toolName} ${JSON.stringify(input)}?`,
  }).then(
    (answer) => console.log(`answer ${answer.messageId} ended: ${answer.end?.reason}`),
    (error) => console.error('answer failed:', error),
  );
});
console.log(`answering in session ${sessionId} at ${url} as ${agent.me?.id}`);
if (process.env.DS_TOKEN === undefined) console.log(`a user token for examples/chat.mjs: DS_TOKEN=${signToken('example-user', 'user')}`);

const stop = () => {
  connection.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
