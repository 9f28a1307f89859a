// An HS256 token (PROTOCOL §2) for a node whose secret you hold: DS_JWT_SECRET, or the public
// secret of a node in dev mode without one. For trying things out; your backend signs real ones.
import { createHmac } from 'node:crypto';

const DEV_SECRET = 'durable-sessions-dev-secret-do-not-use-in-production';

export function signToken(sub, role, secret = process.env.DS_JWT_SECRET ?? DEV_SECRET) {
  const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ iss: 'durable-sessions', sub, role, sessions: ['*'], iat: now, exp: now + 86400 })}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}
