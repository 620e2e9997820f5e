// `npm run ai:worker`: works the indexing queue in its own process, beside servers started with
// AI_WORKER=none (or as well as them: jobs are claimed with SKIP LOCKED, so any number of workers share the queue).
import { keyringFromBase64 } from '../../collab/index.ts';
import { ConfigError, createLogger, loadConfig, openDatabase } from '../../core/index.ts';
import { createRegistry } from '../http/metrics.ts';
import { serveOperations } from '../http/operations-server.ts';
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
// The worker's own metrics (embeddings, Chroma) are counted only here: served when AI_WORKER_METRICS_PORT asks.
const metrics = config.AI_WORKER_METRICS_PORT === undefined ? undefined : { port: config.AI_WORKER_METRICS_PORT, registry: createRegistry() };
const ai = await startAiFromConfig(config, database, keyringFromBase64(config.ENCRYPTION_KEY, config.ENCRYPTION_OLD_KEYS), log, { worker: true, registry: metrics?.registry });
if (ai.unavailable) {
  log.fatal({ reason: ai.unavailable }, 'the AI worker cannot run');
  await database.close();
  process.exit(1);
}
const operations = metrics && await serveOperations({
  ...metrics, host: config.HOST, pool: database.pool, metricsToken: config.METRICS_TOKEN, log,
}).catch(async (err: unknown) => {
  // Asked for and not to be had (the port is taken): an operator would otherwise watch nothing, unaware.
  log.fatal({ err, port: metrics.port }, 'the AI worker cannot serve its metrics (AI_WORKER_METRICS_PORT)');
  await ai.close();
  await database.close();
  return process.exit(1);
});
if (operations) log.info({ port: operations.port }, 'AI worker metrics listening');
log.info('AI worker running');
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, async () => {
    log.info({ signal }, 'AI worker stopping');
    await operations?.close();
    await ai.close();
    await database.close();
    process.exit(0);
  });
}
