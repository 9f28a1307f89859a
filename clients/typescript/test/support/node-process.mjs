// Starts a real Durable Sessions node (the built jar) for tests, in plain JavaScript so that
// the vitest suite (Node 22) and the Node 20 smoke test share it: an H2 file database in a
// temp directory, a fixed HS256 secret, a free HTTP port, management off, remote port 0.
// The jar comes from DS_NODE_JAR (default: this worktree's session-cluster/target build).
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const TEST_SECRET = 'ts-client-test-secret-ts-client-test-secret';

const here = dirname(fileURLToPath(import.meta.url));
export const DEFAULT_JAR = resolve(here, '../../../../session-cluster/target/session-cluster.jar');

export function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolvePort(address.port));
    });
  });
}

export async function startNode(options = {}) {
  const jar = process.env.DS_NODE_JAR ?? DEFAULT_JAR;
  if (!existsSync(jar)) {
    throw new Error(`no node jar at ${jar}: build it with \`flock /tmp/mvn.lock ./mvnw -o -q package -DskipTests\` or set DS_NODE_JAR`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'ds-ts-client-'));
  const config = join(dir, 'node.conf');
  await writeFile(
    config,
    [
      `durable-sessions.database.url = "jdbc:h2:file:${join(dir, 'sessions')}"`,
      `durable-sessions.database.user = "sa"`,
      `durable-sessions.auth.secret = "${TEST_SECRET}"`,
      `durable-sessions.http.host = "127.0.0.1"`,
      `durable-sessions.demo-agent.enabled = ${options.demoAgent === true ? 'on' : 'off'}`,
      `durable-sessions.management.enabled = off`,
      `durable-sessions.dispatch.persistence-id = "agent-dispatcher-${randomUUID()}"`,
      `pekko.remote.artery.canonical.port = 0`,
      `pekko.loglevel = WARNING`,
      options.config ?? '',
    ].join('\n'),
  );
  const port = await freePort();
  const logPath = join(dir, 'node.log');
  const log = createWriteStream(logPath);
  const env = { ...process.env, DS_CONFIG: config, DS_HTTP_PORT: String(port) };
  delete env.DS_DEMO_AGENT; // the config file decides
  const child = spawn('java', ['-Xmx512m', '-XX:+UseParallelGC', '-XX:TieredStopAtLevel=1', '-jar', jar], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  let exited = false;
  const exit = new Promise((r) =>
    child.once('exit', () => {
      exited = true;
      r();
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (exited) throw new Error(`the node exited during start; see ${logPath}`);
    try {
      const response = await fetch(`${url}/health`);
      if (response.ok) break;
    } catch {
      // still starting
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the node did not become healthy in 90 s; see ${logPath}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    port,
    dir,
    logPath,
    async stop() {
      if (!exited) {
        // The test node's data is thrown away: no need for a graceful leave.
        child.kill('SIGKILL');
        await exit;
      }
      log.end();
      if (process.env.DS_KEEP_NODE_DIR === undefined) await rm(dir, { recursive: true, force: true });
    },
  };
}
