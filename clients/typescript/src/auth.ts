/**
 * Tokens: a fixed one, or a function that fetches a fresh one (from your backend, which signs
 * them). Shared by the socket and the REST client of a connection.
 */
export type TokenProvider = () => string | Promise<string>;

export interface TokenOptions {
  /** A fixed token. When it expires, the connection stops with `token_expired`. */
  token?: string;
  /** Called for the first token and whenever a fresh one is needed (before expiry, after `token_expired`). */
  getToken?: TokenProvider;
}

/** With getToken, a cached token this close to its exp is replaced before use. */
const EXPIRY_MARGIN_MS = 2000;

export class TokenSource {
  private currentToken: string | undefined;
  private inFlight: Promise<string> | undefined;

  constructor(private readonly options: TokenOptions) {
    if (options.token === undefined && options.getToken === undefined) {
      throw new TypeError('give token or getToken');
    }
    this.currentToken = options.token;
  }

  /** Whether a fresh token can be had (getToken was given). */
  get renewable(): boolean {
    return this.options.getToken !== undefined;
  }

  /** The token to use now: the cached one, or a fresh one if there is none or it has expired. */
  async current(): Promise<string> {
    const token = this.currentToken;
    if (token !== undefined) {
      const exp = tokenExpiry(token);
      // A token about to expire would only get a socket closed with token_expired at once.
      if (!this.renewable || exp === undefined || exp - Date.now() > EXPIRY_MARGIN_MS) return token;
    }
    return this.refresh();
  }

  /** A fresh token from getToken (concurrent callers share one call); the fixed token otherwise. */
  refresh(): Promise<string> {
    const getToken = this.options.getToken;
    if (getToken === undefined) return Promise.resolve(this.currentToken as string);
    if (this.inFlight === undefined) {
      this.inFlight = (async () => {
        try {
          const token = await getToken();
          this.currentToken = token;
          return token;
        } finally {
          this.inFlight = undefined;
        }
      })();
    }
    return this.inFlight;
  }

  /** The cached token's `exp` in ms since the epoch, if it has one. */
  expiresAt(): number | undefined {
    return this.currentToken === undefined ? undefined : tokenExpiry(this.currentToken);
  }
}

/**
 * Reads a JWT's `exp` (ms since the epoch) without verifying it: the client only uses it to
 * renew in time; the server checks the token.
 */
export function tokenExpiry(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const json = JSON.parse(base64UrlDecode(payload)) as { exp?: unknown };
    return typeof json.exp === 'number' ? json.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

function base64UrlDecode(s: string): string {
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4);
  const binary = atob(b64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return new TextDecoder().decode(bytes);
}
