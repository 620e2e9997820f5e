import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createApp } from './app.ts';
import type { Config } from './config.ts';
import { openDatabase, type Database } from './db/database.ts';
import type { Logger } from './logger.ts';

export interface RunningServer {
  url: string;
  port: number;
  database: Database;
  close(): Promise<void>;
}

/** Opens the database (migrating it), then serves everything on one port. */
export async function startServer(config: Config, log: Logger): Promise<RunningServer> {
  const database = await openDatabase(
    { url: config.DATABASE_URL, dataDir: config.DATA_DIR, poolSize: config.DATABASE_POOL_SIZE },
    log,
  );
  const app = createApp(config, database, log);
  const http = app.listen(config.PORT, config.HOST);
  try {
    await once(http, 'listening');
  } catch (err) {
    await database.close();
    throw err;
  }
  // Slow clients must not hold sockets forever.
  http.headersTimeout = 15_000;
  http.requestTimeout = 30_000;
  const { port } = http.address() as AddressInfo;
  const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? 'localhost' : config.HOST;
  const url = `http://${host}:${port}`;
  log.info({ url, database: database.kind }, 'server listening');

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeIdleConnections();
      });
      await database.close();
      log.info('server stopped');
    })());
  return { url, port, database, close };
}
