// `npm start`: the whole server in one process, configured from the environment.
import { ConfigError, loadConfig } from '../core/config.ts';
import { createLogger } from '../core/logger.ts';
import { startServer } from './server.ts';

let config;
try {
  config = loadConfig();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
}
const log = createLogger(config.LOG_LEVEL);
let server;
try {
  server = await startServer(config, log);
} catch (err) {
  log.fatal({ err }, 'cannot start');
  process.stderr.write(`cannot start: ${(err as Error).message}\n`);
  process.exit(1);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    server.close().then(() => process.exit(0), (err) => {
      log.error({ err }, 'shutdown failed');
      process.exit(1);
    });
  });
}
