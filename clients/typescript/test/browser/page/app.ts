/**
 * The page of the browser test: a chat as a user of one session, as an app would write it with
 * the AI SDK. It keeps the connection's offset in localStorage and its device ID too, loads the
 * conversation from the session, then resumes the answer in flight (as useChat({ resume: true })
 * does on mount). window.chatPage lets the test drive and read it. Bundled by the test with
 * esbuild; nothing is fetched from elsewhere.
 */
import { AbstractChat, type ChatInit, type ChatState, type UIMessage } from 'ai';
import { connect, WebStorageOffsetStore } from '../../../src/index.js';
import { SessionChatTransport } from '../../../src/ai/index.js';

class PageChat extends AbstractChat<UIMessage> {
  constructor(init: ChatInit<UIMessage>, onChange: () => void) {
    const state: ChatState<UIMessage> = {
      status: 'ready',
      error: undefined,
      messages: init.messages ?? [],
      pushMessage(message) {
        state.messages = [...state.messages, message];
        onChange();
      },
      popMessage() {
        state.messages = state.messages.slice(0, -1);
        onChange();
      },
      replaceMessage(index, message) {
        state.messages = state.messages.map((m, i) => (i === index ? message : m));
        onChange();
      },
      snapshot: (thing) => structuredClone(thing),
    };
    super({ ...init, state });
  }
}

const params = new URLSearchParams(location.search);
const sessionId = params.get('session')!;
const token = params.get('token')!;
let device = localStorage.getItem('chat-device');
if (device === null) {
  device = `tab-${crypto.randomUUID()}`;
  localStorage.setItem('chat-device', device);
}

const attachedAfter: number[] = [];
const connection = connect({ url: location.origin, sessionId, token, device, offsetStore: new WebStorageOffsetStore(localStorage) });
connection.on('attached', (frame) => attachedAfter.push(frame.after));
const transport = new SessionChatTransport({ connection });

const list = document.getElementById('messages')!;
const render = () => {
  list.replaceChildren(
    ...chat.messages.map((m) => {
      const li = document.createElement('li');
      li.dataset['role'] = m.role;
      li.textContent = m.parts.flatMap((p) => (p.type === 'text' ? [p.text] : [])).join('');
      return li;
    }),
  );
};
const chat = new PageChat({ id: sessionId, transport, messages: await transport.loadMessages() }, () => render());
render();
const resumed = chat.resumeStream();

(window as unknown as { chatPage: unknown }).chatPage = {
  device,
  attachedAfter,
  resumed: resumed.then(() => true),
  state: () => ({ status: chat.status, error: chat.error?.message, messages: structuredClone(chat.messages) }),
  send: (text: string) => chat.sendMessage({ text }),
};
document.body.dataset['ready'] = 'yes';
