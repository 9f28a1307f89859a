/**
 * What a connection does with each `closing` frame (PROTOCOL §4 Close behaviour and codes):
 * resumable ones reconnect and resume after the last delivered offset; the others stop it with
 * the refusal's code.
 */
import { describe, expect, it } from 'vitest';
import { connect, type DurableSessionsError, type ParticipantRef, type SessionEvent } from '../../src/index.js';
import { FakeSessionServer } from '../support/fake-server.js';
import { waitFor } from '../support/wait.js';

const ada: ParticipantRef = { id: 'ada', role: 'user', subject: 'ada' };

function setup() {
  const server = new FakeSessionServer([], ada, () => true, { initiallyReleased: 0, plans: [] });
  server.write({ type: 'session.created', sessionId: 's' });
  const offsets: number[] = [];
  const urls: string[] = [];
  let closed: DurableSessionsError | undefined | 'open' = 'open';
  const Base = server.WebSocket();
  const connection = connect({
    url: 'http://fake.invalid',
    sessionId: 's',
    getToken: () => 'token',
    WebSocket: class extends Base {
      constructor(url: string) {
        urls.push(url);
        super(url);
      }
    },
    fetch: server.fetch,
    backoff: { initialDelayMs: 0, maxDelayMs: 0 },
  });
  connection.on('event', (e: SessionEvent) => offsets.push(e.offset));
  connection.on('closed', (e) => (closed = e));
  return { server, connection, offsets, urls, closed: () => closed };
}

describe('a closing frame', () => {
  it.each([
    [4008, 'consumer_too_slow'],
    [4009, 'server_shutdown'],
    [4010, 'heartbeat_timeout'],
  ])('%i %s reconnects and resumes after the last delivered offset', async (code, reason) => {
    const { server, connection, offsets, urls, closed } = setup();
    await connection.whenLive();
    server.write({ type: 'message', messageId: 'm1', text: 'one' });
    await waitFor(() => connection.lastOffset === 2);
    server.closeAll({ code, reason, resumable: true, message: reason });
    await waitFor(() => urls.length === 2 && connection.state === 'live', { what: 'the reconnect' });
    server.write({ type: 'message', messageId: 'm2', text: 'two' });
    await waitFor(() => connection.lastOffset === 3);
    expect(new URL(urls[1]!).searchParams.get('offset')).toBe('2');
    expect(offsets).toEqual([1, 2, 3]);
    expect(closed()).toBe('open');
    connection.close();
  });

  it.each([
    [4004, 'subscription_refused', 'session_not_found: no session s', 'session_not_found'],
    [4004, 'subscription_refused', 'something new', 'subscription_refused'],
    [4410, 'session_erased', 'session s was erased', 'session_erased'],
  ])('%i %s (%s) stops the connection with %s', async (code, reason, message, expected) => {
    const { server, connection, urls, closed } = setup();
    await connection.whenLive();
    server.closeAll({ code, reason, resumable: false, message });
    await waitFor(() => connection.state === 'closed');
    expect(closed()).toMatchObject({ code: expected, source: 'closing', closing: { code } });
    expect(urls).toHaveLength(1);
  });
});
