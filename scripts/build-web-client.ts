// Builds the web client into e2e/app/dist when it is missing or older than its sources (`--if-stale`), or always.
// `npm start` runs it first, so `npm install && npm start` serves a current app; the hash of every source the
// build reads is kept beside the output.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, globSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const appDir = path.join(root, 'e2e/app');
export const webClientDist = path.join(appDir, 'dist');
const stampFile = path.join(webClientDist, '.source-hash');

/** Everything the build reads: the app, the shared shapes and API types it imports, and the locked dependencies. */
const sources = ['e2e/app/{index.html,vite.config.ts,tsconfig.json}', 'e2e/app/{src,public}/**/*', 'collab/shapes/*.ts', 'schema/api/*.ts', 'package-lock.json'];

export function sourceHash(): string {
  const hash = createHash('sha256');
  const files = sources.flatMap((pattern) =>
    globSync(pattern, { cwd: root, withFileTypes: true }).flatMap((entry) => (entry.isFile() ? [path.relative(root, path.join(entry.parentPath, entry.name))] : [])),
  );
  for (const file of files.sort()) {
    hash.update(file).update('\0').update(readFileSync(path.join(root, file))).update('\0');
  }
  return hash.digest('hex');
}

export const webClientIsCurrent = (): boolean =>
  existsSync(path.join(webClientDist, 'index.html')) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === sourceHash();

/** Builds beside the current output and then swaps it in, so a server serving it never sees half a build. */
async function buildWebClient(): Promise<void> {
  const { build } = await import('vite');
  const hash = sourceHash();
  const next = `${webClientDist}.next-${process.pid}`;
  await build({ configFile: path.join(appDir, 'vite.config.ts'), build: { outDir: next } });
  writeFileSync(path.join(next, path.basename(stampFile)), hash);
  const previous = `${webClientDist}.previous-${process.pid}`;
  if (existsSync(webClientDist)) renameSync(webClientDist, previous);
  renameSync(next, webClientDist);
  rmSync(previous, { recursive: true, force: true });
}

/**
 * Builds the client when it is stale, in a process of its own: Vite sets NODE_ENV=production in the process it
 * builds in, which every process started from there would inherit (tests, the CLIs they run).
 */
export function ensureWebClient(): void {
  if (webClientIsCurrent()) return;
  const built = spawnSync(process.execPath, [fileURLToPath(import.meta.url)], { stdio: 'inherit' });
  if (built.status !== 0) throw new Error(`building the web client failed (exit ${built.status ?? built.signal})`);
}

if (import.meta.main) {
  if (process.argv.includes('--if-stale') && webClientIsCurrent()) process.exit(0);
  process.stdout.write('building the web client (e2e/app)…\n');
  await buildWebClient();
}
