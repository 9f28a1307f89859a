/** HS256 test tokens with the claims of PROTOCOL §2 "Token format", signed with the node's test secret. */
import { SignJWT } from 'jose';
import type { Role } from '../../src/index.js';
import { TEST_SECRET } from './node.js';

const key = new TextEncoder().encode(TEST_SECRET);

export interface TokenClaims {
  sub: string;
  role: Exclude<Role, 'system'>;
  sessions?: string[];
  /** Lifetime in seconds (default one hour). */
  expiresIn?: number;
}

export async function token(claims: TokenClaims): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ role: claims.role, sessions: claims.sessions ?? ['*'] })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer('durable-sessions')
    .setSubject(claims.sub)
    .setIssuedAt(now)
    .setExpirationTime(now + (claims.expiresIn ?? 3600))
    .sign(key);
}
