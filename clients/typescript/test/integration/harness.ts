/**
 * What the integration tests share: the node the global setup started, sessions, tokens and
 * connections. Node 22 runs this suite, so connections use its global WebSocket (the Node 20
 * smoke test uses the `ws` package instead).
 */
import { inject } from 'vitest';
import { Agent, RestClient, SessionConnection, type ConnectOptions, type Role } from '../../src/index.js';
import { token } from '../support/tokens.js';

export const nodeUrl = (): string => inject('dsUrl');
export const nodePort = (): number => inject('dsPort');

let counter = 0;
export function uniqueId(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${++counter}`;
}

export async function restAs(sub: string, role: Exclude<Role, 'system'>, url = nodeUrl()): Promise<RestClient> {
  return new RestClient({ url, token: await token({ sub, role }) });
}

/** A session created by a user `ada`; returns its id. */
export async function newSession(prefix: string): Promise<string> {
  const rest = await restAs('ada', 'user');
  const created = await rest.createSession(uniqueId(prefix));
  return created.sessionId;
}

export async function connectAs(
  sub: string,
  role: Exclude<Role, 'system'>,
  sessionId: string,
  options: Partial<ConnectOptions> = {},
  /** Runs before the connection opens its first socket: subscribe here to see every event. */
  setup?: (connection: SessionConnection) => void,
): Promise<SessionConnection> {
  const connection = new SessionConnection({
    url: nodeUrl(),
    sessionId,
    device: `${sub}-device`,
    getToken: () => token({ sub, role }),
    ...options,
  });
  setup?.(connection);
  connection.start();
  await connection.whenLive();
  return connection;
}

export async function agentAs(sub: string, sessionId: string, options: Partial<ConnectOptions> = {}): Promise<Agent> {
  return new Agent(await connectAs(sub, 'agent', sessionId, options));
}
