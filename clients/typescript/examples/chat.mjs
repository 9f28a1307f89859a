// A user in the terminal: asks a question in a session through the AI SDK's Chat and
// SessionChatTransport (what useChat does in a page), prints the answer as it streams, and asks
// on the terminal when the agent wants approval for a tool call. See examples/README.md.
//
//   node examples/chat.mjs "What is the weather in Paris? Then delete notes/a.txt"
//
//   DS_URL, DS_SESSION (default ai-demo), DS_TOKEN (a user token; default signed like agent.mjs)
//   DS_APPROVE=yes|no   answer approvals without asking
import { createInterface } from 'node:readline/promises';
import { AbstractChat, lastAssistantMessageIsCompleteWithApprovalResponses } from 'ai';
import { SessionChatTransport } from '@durable-sessions/client/ai';
import { signToken } from './sign-token.mjs';

const url = process.env.DS_URL ?? 'http://127.0.0.1:8080';
const sessionId = process.env.DS_SESSION ?? 'ai-demo';
const question = process.argv.slice(2).join(' ') || 'What is the weather in Paris?';

/** The AI SDK's Chat with a plain state that prints the answer as it grows. */
class TerminalChat extends AbstractChat {
  constructor(init) {
    let printed = 0;
    const show = (message) => {
      if (message.role !== 'assistant') return;
      const text = message.parts.map((p) => (p.type === 'text' ? p.text : p.type.startsWith('tool-') && p.state === 'output-available' ? ` [${p.type.slice(5)} → ${JSON.stringify(p.output)}] ` : '')).join('');
      process.stdout.write(text.slice(printed));
      printed = Math.max(printed, text.length);
    };
    const state = {
      status: 'ready',
      error: undefined,
      messages: init.messages ?? [],
      pushMessage: (m) => ((state.messages = [...state.messages, m]), show(m)),
      popMessage: () => (state.messages = state.messages.slice(0, -1)),
      replaceMessage: (i, m) => ((state.messages = state.messages.map((x, j) => (j === i ? m : x))), show(m)),
      snapshot: (thing) => structuredClone(thing),
    };
    super({ ...init, state });
  }
}

const transport = SessionChatTransport.connect({ url, sessionId, token: process.env.DS_TOKEN ?? signToken('example-user', 'user'), device: 'terminal' });
const chat = new TerminalChat({ id: sessionId, transport, sendAutomaticallyWhen: lastAssistantMessageIsCompleteWithApprovalResponses });

console.log(`> ${question}`);
await chat.sendMessage({ text: question });
for (;;) {
  const asking = chat.lastMessage?.parts.find((p) => p.state === 'approval-requested');
  if (asking === undefined) break;
  let answer = process.env.DS_APPROVE;
  if (answer === undefined) {
    const terminal = createInterface({ input: process.stdin, output: process.stdout });
    answer = await terminal.question(`\nthe agent asks to run ${asking.type.slice(5)} ${JSON.stringify(asking.input)}: approve? [y/n] `);
    terminal.close();
  }
  const approved = /^y/i.test(answer);
  await chat.addToolApprovalResponse({ id: asking.approval.id, approved, reason: approved ? undefined : 'the user said no' });
  // the approval's answer continues the same message; wait for that request to end
  while (chat.status !== 'ready' || chat.lastMessage?.parts.some((p) => p.state === 'approval-responded')) await new Promise((r) => setTimeout(r, 50));
}
console.log(`\n(${chat.lastMessage?.id}: ${chat.status}${chat.error === undefined ? '' : `, ${chat.error.message}`})`);
transport.close();
