/**
 * The support console: queues and sessions, live; one session with its transcript, people,
 * control timeline, state, receipts and audit; and the handover actions with the documented
 * rules (the server decides: a refusal is shown as the server words it). Built on the SDK: the
 * open session is a connection folded by `SessionStore`, everything else the `RestClient`.
 */
import {
  Participant,
  SessionStore,
  connect,
  type Control,
  type HandoffNote,
  type RestClient,
  type SessionConnection,
  type SessionEvent,
  type SessionSummary,
  type SessionView,
} from '../src/index.js';
import { DEV_HINT, claims, describe, fill, h, notice, rest, signIn, signOut, time } from './shared.js';

const root = document.getElementById('app') as HTMLElement;
const QUEUE_POLL_MS = 2000;
const SESSION_POLL_MS = 4000;
/** The sessions list reads at most this many summaries per refresh. */
const MAX_LISTED = 100;

const CONTROL_EVENTS = new Set([
  'transfer.requested', 'transfer.accepted', 'transfer.cancelled', 'session.queued', 'session.claimed',
  'control.handed_back', 'session.closed', 'participant.lost',
]);

interface Ctx {
  token: string;
  api: RestClient;
  me: string;
  role: string;
}

async function main(): Promise<void> {
  const token = await signIn(root, 'Support console', DEV_HINT);
  const c = claims(token);
  const ctx: Ctx = { token, api: rest(token), me: c.sub ?? '?', role: c.role ?? '?' };
  const queues = h('section', { id: 'queues', 'aria-labelledby': 'queues-title' });
  const sessions = h('section', { id: 'sessions', 'aria-labelledby': 'sessions-title' });
  const detail = h('section', { id: 'session', class: 'detail', 'aria-label': 'Session' },
    h('p', { class: 'muted' }, 'Open a session from a queue or the list.'));
  fill(root,
    h('header', { class: 'bar' },
      h('h1', {}, 'Support console'),
      h('span', { id: 'whoami' }, `${ctx.me} (${ctx.role})`),
      h('a', { href: '/chat', class: 'link' }, 'Chat page'),
      h('button', { type: 'button', class: 'link', onclick: () => signOut() }, 'Sign out')),
    h('div', { class: 'console' }, h('aside', {}, queues, sessions), detail));
  const open = (id: string) => openSession(ctx, detail, id);
  startQueues(ctx, queues, open);
  startSessions(ctx, sessions, open);
  const initial = new URLSearchParams(location.search).get('session');
  if (initial !== null) open(initial);
}

// ---------------------------------------------------------------- queues

function startQueues(ctx: Ctx, el: HTMLElement, open: (id: string) => void): void {
  const list = h('div', { id: 'queue-list' });
  const status = h('p', { class: 'notice', role: 'alert' });
  fill(el, h('h2', { id: 'queues-title' }, 'Queues'), status, list);
  const refresh = async () => {
    try {
      const { queues } = await ctx.api.listQueues();
      const names = Object.keys(queues).sort();
      if (names.length === 0) {
        fill(list, h('p', { class: 'muted' }, 'No session is waiting.'));
        return;
      }
      fill(list, ...names.map((queue) => h('div', { class: 'queue', 'data-queue': queue },
        h('h3', {}, queue, ' ', h('span', { class: 'muted' }, `(${queues[queue]!.length} waiting)`)),
        h('button', { type: 'button', onclick: () => claimOldest(ctx, queue, status, open) }, `Claim oldest in ${queue}`),
        h('ul', {}, ...queues[queue]!.map((entry) => h('li', { 'data-session': entry.sessionId },
          h('button', { type: 'button', class: 'link', onclick: () => open(entry.sessionId) }, entry.sessionId),
          ` waiting since ${time(entry.since)} `,
          noteText(entry.note) === '' ? undefined : h('span', { class: 'note' }, noteText(entry.note)),
          ' ',
          h('button', { type: 'button', 'data-action': 'claim', onclick: () => claim(ctx, entry.sessionId, status, open) }, `Claim ${entry.sessionId}`)))))));
    } catch (error) {
      notice(status, describe(error));
    }
  };
  void refresh();
  setInterval(() => void refresh(), QUEUE_POLL_MS);
}

async function claimOldest(ctx: Ctx, queue: string, status: HTMLElement, open: (id: string) => void): Promise<void> {
  try {
    const claimed = await ctx.api.claimFromQueue(queue);
    notice(status, `Claimed ${claimed.sessionId} from ${queue}.`, 'ok');
    open(claimed.sessionId);
  } catch (error) {
    notice(status, describe(error));
  }
}

async function claim(ctx: Ctx, sessionId: string, status: HTMLElement, open: (id: string) => void): Promise<void> {
  try {
    await ctx.api.claim(sessionId);
    notice(status, `Claimed ${sessionId}.`, 'ok');
    open(sessionId);
  } catch (error) {
    notice(status, describe(error));
  }
}

// ---------------------------------------------------------------- sessions

function startSessions(ctx: Ctx, el: HTMLElement, open: (id: string) => void): void {
  const search = h('input', { id: 'search', type: 'search', placeholder: 'session id' });
  const phase = select('phase', ['any', 'agent_in_control', 'transfer_pending', 'human_in_control', 'queued', 'closed']);
  const presence = select('presence', ['any', 'online', 'disconnected', 'lost', 'offline']);
  const agent = select('agent-status', ['any', 'idle', 'thinking', 'streaming', 'tool_call', 'waiting_for_input']);
  const nobody = h('input', { id: 'nobody', type: 'checkbox' });
  const list = h('ul', { id: 'session-list', class: 'session-list' });
  const status = h('p', { class: 'notice', role: 'alert' });
  const openById = h('form', { class: 'inline' },
    h('label', { for: 'search' }, 'Search by id'), search, h('button', { type: 'submit' }, 'Open'));
  openById.addEventListener('submit', (e) => {
    e.preventDefault();
    if (search.value.trim() !== '') open(search.value.trim());
  });
  fill(el, h('h2', { id: 'sessions-title' }, 'Sessions'), openById,
    h('div', { class: 'filters' },
      labelled('phase', 'Control phase', phase), labelled('presence', 'Someone is', presence),
      labelled('agent-status', 'Agent status', agent),
      h('span', {}, nobody, h('label', { for: 'nobody' }, ' Streaming to nobody'))),
    status, list);
  let summaries: SessionSummary[] = [];
  const render = () => {
    const q = search.value.trim();
    const shown = summaries.filter((s) =>
      (q === '' || s.sessionId.includes(q)) &&
      (phase.value === 'any' || s.control.phase === phase.value) &&
      (presence.value === 'any' || s.participants.some((p) => p.presence.status === presence.value)) &&
      (agent.value === 'any' || s.participants.some((p) => p.status === agent.value)) &&
      (!nobody.checked || streamingToNobody(s)));
    fill(list, ...shown.map((s) => h('li', { 'data-session': s.sessionId },
      h('button', { type: 'button', class: 'link', onclick: () => open(s.sessionId) }, s.sessionId),
      ` ${s.control.phase}`,
      s.openStreams.length > 0 ? h('span', { class: 'badge' }, streamingToNobody(s) ? 'streaming to nobody' : 'streaming') : undefined,
      ...s.participants.map((p) => h('span', { class: `presence ${p.presence.status}` }, `${p.participant.id}: ${p.presence.status}${p.status ? ` (${p.status})` : ''}`)))));
    if (shown.length === 0) fill(list, h('li', { class: 'muted' }, 'No session matches.'));
  };
  for (const input of [search, phase, presence, agent, nobody]) input.addEventListener('input', render);
  const refresh = async () => {
    try {
      const ids = (await ctx.api.listSessions(MAX_LISTED)).sort();
      const read = await Promise.allSettled(ids.map((id) => ctx.api.getSession(id)));
      summaries = read.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      notice(status, '', 'ok');
      render();
    } catch (error) {
      notice(status, describe(error));
    }
  };
  void refresh();
  setInterval(() => void refresh(), SESSION_POLL_MS);
}

/** An answer streams and no person (user or human) has a device attached. */
function streamingToNobody(s: SessionSummary): boolean {
  return s.openStreams.length > 0 && !s.participants.some((p) => p.participant.role !== 'agent' && p.devices.length > 0);
}

// ---------------------------------------------------------------- one session

let current: { connection: SessionConnection; timer: ReturnType<typeof setInterval> } | undefined;

function openSession(ctx: Ctx, el: HTMLElement, sessionId: string): void {
  if (current !== undefined) {
    current.connection.close();
    clearInterval(current.timer);
  }
  const params = new URLSearchParams(location.search);
  params.set('session', sessionId);
  history.replaceState(null, '', `${location.pathname}?${params.toString()}`);

  const connection = connect({ url: location.origin, sessionId, token: ctx.token, device: `console-${ctx.me}`, offset: 0 });
  const store = new SessionStore(connection);
  const participant = new Participant(connection);
  const timeline: SessionEvent[] = [];
  const status = h('p', { id: 'action-notice', class: 'notice', role: 'alert' });
  const state = h('span', { id: 'session-connection', role: 'status' }, 'connecting');
  const control = h('p', { id: 'control' });
  const transcript = h('ol', { id: 'console-transcript', class: 'transcript', 'aria-live': 'polite' });
  const people = h('ul', { id: 'people' });
  const controlLog = h('ol', { id: 'timeline' });
  const approvals = h('ul', { id: 'approvals' });
  const doc = h('pre', { id: 'state-document', tabindex: 0 });
  const receipts = h('ul', { id: 'receipts' });
  const act = (what: string, run: () => Promise<unknown>) => () => {
    run().then(() => notice(status, `${what}: done.`, 'ok'), (error: unknown) => notice(status, `${what}: ${describe(error)}`));
  };

  fill(el,
    h('h2', {}, 'Session ', h('span', { id: 'session-id' }, sessionId), ' ', h('span', { class: 'muted' }, '(', state, ')')),
    control,
    status,
    actions(ctx, sessionId, participant, act),
    h('div', { class: 'panes' },
      h('section', { 'aria-labelledby': 't-title' }, h('h3', { id: 't-title' }, 'Transcript'), transcript,
        h('h3', {}, 'Tool approvals'), approvals),
      h('section', { 'aria-labelledby': 'p-title' }, h('h3', { id: 'p-title' }, 'People'), people,
        h('h3', {}, 'Control timeline'), controlLog,
        h('h3', {}, 'Delivery receipts'), receipts,
        h('a', { id: 'audit-download', href: '#', onclick: (e: Event) => { e.preventDefault(); void downloadAudit(ctx, sessionId, status); } }, 'Download the audit export (NDJSON)')),
      h('section', { 'aria-labelledby': 's-title' }, h('h3', { id: 's-title' }, 'State'), doc, stateTools(ctx, sessionId, status))));

  connection.on('state', (s) => { state.textContent = s; state.dataset.state = s; });
  connection.on('closed', (error) => { if (error !== undefined) notice(status, describe(error)); });
  connection.on('event', (e) => {
    if (CONTROL_EVENTS.has(e.type)) {
      timeline.push(e);
      fill(controlLog, ...timeline.map((t) => h('li', { 'data-type': t.type }, `${time(t.at)} ${t.type} by ${t.by.id}${controlDetail(t)}`)));
    }
  });
  store.subscribe((view) => render(view));
  const render = (view: SessionView) => {
    fill(control, 'Floor: ', h('strong', { 'data-phase': view.control.phase }, controlText(view.control)),
      view.latestNote !== undefined && noteText(view.latestNote) !== '' ? h('span', { class: 'note' }, ` Note: ${noteText(view.latestNote)}`) : undefined);
    fill(transcript, ...view.messages.map((m) => h('li', { class: `message ${m.by.role}`, 'data-state': m.state, 'data-offset': m.offset },
      h('span', { class: 'by' }, `${m.by.id} (${m.by.role})`), h('p', { class: 'text' }, m.text),
      m.state !== 'complete' ? h('span', { class: 'muted' }, m.state) : undefined)));
    fill(people, ...Object.values(view.participants).map((p) => h('li', { 'data-participant': p.participant.id, 'data-presence': p.presence.status },
      `${p.participant.id} (${p.participant.role}): ${p.presence.status}`,
      p.presence.devices.length > 0 ? ` on ${p.presence.devices.join(', ')}` : '',
      p.agentStatus !== undefined ? ` — ${p.agentStatus.status}` : '')));
    const pending = Object.values(view.approvals);
    fill(approvals, ...(pending.length === 0 ? [h('li', { class: 'muted' }, 'None.')] : pending.map((a) => h('li', { 'data-approval': a.approvalId, 'data-status': a.status },
      `${a.name} asked by ${a.by.id}${a.text ? `: ${a.text}` : ''} — ${a.status}`,
      a.status === 'pending' ? h('span', {},
        h('button', { type: 'button', onclick: act('Approve', () => ctx.api.answerApproval(sessionId, a.approvalId, { approved: true })) }, `Approve ${a.name}`),
        h('button', { type: 'button', onclick: act('Deny', () => ctx.api.answerApproval(sessionId, a.approvalId, { approved: false, reason: 'denied in the console' })) }, `Deny ${a.name}`)) : undefined))));
    doc.textContent = JSON.stringify(view.state, null, 2);
  };
  const refreshReceipts = async () => {
    try {
      const list = await ctx.api.receipts(sessionId);
      fill(receipts, ...list.receipts.map((r) => h('li', {}, `${r.participant.id} on ${r.device}: up to ${r.delivered} at ${time(r.at)}`)));
    } catch (error) {
      fill(receipts, h('li', { class: 'muted' }, describe(error)));
    }
  };
  void refreshReceipts();
  current = { connection, timer: setInterval(() => void refreshReceipts(), SESSION_POLL_MS) };
}

function actions(ctx: Ctx, sessionId: string, participant: Participant, act: (what: string, run: () => Promise<unknown>) => () => void): HTMLElement {
  const message = h('input', { id: 'human-message', type: 'text', autocomplete: 'off' });
  const steer = h('input', { id: 'steer-text', type: 'text', autocomplete: 'off' });
  const send = h('form', { class: 'inline', 'aria-label': 'Send a message' },
    h('label', { for: 'human-message' }, 'Message as you'), message, h('button', { type: 'submit' }, 'Send'));
  send.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = message.value.trim();
    if (text === '') return;
    message.value = '';
    act('Send', () => participant.sendMessage(text))();
  });
  const steering = h('form', { class: 'inline', 'aria-label': 'Steer the agent' },
    h('label', { for: 'steer-text' }, 'Steer the agent'), steer, h('button', { type: 'submit' }, 'Steer'),
    h('button', { type: 'button', onclick: act('Interrupt', () => participant.interrupt({ role: 'agent' })) }, 'Interrupt the agent'));
  steering.addEventListener('submit', (e) => {
    e.preventDefault();
    if (steer.value.trim() !== '') act('Steer', () => participant.steer(steer.value.trim()))();
  });

  const handbackNote = noteFields('handback');
  const handbackAgent = h('input', { id: 'handback-agent', type: 'text', autocomplete: 'off' });
  const handback = h('form', { class: 'block', 'aria-label': 'Hand back to the agents' },
    h('h4', {}, 'Hand back'), labelled('handback-agent', 'To agent (optional)', handbackAgent), handbackNote.fields,
    h('button', { type: 'submit' }, 'Hand back'));
  handback.addEventListener('submit', (e) => {
    e.preventDefault();
    const agent = handbackAgent.value.trim();
    act('Hand back', () => ctx.api.handback(sessionId, { ...(agent === '' ? {} : { agent }), note: handbackNote.read() }))();
  });

  const transferNote = noteFields('transfer');
  const mode = select('transfer-mode', ['warm', 'cold']);
  const toKind = select('transfer-to-kind', ['queue', 'person']);
  const to = h('input', { id: 'transfer-to', type: 'text', autocomplete: 'off', required: true });
  const transfer = h('form', { class: 'block', 'aria-label': 'Transfer' },
    h('h4', {}, 'Transfer'), labelled('transfer-mode', 'Mode', mode), labelled('transfer-to-kind', 'To a', toKind),
    labelled('transfer-to', 'Queue or person', to), transferNote.fields, h('button', { type: 'submit' }, 'Transfer'));
  transfer.addEventListener('submit', (e) => {
    e.preventDefault();
    const target = to.value.trim();
    act('Transfer', () => ctx.api.requestTransfer(sessionId, {
      mode: mode.value as 'warm' | 'cold',
      to: toKind.value === 'queue' ? { queue: target } : { participant: target },
      note: transferNote.read(),
    }))();
  });

  const reason = h('input', { id: 'close-reason', type: 'text', autocomplete: 'off' });
  const close = h('form', { class: 'inline', 'aria-label': 'Close the session' },
    h('label', { for: 'close-reason' }, 'Close with reason'), reason, h('button', { type: 'submit' }, 'Close session'));
  close.addEventListener('submit', (e) => {
    e.preventDefault();
    act('Close', () => ctx.api.closeSession(sessionId, reason.value.trim() || undefined))();
  });

  return h('div', { class: 'actions' },
    h('div', { class: 'inline' },
      h('button', { type: 'button', onclick: act('Accept the transfer', () => ctx.api.acceptTransfer(sessionId)) }, 'Accept transfer'),
      h('button', { type: 'button', onclick: act('Claim', () => ctx.api.claim(sessionId)) }, 'Claim'),
      h('button', { type: 'button', onclick: act('Cancel the transfer', () => ctx.api.cancelTransfer(sessionId, 'cancelled in the console')) }, 'Cancel transfer')),
    send, steering, handback, transfer, close);
}

/** The structured handoff note: one item per line; decisions as "what — why". */
function noteFields(prefix: string): { fields: HTMLElement; read: () => HandoffNote } {
  const areas = {
    inProgress: h('textarea', { id: `${prefix}-in-progress`, rows: 2 }),
    decided: h('textarea', { id: `${prefix}-decided`, rows: 2, placeholder: 'what — why' }),
    next: h('textarea', { id: `${prefix}-next`, rows: 2 }),
    canWait: h('textarea', { id: `${prefix}-can-wait`, rows: 2 }),
    waitingOn: h('textarea', { id: `${prefix}-waiting-on`, rows: 2 }),
  };
  const lines = (a: HTMLTextAreaElement) => a.value.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const fields = h('fieldset', {}, h('legend', {}, 'Handoff note (one item per line)'),
    labelled(`${prefix}-in-progress`, 'In progress', areas.inProgress),
    labelled(`${prefix}-decided`, 'Decided (what — why)', areas.decided),
    labelled(`${prefix}-next`, 'Next', areas.next),
    labelled(`${prefix}-can-wait`, 'Can wait', areas.canWait),
    labelled(`${prefix}-waiting-on`, 'Waiting on', areas.waitingOn));
  const read = (): HandoffNote => {
    const note: HandoffNote = {};
    if (lines(areas.inProgress).length) note.inProgress = lines(areas.inProgress);
    if (lines(areas.decided).length) note.decided = lines(areas.decided).map((l) => {
      const [what, ...why] = l.split(/\s+[—-]\s+/);
      return { what: what ?? l, why: why.join(' — ') };
    });
    if (lines(areas.next).length) note.next = lines(areas.next);
    if (lines(areas.canWait).length) note.canWait = lines(areas.canWait);
    if (lines(areas.waitingOn).length) note.waitingOn = lines(areas.waitingOn);
    return note;
  };
  return { fields, read };
}

function stateTools(ctx: Ctx, sessionId: string, status: HTMLElement): HTMLElement {
  const from = h('input', { id: 'diff-from', type: 'number', min: 0, value: 0 });
  const to = h('input', { id: 'diff-to', type: 'number', min: 0, value: 1 });
  const diffOut = h('pre', { id: 'diff-result', tabindex: 0 });
  const diff = h('form', { class: 'inline', 'aria-label': 'Diff between turns' },
    labelled('diff-from', 'From turn', from), labelled('diff-to', 'to turn', to), h('button', { type: 'submit' }, 'Diff'));
  diff.addEventListener('submit', (e) => {
    e.preventDefault();
    ctx.api.diffTurns(sessionId, Number(from.value), Number(to.value)).then(
      (d) => { diffOut.textContent = JSON.stringify(d.patch, null, 2); },
      (error: unknown) => notice(status, `Diff: ${describe(error)}`));
  });
  const tool = h('input', { id: 'commits-tool', type: 'text' });
  const path = h('input', { id: 'commits-path', type: 'text', placeholder: '/files_modified' });
  const last = h('input', { id: 'commits-last', type: 'number', min: 0, value: 0 });
  const commitsOut = h('ol', { id: 'commit-log' });
  const commits = h('form', { class: 'inline', 'aria-label': 'Commit log' },
    labelled('commits-tool', 'Tool', tool), labelled('commits-path', 'Path', path), labelled('commits-last', 'Last turns (0: all)', last),
    h('button', { type: 'submit' }, 'Show commits'));
  commits.addEventListener('submit', (e) => {
    e.preventDefault();
    ctx.api.commits(sessionId, {
      ...(tool.value.trim() ? { tool: tool.value.trim() } : {}),
      ...(path.value.trim() ? { path: path.value.trim() } : {}),
      ...(Number(last.value) > 0 ? { lastTurns: Number(last.value) } : {}),
    }).then(
      (log) => fill(commitsOut, ...log.commits.map((c) => h('li', {}, `turn ${c.turn}.${c.attempt} ${c.tool ?? ''} by ${c.by.id}: ${c.patch.map((p) => `${p.op} ${p.path}`).join(', ')}`))),
      (error: unknown) => notice(status, `Commits: ${describe(error)}`));
  });
  return h('div', {}, h('h4', {}, 'Diff between turns'), diff, diffOut, h('h4', {}, 'Commit log'), commits, commitsOut);
}

async function downloadAudit(ctx: Ctx, sessionId: string, status: HTMLElement): Promise<void> {
  try {
    const lines: string[] = [];
    for await (const e of ctx.api.audit(sessionId)) lines.push(JSON.stringify(e));
    const url = URL.createObjectURL(new Blob([lines.join('\n') + '\n'], { type: 'application/x-ndjson' }));
    const a = h('a', { href: url, download: `${sessionId}-audit.ndjson` });
    document.body.append(a);
    a.click();
    a.remove();
    notice(status, `Audit export: ${lines.length} events.`, 'ok');
  } catch (error) {
    notice(status, `Audit export: ${describe(error)}`);
  }
}

// ---------------------------------------------------------------- small parts

function controlText(c: Control): string {
  switch (c.phase) {
    case 'agent_in_control': return c.agent ? `agent ${c.agent}` : 'the agents';
    case 'transfer_pending': return `transfer pending to ${'queue' in c.invited && c.invited.queue ? `queue ${c.invited.queue}` : c.invited.participant}`;
    case 'human_in_control': return `human ${c.human}`;
    case 'queued': return `queued in ${c.queue}`;
    case 'closed': return `closed${c.reason ? ` (${c.reason})` : ''}`;
  }
}

function controlDetail(e: SessionEvent): string {
  const x = e as unknown as Record<string, unknown>;
  if (typeof x.queue === 'string') return ` (queue ${x.queue})`;
  if (typeof x.human === 'string') return ` (${x.human})`;
  if (x.participant && typeof x.participant === 'object') return ` (${(x.participant as { id: string }).id})`;
  return '';
}

function noteText(note: HandoffNote): string {
  const parts: string[] = [];
  if (note.inProgress?.length) parts.push(`in progress: ${note.inProgress.join('; ')}`);
  if (note.decided?.length) parts.push(`decided: ${note.decided.map((d) => `${d.what} (${d.why})`).join('; ')}`);
  if (note.next?.length) parts.push(`next: ${note.next.join('; ')}`);
  if (note.canWait?.length) parts.push(`can wait: ${note.canWait.join('; ')}`);
  if (note.waitingOn?.length) parts.push(`waiting on: ${note.waitingOn.join('; ')}`);
  return parts.join(' · ');
}

function select(id: string, options: string[]): HTMLSelectElement {
  return h('select', { id }, ...options.map((o) => h('option', { value: o }, o)));
}

function labelled(id: string, text: string, control: HTMLElement): HTMLElement {
  return h('span', { class: 'field' }, h('label', { for: id }, text), control);
}

void main();
