/**
 * The part of the WHATWG WebSocket API the connection uses. Browsers and Node 22+ have it
 * globally; on Node 20 pass the `ws` package's `WebSocket`, which implements it too.
 */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: any) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: any) => void) | null;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** WebSocket.OPEN in every implementation. */
export const OPEN = 1;

export function defaultWebSocket(): WebSocketConstructor {
  const ctor = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (ctor === undefined) {
    throw new TypeError('no global WebSocket: pass options.WebSocket (for example `import { WebSocket } from "ws"` on Node 20)');
  }
  return ctor;
}

/** Text of a message event, whatever the implementation hands over. */
export function messageText(data: unknown): string | undefined {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return new TextDecoder().decode(data);
  if (ArrayBuffer.isView(data)) return new TextDecoder().decode(data);
  return undefined;
}

export function wsBaseUrl(url: string): string {
  return url.replace(/^http(s?):/, 'ws$1:').replace(/\/+$/, '');
}
