/**
 * The node's own pages in headless Chromium (Debian's /usr/bin/chromium via playwright-core),
 * served by the node from its jar: the chat page and the support console, on the SDK. Each person
 * has a browser context of their own (their own sessionStorage: their pasted token). Agents are
 * the tests' own, piping scripted AI SDK models into the session.
 *
 * Without chromium the tests are skipped, saying why; under CI=true they fail instead.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Role, SessionEvent } from '../../src/index.js';
import { token } from '../support/tokens.js';
import { waitFor } from '../support/wait.js';
import { agentAs, newSession, nodeUrl, restAs } from '../integration/harness.js';
import { answerWith, Gate, scriptedModel, text, words, type Step } from '../ai/support.js';

const CHROMIUM = '/usr/bin/chromium';
const DOCS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'docs');

let browser: Browser | undefined;
let skipWhy: string | undefined;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    skipWhy = `no Chromium at ${CHROMIUM} (Debian: apt-get install chromium)`;
    if (process.env['CI'] === 'true') throw new Error(`${skipWhy}: the browser tests are required under CI=true`);
    return;
  }
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-background-networking'] });
});
afterAll(async () => {
  await browser?.close();
});

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** A page signed in as {@code sub}: its token is in the tab's sessionStorage before the page runs. */
async function pageAs(sub: string, role: Exclude<Role, 'system'>, path: string): Promise<{ page: Page; errors: string[] }> {
  const context: BrowserContext = await browser!.newContext({ viewport: { width: 1280, height: 900 } });
  cleanup.push(() => context.close());
  const t = await token({ sub, role });
  await context.addInitScript((value) => sessionStorage.setItem('durable-sessions.token', value), t);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${nodeUrl()}${path}`);
  return { page, errors };
}

const messages = (page: Page, list: string) => page.locator(`${list} li.message .text`).allTextContents();

function answers(count: number, gate?: Gate): Step[] {
  return Array.from({ length: count }, (_, i) => {
    const parts: Step['parts'] = text(`a${i}`, words(i, 30));
    if (i === 0 && gate !== undefined) parts.splice(11, 0, gate);
    return { parts, finish: 'stop' as const };
  });
}

describe('the chat page', () => {
  it('resumes an answer after a reload, once, and two tabs show the same text', async (ctx) => {
    if (skipWhy !== undefined) return ctx.skip(skipWhy);
    const sessionId = await newSession('chat-page');
    const gate = new Gate();
    const agent = await agentAs('bot', sessionId);
    cleanup.push(() => agent.close());
    const bot = answerWith(agent, scriptedModel(answers(1, gate)).model, { approveDelete: false });

    const { page, errors } = await pageAs('ada', 'user', `/chat?session=${sessionId}`);
    await page.locator('#connection-state[data-state="live"]').waitFor();
    await page.locator('#message').fill('Tell me a story');
    await page.keyboard.press('Enter');
    await waitFor(async () => (await messages(page, '#transcript')).some((t) => t.includes('w0.9')), { what: 'the first words of the answer' });

    // Reload while the agent is held after 10 words; the page comes back and shows them again.
    await page.reload();
    await page.locator('#connection-state[data-state="live"]').waitFor();
    const second = await browser!.contexts()[0]!.newPage();
    await second.goto(`${nodeUrl()}/chat?session=${sessionId}`);
    await second.locator('#connection-state[data-state="live"]').waitFor();
    gate.release();
    const result = await bot.answers[0]!;
    expect(result.end).toMatchObject({ reason: 'complete' });
    const full = words(0, 30).join('');
    for (const p of [page, second]) {
      await waitFor(async () => (await messages(p, '#transcript')).includes(full), { what: 'the whole answer on both tabs' });
      expect(await messages(p, '#transcript')).toEqual(['Tell me a story', full]);
    }
    mkdirSync(DOCS, { recursive: true });
    await page.screenshot({ path: join(DOCS, 'chat.png') });
    expect(errors).toEqual([]);
  });

  it('stops an answer on the server with Stop', async (ctx) => {
    if (skipWhy !== undefined) return ctx.skip(skipWhy);
    const sessionId = await newSession('chat-stop');
    const gate = new Gate();
    const agent = await agentAs('bot', sessionId);
    cleanup.push(() => agent.close());
    const bot = answerWith(agent, scriptedModel(answers(1, gate)).model, { approveDelete: false });
    const { page } = await pageAs('ada', 'user', `/chat?session=${sessionId}`);
    await page.locator('#connection-state[data-state="live"]').waitFor();
    await page.locator('#message').fill('Go on forever');
    await page.locator('#send').click();
    await page.locator('#stop:not([disabled])').waitFor();
    await page.locator('#stop').click();
    const result = await bot.answers[0]!;
    expect(result.end).toMatchObject({ reason: 'cancelled' });
    await page.locator('#transcript li.message[data-state="cancelled"]').waitFor();
    expect(await page.locator('#stop').isDisabled()).toBe(true);
  });
});

describe('at a phone\'s width', () => {
  it('shows the chat page and the console without sideways scrolling', async (ctx) => {
    if (skipWhy !== undefined) return ctx.skip(skipWhy);
    const sessionId = await newSession('phone');
    for (const [sub, role, path, ready] of [
      ['ada', 'user', `/chat?session=${sessionId}`, '#connection-state[data-state="live"]'],
      ['sue', 'support', `/console?session=${sessionId}`, '#session-connection[data-state="live"]'],
    ] as const) {
      const context = await browser!.newContext({ viewport: { width: 390, height: 844 } });
      cleanup.push(() => context.close());
      const t = await token({ sub, role });
      await context.addInitScript((value) => sessionStorage.setItem('durable-sessions.token', value), t);
      const page = await context.newPage();
      await page.goto(`${nodeUrl()}${path}`);
      await page.locator(ready).waitFor();
      const widths = await page.evaluate(() => ({ content: document.documentElement.scrollWidth, viewport: window.innerWidth }));
      expect(widths.content, `${path} at 390 px`).toBeLessThanOrEqual(widths.viewport);
    }
  });
});

describe('the support console', () => {
  it('does a warm transfer end to end: transfer with a note, accept, write, hand back, and the agent answers again', async (ctx) => {
    if (skipWhy !== undefined) return ctx.skip(skipWhy);
    const sessionId = await newSession('warm');
    const agent = await agentAs('bot', sessionId);
    cleanup.push(() => agent.close());
    const bot = answerWith(agent, scriptedModel(answers(2)).model, { approveDelete: false });

    const chat = (await pageAs('ada', 'user', `/chat?session=${sessionId}`)).page;
    await chat.locator('#connection-state[data-state="live"]').waitFor();
    await chat.locator('#message').fill('I need a refund');
    await chat.locator('#send').click();
    await waitFor(() => bot.answers.length > 0, { what: 'the agent to start answering' });
    await bot.answers[0];

    // Support sends the conversation to alice, warm, with a note.
    const support = await pageAs('sue', 'support', `/console?session=${sessionId}`);
    await support.page.locator('#session-connection[data-state="live"]').waitFor();
    await support.page.locator('#transfer-mode').selectOption('warm');
    await support.page.locator('#transfer-to-kind').selectOption('person');
    await support.page.locator('#transfer-to').fill('alice');
    await support.page.locator('#transfer-next').fill('refund order 42');
    await support.page.getByRole('button', { name: 'Transfer', exact: true }).click();
    await support.page.locator('#action-notice.ok').waitFor();
    await support.page.locator('#control [data-phase="transfer_pending"]').waitFor();

    // alice accepts in her console, sees the note, writes, and hands back with a note of her own.
    const alice = await pageAs('alice', 'human', `/console?session=${sessionId}`);
    await alice.page.locator('#session-connection[data-state="live"]').waitFor();
    expect(await alice.page.locator('#control').textContent()).toContain('refund order 42');
    await alice.page.getByRole('button', { name: 'Accept transfer' }).click();
    await alice.page.locator('#control [data-phase="human_in_control"]').waitFor();
    await alice.page.locator('#human-message').fill('Hi, I am Alice; your refund is on its way');
    await alice.page.locator('#human-message').press('Enter');
    await waitFor(async () => (await messages(chat, '#transcript')).includes('Hi, I am Alice; your refund is on its way'), {
      what: "alice's message on the user's chat page",
    });
    await alice.page.locator('#handback-decided').fill('refund approved — order 42 was damaged');
    await alice.page.locator('#handback-next').fill('confirm the refund arrived');
    await alice.page.getByRole('button', { name: 'Hand back', exact: true }).click();
    await alice.page.locator('#control [data-phase="agent_in_control"]').waitFor();
    await support.page.locator('#control [data-phase="agent_in_control"]').waitFor();

    // The agents have the floor again: the next user message is answered by the agent.
    await chat.locator('#message').fill('Thanks!');
    await chat.locator('#send').click();
    await waitFor(() => bot.answers.length > 1, { what: 'the agent to answer again' });
    expect((await bot.answers[1]!).end).toMatchObject({ reason: 'complete' });
    await waitFor(async () => (await messages(chat, '#transcript')).includes(words(1, 30).join('')), { what: 'the second answer on the chat page' });

    // Every step is on the console's control timeline, in order.
    for (const p of [support.page, alice.page]) {
      await waitFor(async () => (await p.locator('#timeline li').evaluateAll((els) => els.map((e) => e.getAttribute('data-type')))).join(',')
        === 'transfer.requested,transfer.accepted,control.handed_back', { what: 'the control timeline' });
    }
    const rest = await restAs('sue', 'support');
    const events: SessionEvent[] = [];
    for await (const e of rest.events(sessionId)) events.push(e);
    const handedBack = events.find((e) => e.type === 'control.handed_back') as unknown as { note: { decided: unknown; next: string[] } };
    expect(handedBack.note).toEqual({ decided: [{ what: 'refund approved', why: 'order 42 was damaged' }], next: ['confirm the refund arrived'] });
    mkdirSync(DOCS, { recursive: true });
    await support.page.screenshot({ path: join(DOCS, 'console.png'), fullPage: true });
    expect([...support.errors, ...alice.errors]).toEqual([]);
  });

  it('lets exactly one of two operators claim a session from a queue; the other sees the refusal', async (ctx) => {
    if (skipWhy !== undefined) return ctx.skip(skipWhy);
    const sessionId = await newSession('cold');
    const queue = `billing-${sessionId.slice(-6)}`;
    const support = await pageAs('sue', 'support', `/console?session=${sessionId}`);
    await support.page.locator('#session-connection[data-state="live"]').waitFor();
    await support.page.locator('#transfer-mode').selectOption('cold');
    await support.page.locator('#transfer-to-kind').selectOption('queue');
    await support.page.locator('#transfer-to').fill(queue);
    await support.page.getByRole('button', { name: 'Transfer', exact: true }).click();
    await support.page.locator('#control [data-phase="queued"]').waitFor();

    const operators = await Promise.all([pageAs('alice', 'human', '/console'), pageAs('bob', 'human', '/console')]);
    const claimButtons = operators.map(({ page }) => page.getByRole('button', { name: `Claim ${sessionId}`, exact: true }));
    await Promise.all(claimButtons.map((b) => b.waitFor()));
    await Promise.all(claimButtons.map((b) => b.click()));
    const outcomes = await Promise.all(operators.map(async ({ page }) => {
      const notice = page.locator('#queues .notice.ok, #queues .notice.error').first();
      await notice.waitFor();
      return { ok: (await notice.getAttribute('class'))!.includes('ok'), text: (await notice.textContent()) ?? '' };
    }));
    expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
    const refused = outcomes.find((o) => !o.ok)!;
    // The server's words: the session is no longer waiting (someone else claimed it).
    expect(refused.text).toMatch(/^[a-z_]+: /);
    const rest = await restAs('sue', 'support');
    const summary = await rest.getSession(sessionId);
    expect(summary.control.phase).toBe('human_in_control');
    const winner = outcomes[0]!.ok ? 'alice' : 'bob';
    expect(summary.control).toMatchObject({ human: winner });
  });

  it('shows an agent killed mid-answer as disconnected, then lost', async (ctx) => {
    if (skipWhy !== undefined) return ctx.skip(skipWhy);
    const sessionId = await newSession('lost');
    const gate = new Gate();
    const agent = await agentAs('bot', sessionId);
    let agentClosed = false;
    cleanup.push(() => { if (!agentClosed) agent.close(); });
    const bot = answerWith(agent, scriptedModel(answers(1, gate)).model, { approveDelete: false });
    const user = await restAs('ada', 'user');
    await user.postMessage(sessionId, { text: 'Start answering' });
    await waitFor(() => bot.answers.length > 0, { what: 'the agent to start answering' });
    const support = await pageAs('sue', 'support', `/console?session=${sessionId}`);
    await support.page.locator('#people li[data-participant="bot"][data-presence="online"]').waitFor();
    // The agent's socket dies without a goodbye (its process would be gone).
    agentClosed = true;
    agent.connection.close();
    await support.page.locator('#people li[data-participant="bot"][data-presence="disconnected"]').waitFor({ timeout: 20_000 });
    await support.page.locator('#people li[data-participant="bot"][data-presence="lost"]').waitFor({ timeout: 40_000 });
    await waitFor(async () => (await support.page.locator('#timeline li[data-type="participant.lost"]').count()) === 1, { what: 'the loss on the timeline' });
  }, 90_000);
});
