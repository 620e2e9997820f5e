// `npm run admin:create [-- --username U --email E --password P]`: creates a superuser, or promotes an existing
// account; asks for what the flags leave out. With the embedded database, stop the server first (it holds the data).
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../core/config.ts';
import { openDatabase } from '../../core/db/database.ts';
import { createLogger } from '../../core/logger.ts';
import { createOrPromoteSuperuser, SuperuserSpec } from './superusers.ts';

const { values } = parseArgs({
  options: { username: { type: 'string' }, email: { type: 'string' }, password: { type: 'string' } },
});
const answers: Record<string, string | undefined> = { ...values };
if (!values.username || !values.email || !values.password) {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  for (const field of ['username', 'email', 'password'] as const) answers[field] ??= await rl.question(`${field}: `);
  rl.close();
}
const spec = SuperuserSpec.safeParse(answers);
if (!spec.success) {
  console.error(spec.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n'));
  process.exit(2);
}
const config = loadConfig();
const db = await openDatabase({ url: config.DATABASE_URL, dataDir: config.DATA_DIR, poolSize: 1 }, createLogger(config.LOG_LEVEL));
try {
  const outcome = await createOrPromoteSuperuser(db.pool, spec.data);
  console.log(`${spec.data.username}: ${outcome === 'created' ? 'created as a superuser' : 'promoted to superuser'}`);
} finally {
  await db.close();
}
