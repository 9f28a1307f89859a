/**
 * How a tool call's input and output travel in the session. The protocol records a call with
 * `tool.call` (`toolCallId`, `name`, `inputHash`) and its end with `tool.result` (`outcome`,
 * `summary`, `error`); it has no field for the arguments or the output as JSON. So the agent
 * side writes them into `summary` as one JSON object, and the transport reads them back:
 *
 *   {"input": {...}, "output": {...}}       outcome ok
 *   {"input": {...}, "error": "..."}        outcome error (the tool threw, or its input was invalid)
 *   {"input": {...}, "denied": true}        outcome error (the approval was denied)
 *
 * A summary that is not such an object (another agent's "1 file changed") is shown as the
 * output, as a string.
 */
import { utf8Length } from '../util.js';

export interface ToolRecord {
  input?: unknown;
  output?: unknown;
  error?: string;
  denied?: boolean;
}

/** Bytes of summary that fit in a frame with room to spare (frames are at most 64 KiB). */
export const MAX_SUMMARY_BYTES = 48 * 1024;

/** The summary for a tool.result; a value too large to fit is replaced by a note saying so. */
export function encodeToolRecord(record: ToolRecord): string {
  const full = JSON.stringify(record);
  if (utf8Length(full) <= MAX_SUMMARY_BYTES) return full;
  const omitted = (what: string, value: unknown) => ({ omitted: `the ${what} (${utf8Length(JSON.stringify(value) ?? '')} bytes) is too large for a tool.result` });
  const withoutOutput = JSON.stringify({ ...record, ...('output' in record ? { output: omitted('output', record.output) } : {}) });
  if (utf8Length(withoutOutput) <= MAX_SUMMARY_BYTES) return withoutOutput;
  return JSON.stringify({
    ...record,
    input: omitted('input', record.input),
    ...('output' in record ? { output: omitted('output', record.output) } : {}),
    ...(record.error === undefined ? {} : { error: record.error.slice(0, 1024) }),
  });
}

/** Read a tool.result summary back (see the module comment). */
export function decodeToolRecord(summary: string | undefined): ToolRecord {
  if (summary === undefined) return {};
  try {
    const value: unknown = JSON.parse(summary);
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && ('input' in value || 'output' in value || 'error' in value || 'denied' in value)) {
      return value as ToolRecord;
    }
  } catch {
    // not JSON: a plain summary
  }
  return { output: summary };
}

/** `sha256:<hex>` of the input's JSON, where WebCrypto is available (Node 20+, browsers on https or localhost). */
export async function inputHash(input: unknown): Promise<string | undefined> {
  const subtle = (globalThis as { crypto?: { subtle?: SubtleCrypto } }).crypto?.subtle;
  if (subtle === undefined) return undefined;
  const bytes = new TextEncoder().encode(JSON.stringify(input) ?? 'null');
  const digest = new Uint8Array(await subtle.digest('SHA-256', bytes));
  let hex = '';
  for (const b of digest) hex += b.toString(16).padStart(2, '0');
  return `sha256:${hex}`;
}
