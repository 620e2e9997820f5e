// `npm run ai:worker`: works the indexing queue in its own process, beside servers started with
// AI_WORKER=none (or as well as them: jobs are claimed with SKIP LOCKED, so any number of workers share the queue).
import { keyringFromBase64 } from '../../collab/index.ts';
import { ConfigError, createLogger, loadConfig, openDatabase } from '../../core/index.ts';
import { startAiFromConfig } from '../index.ts';

let config;
try {
  config = loadConfig();
  if (!config.DATABASE_URL) {
    throw new ConfigError('invalid configuration:\n  DATABASE_URL: the AI worker shares the queue through PostgreSQL (the embedded database belongs to the server process)');
  }
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
}
const log = createLogger(config.LOG_LEVEL);
const database = await openDatabase({ url: config.DATABASE_URL, dataDir: config.DATA_DIR, poolSize: 4 }, log);
const ai = await startAiFromConfig(config, database, keyringFromBase64(config.ENCRYPTION_KEY, config.ENCRYPTION_OLD_KEYS), log, { worker: true });
if (ai.unavailable) {
  log.fatal({ reason: ai.unavailable }, 'the AI worker cannot run');
  await database.close();
  process.exit(1);
}
log.info('AI worker running');
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, async () => {
    log.info({ signal }, 'AI worker stopping');
    await ai.close();
    await database.close();
    process.exit(0);
  });
}
