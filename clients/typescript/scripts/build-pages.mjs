// Builds the scripts of the node's browser pages (clients/typescript/console: the support console
// and the chat page, on this SDK) into session-http's resources, where they ship inside the node's
// jar next to the pages' HTML and style sheet (which live only there).
// The output is committed, so a node builds with only a JDK; `--check` rebuilds into a temporary
// directory and fails if the committed files differ from what the sources give (run by `npm test`).
import { build } from 'esbuild';
import { mkdtempSync, readFileSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const sources = join(here, '..', 'console');
const committed = join(here, '..', '..', '..', 'session-http', 'src', 'main', 'resources', 'web');
const check = process.argv.includes('--check');
const out = check ? mkdtempSync(join(tmpdir(), 'ds-pages-')) : committed;

await build({
  entryPoints: [join(sources, 'console.ts'), join(sources, 'chat.ts')],
  outdir: out,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  legalComments: 'none',
  charset: 'utf8',
  logLevel: 'warning',
});

if (check) {
  const want = readdirSync(out).sort();
  const have = existsSync(committed) ? readdirSync(committed).filter((f) => f.endsWith('.js')).sort() : [];
  const problems = [];
  if (JSON.stringify(want) !== JSON.stringify(have)) problems.push(`files differ: built ${want.join(', ')}; committed ${have.join(', ')}`);
  for (const f of want) {
    if (have.includes(f) && !readFileSync(join(out, f)).equals(readFileSync(join(committed, f)))) problems.push(`${f} differs from its sources`);
  }
  rmSync(out, { recursive: true, force: true });
  if (problems.length > 0) {
    console.error(`The committed pages in session-http/src/main/resources/web are stale:\n  ${problems.join('\n  ')}\nRun: npm run build:pages (in clients/typescript) and commit the result.`);
    process.exit(1);
  }
  console.log('pages: the committed build matches the sources');
} else {
  console.log(`pages built into ${out}`);
}
