// An agent worker process for the dispatch tests: the built package's startWorker, serving one
// pool, answering every unanswered user message of each assigned session by streaming tokens
// slowly. Each answer starts with "re:<question messageIds> " so that a test can tell which
// questions a complete answer answered.
//
// Configured by environment: DS_URL, DS_TOKEN, DS_POOL (default "default"), DS_CAPACITY
// (default 25), DS_TOKENS (default 40), DS_TOKEN_DELAY_MS (default 20). Writes one JSON line
// per happening to stdout: ready, assigned, ended, answer-start, answer-end, error.
import { startWorker } from '../../dist/index.js';

const env = process.env;
const tokens = Number(env.DS_TOKENS ?? 40);
const tokenDelayMs = Number(env.DS_TOKEN_DELAY_MS ?? 20);

function report(event, fields = {}) {
  process.stdout.write(`${JSON.stringify({ event, at: Date.now(), ...fields })}\n`);
}

const sleep = (ms, signal) =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });

let answers = 0;

async function serve(assignment) {
  report('assigned', { sessionId: assignment.sessionId, lease: assignment.lease, reason: assignment.reason });
  // Join and read the hot start at once: join() opens the socket at the call, and the hot
  // start's ledger then follows that socket's events.
  const joining = assignment.join();
  let busy = false;
  let ledger; // set once the hot start is read; events that arrive meanwhile are applied then
  const start = await assignment.hotStart({ onChange: () => void pump() });
  report('hot-started', { sessionId: assignment.sessionId, unanswered: start.unanswered.length });
  const agent = await joining;
  report('joined', { sessionId: assignment.sessionId });
  ledger = start.ledger;
  const interrupted = start.interrupted;
  if (interrupted.length > 0) report('interrupted', { sessionId: assignment.sessionId, answers: interrupted.map((a) => a.messageId) });
  async function pump() {
    if (busy || ledger === undefined || assignment.signal.aborted) return;
    const questions = ledger.unanswered;
    if (questions.length === 0) return;
    busy = true;
    const messageId = `ans-${worker.id}-${assignment.lease}-${++answers}`;
    ledger.answering(messageId, questions);
    try {
      const writer = agent.startStream({ messageId });
      report('answer-start', { sessionId: assignment.sessionId, messageId, questions: questions.map((q) => q.messageId) });
      writer.write(`re:${questions.map((q) => q.messageId).join(',')} `);
      for (let i = 0; i < tokens && !assignment.signal.aborted; i++) {
        await sleep(tokenDelayMs, assignment.signal);
        writer.write(`t${i} `);
      }
      if (!assignment.signal.aborted) {
        await writer.end();
        report('answer-end', { sessionId: assignment.sessionId, messageId });
      }
    } catch (error) {
      ledger.abandon(messageId);
      if (!assignment.signal.aborted) report('error', { sessionId: assignment.sessionId, code: error?.code, message: String(error?.message ?? error) });
    } finally {
      busy = false;
    }
    void pump();
  }
  void pump();
}

const worker = startWorker({
  url: env.DS_URL,
  token: env.DS_TOKEN,
  pool: env.DS_POOL ?? 'default',
  capacity: Number(env.DS_CAPACITY ?? 25),
  handler: serve,
});
worker.on('welcome', (w) => report('ready', { worker: w.worker, leaseTimeoutMs: w.leaseTimeoutMs, kept: w.kept.length, lost: w.lost.length }));
worker.on('ended', (a, end) => report('ended', { sessionId: a.sessionId, lease: a.lease, ...end }));
worker.on('error', (e) => report('error', { code: e.code, message: e.message }));
worker.on('closed', (e) => {
  report('closed', { code: e?.code });
  process.exit(0);
});
process.on('SIGTERM', () => void worker.close({ release: env.DS_RELEASE_ON_EXIT === '1' }));
