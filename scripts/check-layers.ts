// The one-way layers of DESIGN.md ("Layout"): `server` (HTTP, admin, wiring) → the domains `collab`, `sfu`, `ai` →
// the ground, `core` (config, logger, database, errors, access, tokens) → `schema` (migrations and API shapes).
// Nothing imports what is above it: the ground imports no domain and no server, a domain never imports the server. Tests and benchmarks may start the whole server, so `test/` folders and
// `*.test.ts` files are outside the rule, as are `e2e/`, `bench/` and `scripts/`, which sit on top of everything.
import { globSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const rank: Record<string, number> = { schema: 0, core: 1, collab: 2, sfu: 2, ai: 2, server: 3 };

export interface LayerViolation {
  file: string;
  imports: string;
  why: string;
}

const specifiers = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"](\.{1,2}\/[^'"]+)['"]/g;

const topFolder = (file: string) => file.split('/')[0]!;
const exempt = (file: string) => /(^|\/)test\//.test(file) || file.endsWith('.test.ts');

/** Every import in the layered folders of `root` that points up (or from the ground into a domain). */
export function layerViolations(root: string): LayerViolation[] {
  const found: LayerViolation[] = [];
  const files = globSync(`{${Object.keys(rank).join(',')}}/**/*.ts`, { cwd: root }).filter((file) => !exempt(file));
  for (const file of files.sort()) {
    const from = topFolder(file);
    for (const [, spec] of readFileSync(path.join(root, file), 'utf8').matchAll(specifiers)) {
      const target = path.relative(root, path.resolve(root, path.dirname(file), spec!)).split(path.sep).join('/');
      const to = topFolder(target);
      if (to === from || !(to in rank) || exempt(target)) continue;
      if (rank[to]! > rank[from]!) {
        found.push({ file, imports: target, why: `${from} sits below ${to}: imports run ${to} → ${from}, never back` });
      }
    }
  }
  return found;
}

if (import.meta.main) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const violations = layerViolations(root);
  for (const v of violations) process.stdout.write(`${v.file} imports ${v.imports}: ${v.why}\n`);
  process.stdout.write(violations.length ? `${violations.length} imports against the layers\n` : 'layers: every import runs one way\n');
  process.exitCode = violations.length ? 1 : 0;
}
