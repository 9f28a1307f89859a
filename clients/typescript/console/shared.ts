/**
 * What the console and the chat page share: the pasted token (kept in this tab's
 * sessionStorage only), the SDK's REST client for this node, small DOM helpers, and how a
 * refusal is shown (as the server words it).
 */
import { RestClient, isDurableSessionsError, tokenExpiry } from '../src/index.js';

const TOKEN_KEY = 'durable-sessions.token';

export function storedToken(): string | undefined {
  return sessionStorage.getItem(TOKEN_KEY) ?? undefined;
}

export function signOut(): void {
  sessionStorage.removeItem(TOKEN_KEY);
  location.reload();
}

/** The role and subject a token claims (read without verifying: the server verifies). */
export function claims(token: string): { sub?: string; role?: string } {
  try {
    const payload = token.split('.')[1] ?? '';
    return JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as { sub?: string; role?: string };
  } catch {
    return {};
  }
}

export function rest(token: string): RestClient {
  return new RestClient({ url: location.origin, token });
}

/** A refusal as the server words it: `code: message`. */
export function describe(error: unknown): string {
  if (isDurableSessionsError(error)) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

type Child = Node | string | undefined | null | false;

/** A DOM element with attributes (on* attributes become listeners) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | boolean | number | ((e: Event) => void) | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children) if (c !== undefined && c !== null && c !== false) el.append(c);
  return el;
}

/** Replaces an element's children. */
export function fill(el: Element, ...children: Child[]): void {
  el.replaceChildren(...children.filter((c): c is Node | string => c !== undefined && c !== null && c !== false));
}

/** A status line for refusals and confirmations, announced to screen readers. */
export function notice(el: HTMLElement, text: string, kind: 'error' | 'ok' = 'error'): void {
  el.textContent = text;
  el.className = `notice ${kind}`;
}

/**
 * Shows the sign-in form until a token is pasted; resolves with it. `hint` says how to get
 * one (in dev mode the node prints tokens at start).
 */
export function signIn(root: HTMLElement, title: string, hint: string): Promise<string> {
  const existing = storedToken();
  if (existing !== undefined) {
    const exp = tokenExpiry(existing);
    if (exp === undefined || exp > Date.now()) return Promise.resolve(existing);
    sessionStorage.removeItem(TOKEN_KEY);
  }
  return new Promise((resolve) => {
    const input = h('textarea', { id: 'token', rows: 4, required: true, autocomplete: 'off', spellcheck: 'false' });
    const form = h(
      'form',
      { class: 'sign-in', 'aria-labelledby': 'sign-in-title' },
      h('h1', { id: 'sign-in-title' }, title),
      h('label', { for: 'token' }, 'Paste a token'),
      input,
      h('p', { class: 'hint' }, hint),
      h('button', { type: 'submit' }, 'Sign in'),
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const token = input.value.trim();
      if (token === '') return;
      sessionStorage.setItem(TOKEN_KEY, token);
      resolve(token);
    });
    fill(root, form);
    input.focus();
  });
}

export const DEV_HINT =
  'A node started in dev mode (DS_DEV_MODE=true) prints tokens when it starts: DS_TOKEN (a user), ' +
  'DS_SUPPORT_TOKEN and DS_HUMAN_TOKEN (support staff), DS_AGENT_TOKEN. Otherwise ask your identity provider for one.';

export function time(iso: string | undefined): string {
  if (iso === undefined) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleTimeString();
}
