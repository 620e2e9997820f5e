// The layer check runs on the repository (every import runs one way) and on a small tree with imports against
// the layers, so it is seen to catch them.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { layerViolations } from './check-layers.ts';

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'teamspace-layers-'));
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
  }
  return root;
}

describe('one-way layers', () => {
  it('holds for the repository', () => {
    assert.deepEqual(layerViolations(fileURLToPath(new URL('..', import.meta.url))), []);
  });

  it('catches a domain importing the server and the ground importing a domain, beside imports that run one way', () => {
    const root = tree({
      'server/app.ts': "import { collab } from '../collab/index.ts';\nimport { db } from '../core/index.ts';\n",
      'collab/index.ts': "import { db } from '../core/index.ts';\nimport { wire } from '../server/app.ts';\n",
      'collab/test/x.test.ts': "import { app } from '../../server/app.ts';\n",
      'core/index.ts': "import { migrate } from '../schema/index.ts';\nconst later = () => import('../ai/index.ts');\n",
      'schema/index.ts': "export * from './api/common.ts';\n",
      'ai/index.ts': "import type { Collab } from '../collab/index.ts';\n",
    });
    try {
      assert.deepEqual(
        layerViolations(root).map((v) => `${v.file} → ${v.imports}`),
        ['collab/index.ts → server/app.ts', 'core/index.ts → ai/index.ts'],
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
