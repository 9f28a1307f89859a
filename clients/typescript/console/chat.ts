/**
 * The chat page: a plain chat with the session's agent, on the TypeScript SDK. The page folds
 * the whole session from offset 0 on every load, so a reload mid-answer shows the answer so far
 * and the rest as it streams, each token once; two tabs on the same session show the same
 * text. The connection's state is always visible; "Stop" interrupts the agent on the server.
 */
import { Participant, SessionStore, connect, type MessageView, type SessionConnection } from '../src/index.js';
import { DEV_HINT, claims, describe, fill, h, notice, rest, signIn, signOut } from './shared.js';

const root = document.getElementById('app') as HTMLElement;

async function main(): Promise<void> {
  const token = await signIn(root, 'Chat', DEV_HINT);
  const params = new URLSearchParams(location.search);
  let sessionId = params.get('session') ?? undefined;
  if (sessionId === undefined) {
    try {
      sessionId = (await rest(token).createSession()).sessionId;
    } catch (error) {
      fill(root, h('p', { class: 'notice error', role: 'alert' }, `Could not start a conversation: ${describe(error)}`), signOutButton());
      return;
    }
    params.set('session', sessionId);
    history.replaceState(null, '', `${location.pathname}?${params.toString()}`);
  }
  show(token, sessionId);
}

function signOutButton(): HTMLElement {
  return h('button', { type: 'button', class: 'link', onclick: () => signOut() }, 'Sign out');
}

function show(token: string, sessionId: string): void {
  const me = claims(token).sub;
  const state = h('span', { id: 'connection-state', class: 'state', role: 'status', 'aria-live': 'polite' }, 'connecting');
  const transcript = h('ol', { id: 'transcript', class: 'transcript', 'aria-label': 'Conversation', 'aria-live': 'polite' });
  const input = h('input', { id: 'message', name: 'message', type: 'text', autocomplete: 'off', required: true });
  const send = h('button', { type: 'submit', id: 'send' }, 'Send');
  const stop = h('button', { type: 'button', id: 'stop', disabled: true }, 'Stop');
  const status = h('p', { id: 'chat-notice', class: 'notice', role: 'alert' });
  const form = h('form', { class: 'composer', 'aria-label': 'Write a message' },
    h('label', { for: 'message', class: 'visually-hidden' }, 'Message'), input, send, stop);
  fill(root,
    h('header', { class: 'bar' },
      h('h1', {}, 'Chat'),
      h('span', { class: 'muted' }, `session ${sessionId}`),
      h('span', {}, 'Connection: ', state),
      h('a', { href: `/chat`, class: 'link' }, 'New conversation'),
      signOutButton()),
    h('main', { class: 'chat' }, transcript, status, form));

  const connection: SessionConnection = connect({
    url: location.origin,
    sessionId,
    token,
    device: deviceId(sessionId),
    offset: 0,
  });
  const store = new SessionStore(connection);
  const participant = new Participant(connection);
  connection.on('state', (s) => {
    state.textContent = s;
    state.dataset.state = s;
  });
  connection.on('closed', (error) => {
    if (error !== undefined) notice(status, `Disconnected: ${describe(error)}`);
  });
  store.subscribe((view) => {
    fill(transcript, ...view.messages.map((m) => message(m, me)));
    transcript.dataset.offset = String(view.offset);
    const streaming = Object.keys(view.openStreams).length > 0;
    stop.disabled = !streaming;
    transcript.lastElementChild?.scrollIntoView({ block: 'end' });
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (text === '') return;
    input.value = '';
    participant.sendMessage(text).then(
      () => notice(status, '', 'ok'),
      (error: unknown) => notice(status, describe(error)),
    );
  });
  stop.addEventListener('click', () => {
    participant.interrupt({ role: 'agent' }).then(
      () => notice(status, 'Stopped the answer.', 'ok'),
      (error: unknown) => notice(status, describe(error)),
    );
  });
  input.focus();
}

function message(m: MessageView, me: string | undefined): HTMLElement {
  const mine = m.by.id === me;
  return h('li', { class: `message ${mine ? 'mine' : m.by.role}`, 'data-offset': m.offset, 'data-state': m.state, 'data-message-id': m.messageId },
    h('span', { class: 'by' }, mine ? 'You' : `${m.by.id} (${m.by.role})`),
    h('p', { class: 'text' }, m.text),
    m.state === 'streaming' ? h('span', { class: 'muted' }, 'writing…') : undefined,
    m.state === 'cancelled' ? h('span', { class: 'muted' }, 'stopped') : undefined,
    m.error !== undefined ? h('span', { class: 'notice error' }, m.error) : undefined);
}

/** One device per tab and session: a reload is the same device coming back. */
function deviceId(sessionId: string): string {
  const key = `durable-sessions.device.${sessionId}`;
  let id = sessionStorage.getItem(key);
  if (id === null) {
    id = `tab-${Math.random().toString(36).slice(2, 10)}`;
    sessionStorage.setItem(key, id);
  }
  return id;
}

void main();
