/**
 * Session state over MCP (docs/MCP.md), with the official MCP TypeScript SDK's client on its
 * Streamable HTTP transport against a real node: it connects, lists the tools, calls each one;
 * every result is what the REST endpoint answers for the same session; a commit over MCP reaches
 * a device's socket as `state.committed`; refusals are tool errors that change nothing.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterEach, describe, expect, it } from 'vitest';
import { Agent, type SessionEvent } from '../../src/index.js';
import { token } from '../support/tokens.js';
import { waitFor } from '../support/wait.js';
import { connectAs, nodeUrl, restAs, uniqueId } from './harness.js';

type Role = 'user' | 'agent' | 'support' | 'observer' | 'human' | 'admin';

const open: Client[] = [];

async function mcpAs(sub: string, role: Role, sessions?: string[]): Promise<Client> {
  const bearer = await token({ sub, role, ...(sessions ? { sessions } : {}) });
  const transport = new StreamableHTTPClientTransport(new URL('/mcp', nodeUrl()), {
    requestInit: { headers: { Authorization: `Bearer ${bearer}` } },
  });
  const client = new Client({ name: 'durable-sessions-test', version: '1.0.0' });
  await client.connect(transport);
  open.push(client);
  return client;
}

interface ToolResult {
  isError?: boolean;
  structuredContent?: Record<string, unknown>;
  content: Array<{ type: string; text?: string }>;
}

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<ToolResult> {
  const result = (await client.callTool({ name, arguments: args })) as ToolResult;
  // the text content is the structured content as JSON text
  expect(JSON.parse(result.content[0]!.text!)).toEqual(result.structuredContent);
  return result;
}

async function ok(client: Client, name: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
  const result = await call(client, name, args);
  expect(result.isError, JSON.stringify(result.structuredContent)).toBeFalsy();
  return result.structuredContent!;
}

async function refusedWith(client: Client, name: string, args: Record<string, unknown>): Promise<string> {
  const result = await call(client, name, args);
  expect(result.isError).toBe(true);
  return (result.structuredContent as { error: { code: string } }).error.code;
}

/** The REST body as JSON, untouched by the SDK's typed client. */
async function rest(path: string, sub: string, role: Role): Promise<unknown> {
  const response = await fetch(new URL(path, nodeUrl()), { headers: { Authorization: `Bearer ${await token({ sub, role })}` } });
  expect(response.status).toBe(200);
  return response.json();
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

describe('MCP', () => {
  it('lists the tools and the resource templates, and every tool answers what REST answers', async () => {
    const ada = await restAs('ada', 'user');
    const id = (await ada.createSession(uniqueId('mcp'))).sessionId;
    const agent = new Agent(await connectAs('bot', 'agent', id));
    try {
      await ada.postMessage(id, { text: 'fix the login' }); // turn 1
      await agent.toolCall({ name: 'edit_file', toolCallId: 'call-1' });
      await agent.commit({ patch: [{ op: 'add', path: '/files_modified/-', value: 'src/login.ts' }], tool: 'edit_file', toolCallId: 'call-1' });
      await agent.sendMessage('fixed');
      await ada.postMessage(id, { text: 'and the session?' }); // turn 2
      await agent.commit({ patch: [{ op: 'add', path: '/decisions_made/-', value: { what: 'patch it', why: 'small' } }], tool: 'think' });
      // Closing the agent's socket writes its last receipt and its disconnection; once they are
      // written the head stays put while MCP and REST answers are compared.
      agent.close();
      await waitFor(
        async () => (await ada.history(id, { limit: 1000 })).events.some((e) => e.type === 'participant.disconnected'),
        { what: "the agent socket's disconnection" },
      );

      const mcp = await mcpAs('ada', 'user');
      const tools = (await mcp.listTools()).tools.map((t) => t.name).sort();
      expect(tools).toEqual([
        'commit_state', 'diff_state', 'get_resume_package', 'get_state', 'list_commits', 'list_sessions',
        'read_handoff_note', 'read_history', 'write_handoff_note',
      ]);
      for (const tool of (await mcp.listTools()).tools) expect(tool.inputSchema.type).toBe('object');
      const templates = (await mcp.listResourceTemplates()).resourceTemplates.map((t) => t.uriTemplate).sort();
      expect(templates).toEqual(['session://{sessionId}/state', 'session://{sessionId}/transcript']);

      const s = `/v1/sessions/${id}`;
      expect(await ok(mcp, 'get_state', { sessionId: id })).toEqual(await rest(`${s}/state`, 'ada', 'user'));
      expect(await ok(mcp, 'get_state', { sessionId: id, at: 6 })).toEqual(await rest(`${s}/state?at=6`, 'ada', 'user'));
      expect(await ok(mcp, 'get_state', { sessionId: id, turn: 1 })).toEqual(await rest(`${s}/state?turn=1`, 'ada', 'user'));
      expect(await ok(mcp, 'diff_state', { sessionId: id, from: 1, to: 2 })).toEqual(await rest(`${s}/diff?from=1&to=2`, 'ada', 'user'));
      expect(await ok(mcp, 'diff_state', { sessionId: id, turn: 2, attempt: 1, vs: 1 })).toEqual(
        await rest(`${s}/diff?turn=2&attempt=1&vs=1`, 'ada', 'user'),
      );
      const files = await ok(mcp, 'list_commits', { sessionId: id, path: '/files_modified', lastTurns: 5 });
      expect(files).toEqual(await rest(`${s}/commits?path=/files_modified&lastTurns=5`, 'ada', 'user'));
      expect((files.commits as SessionEvent[]).map((c) => c.offset)).toHaveLength(1);
      expect(await ok(mcp, 'list_commits', { sessionId: id, tool: 'think' })).toEqual(await rest(`${s}/commits?tool=think`, 'ada', 'user'));
      expect(await ok(mcp, 'read_history', { sessionId: id, after: 2, limit: 5 })).toEqual(
        await rest(`${s}/events?after=2&limit=5`, 'ada', 'user'),
      );
      const bot = await mcpAs('bot', 'agent');
      expect(await ok(bot, 'get_resume_package', { sessionId: id, after: 3 })).toEqual(await rest(`${s}/resume?after=3`, 'bot', 'agent'));
      expect(await ok(bot, 'read_handoff_note', { sessionId: id })).toMatchObject({ sessionId: id, control: { phase: 'agent_in_control' } });
      const sam = await mcpAs('sam', 'support');
      expect(await ok(sam, 'list_sessions', { limit: 1000 })).toEqual(await rest('/v1/sessions?limit=1000', 'sam', 'support'));

      const state = await mcp.readResource({ uri: `session://${id}/state` });
      expect(JSON.parse((state.contents[0] as { text: string }).text)).toEqual(await rest(`${s}/state`, 'ada', 'user'));
      const transcript = await mcp.readResource({ uri: `session://${id}/transcript` });
      expect(JSON.parse((transcript.contents[0] as { text: string }).text)).toEqual(await rest(`${s}/events?limit=1000`, 'ada', 'user'));

      // a handoff note goes with a control change: the agent asks for a cold transfer with one
      const note = { inProgress: ['refund for order 42'], waitingOn: ['warehouse'] };
      await ok(bot, 'write_handoff_note', { sessionId: id, via: 'transfer', mode: 'cold', to: { queue: uniqueId('billing') }, note });
      expect(await ok(mcp, 'read_handoff_note', { sessionId: id })).toMatchObject({ note, control: { phase: 'queued' } });
    } finally {
      agent.close();
    }
  });

  it('a commit over MCP reaches a device socket as state.committed', async () => {
    const ada = await restAs('ada', 'user');
    const id = (await ada.createSession(uniqueId('mcp-commit'))).sessionId;
    const seen: SessionEvent[] = [];
    const device = await connectAs('ada', 'user', id, {}, (c) => c.onEvent('state.committed', (e) => seen.push(e)));
    try {
      const bot = await mcpAs('bot', 'agent');
      const committed = await ok(bot, 'commit_state', {
        sessionId: id,
        tool: 'run_tests',
        provenance: 'verified',
        outputSummary: '12 passed',
        patch: [{ op: 'add', path: '/tools_used/-', value: 'run_tests' }],
      });
      await waitFor(() => seen.length === 1, { what: 'the state.committed event on the device' });
      expect(seen[0]).toMatchObject({ type: 'state.committed', offset: committed.offset, tool: 'run_tests', by: { id: 'bot' } });
      expect(((await ada.getState(id)).document as { tools_used: string[] }).tools_used).toEqual(['run_tests']);
    } finally {
      device.close();
    }
  });

  it('refuses with documented tool errors that change nothing', async () => {
    const ada = await restAs('ada', 'user');
    const id = (await ada.createSession(uniqueId('mcp-refusals'))).sessionId;
    const head = (await ada.getSession(id)).head;
    const patch = [{ op: 'add', path: '/tools_used/-', value: 'x' }];
    const outsider = await mcpAs('mallory', 'agent', ['other-*']);
    expect(await refusedWith(outsider, 'get_state', { sessionId: id })).toBe('forbidden');
    expect(await refusedWith(outsider, 'commit_state', { sessionId: id, patch })).toBe('forbidden');
    const eve = await mcpAs('eve', 'observer');
    expect(await ok(eve, 'get_state', { sessionId: id })).toMatchObject({ sessionId: id });
    expect(await refusedWith(eve, 'commit_state', { sessionId: id, patch })).toBe('forbidden');
    const bot = await mcpAs('bot', 'agent');
    expect(await refusedWith(bot, 'commit_state', { sessionId: id, patch: [{ op: 'remove', path: '/nope' }] })).toBe('patch_rejected');
    expect(await refusedWith(bot, 'get_state', { sessionId: id, at: 'five' })).toBe('invalid_request');
    expect(await refusedWith(bot, 'commit_state', { sessionId: id, patch, provenance: 'maybe' })).toBe('invalid_request');
    // an unknown tool is a JSON-RPC error, which the SDK throws
    await expect(bot.callTool({ name: 'drop_tables', arguments: {} })).rejects.toThrow();
    expect((await ada.getSession(id)).head).toBe(head);
    // no token: the transport is refused with 401
    const anonymous = new Client({ name: 'anonymous', version: '1.0.0' });
    await expect(anonymous.connect(new StreamableHTTPClientTransport(new URL('/mcp', nodeUrl())))).rejects.toThrow();
  });
});
