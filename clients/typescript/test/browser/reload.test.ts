/**
 * One page in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core): a user
 * chats with the AI SDK Chat and SessionChatTransport, its offset in localStorage; the agent
 * streams an answer; the page is reloaded mid-answer, resumes the answer from its start, and the
 * answer completes once: the text equals the session's, nothing duplicated.
 *
 * Without chromium the test is skipped, saying why; under CI=true it fails instead.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { readFile } from 'node:fs/promises';
import type { UIMessage } from 'ai';
import { afterEach, describe, expect, it } from 'vitest';
import type { SessionEvent } from '../../src/index.js';
import { token } from '../support/tokens.js';
import { waitFor } from '../support/wait.js';
import { agentAs, newSession, nodePort, restAs } from '../integration/harness.js';
import { answerWith, Gate, scriptedModel, text, words, type Step } from '../ai/support.js';
import { startPageServer } from './page-server.js';

const CHROMIUM = '/usr/bin/chromium';
const here = dirname(fileURLToPath(import.meta.url));

interface PageState {
  status: string;
  error?: string;
  messages: UIMessage[];
}
interface ChatPage {
  device: string;
  attachedAfter: number[];
  state(): PageState;
  send(text: string): Promise<void>;
}
declare global {
  interface Window {
    chatPage: ChatPage;
  }
}

const answerText = (state: PageState) =>
  (state.messages.find((m) => m.role === 'assistant')?.parts ?? []).flatMap((p) => (p.type === 'text' ? [p.text] : [])).join('');
const wordCount = (s: string) => s.split(' ').filter((w) => w !== '').length;

async function bundle(): Promise<string> {
  const result = await build({
    entryPoints: [join(here, 'page/app.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

describe('a chat page in Chromium', () => {
  const cleanup: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it('reloaded mid-answer, completes the answer once, equal to the history', async (ctx) => {
    if (!existsSync(CHROMIUM)) {
      const why = `no Chromium at ${CHROMIUM} (Debian: apt-get install chromium)`;
      if (process.env['CI'] === 'true') throw new Error(`${why}: the browser test is required under CI=true`);
      return ctx.skip(why);
    }
    const [app, html] = await Promise.all([bundle(), readFile(join(here, 'page/index.html'), 'utf8')]);
    const server = await startPageServer(
      { '/': { type: 'text/html', body: html }, '/app.js': { type: 'text/javascript', body: app } },
      nodePort(),
    );
    cleanup.push(() => server.close());

    // The agent streams 60 words, held twice by the test: after 20 (the reload) and after 40.
    const sessionId = await newSession('browser-reload');
    const gates = [new Gate(), new Gate()];
    const parts: Step['parts'] = text('t', words(7, 60));
    parts.splice(41, 0, gates[1]!);
    parts.splice(21, 0, gates[0]!);
    const { model } = scriptedModel([{ parts, finish: 'stop' }]);
    const agent = await agentAs('bot', sessionId);
    cleanup.push(() => agent.close());
    const bot = answerWith(agent, model, { approveDelete: false });

    const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-background-networking'] });
    cleanup.push(() => browser.close());
    const page: Page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(`console: ${message.text()}`);
    });
    const userToken = await token({ sub: 'ada', role: 'user' });
    const open = async () => {
      await page.waitForSelector('body[data-ready="yes"]', { state: 'attached', timeout: 20_000 }).catch((error: unknown) => {
        throw new Error(`the page did not start (${String(error)}); page errors: ${JSON.stringify(errors)}`);
      });
    };
    await page.goto(`${server.url}/?session=${encodeURIComponent(sessionId)}&token=${encodeURIComponent(userToken)}`);
    await open();
    const state = () => page.evaluate(() => window.chatPage.state());
    const device = await page.evaluate(() => window.chatPage.device);

    void page.evaluate(() => window.chatPage.send('Tell me something long')).catch(() => undefined);
    await waitFor(async () => wordCount(answerText(await state())) >= 20, { what: 'the page to show the first 20 words' });

    // Reload while the model is held after 20 words; let it go on while the page is down.
    const reloading = page.reload();
    gates[0]!.release();
    await reloading;
    await open();
    expect(await page.evaluate(() => window.chatPage.device)).toBe(device);
    // (loadMessages may show the words before the resumed stream does: wait for both)
    await waitFor(async () => {
      const s = await state();
      return s.status === 'streaming' && wordCount(answerText(s)) >= 40;
    }, { what: 'the reloaded page to resume the answer, up to 40 words' });
    gates[1]!.release();

    const result = await bot.answers[0]!;
    expect(result.end).toMatchObject({ reason: 'complete' });
    const rest = await restAs('ada', 'user');
    const events: SessionEvent[] = [];
    for await (const e of rest.events(sessionId)) events.push(e);
    const historyText = events.flatMap((e) => (e.type === 'stream.delta' ? [e.text] : [])).join('');
    expect(historyText).toBe(words(7, 60).join(''));
    const final = await waitFor(async () => {
      const s = await state();
      return s.status === 'ready' && answerText(s) === historyText ? s : undefined;
    }, { what: 'the reloaded page to finish the answer' });

    // Once: one user message and one answer, whose single text part is the history's text.
    expect(final.messages.map((m) => m.role)).toEqual(['user', 'assistant']);
    const answer = final.messages[1]!;
    expect(answer.id).toBe(`answer-${bot.questions[0]!.offset}`);
    expect(answer.parts).toEqual([{ type: 'step-start' }, { type: 'text', text: historyText, state: 'done' }]);
    expect(await page.locator('li[data-role="assistant"]').textContent()).toBe(historyText);
    // The reloaded page resumed its socket from the offset in localStorage, past the answer's
    // start: the replay came from the answer's first offset, not from the socket's.
    const attachedAfter = await page.evaluate(() => window.chatPage.attachedAfter);
    const started = events.find((e) => e.type === 'stream.started')!;
    expect(attachedAfter[0]).toBeGreaterThan(started.offset);
    expect(errors).toEqual([]);
  });
});
