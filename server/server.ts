import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createApp } from './app.ts';
import type { Config } from './config.ts';
import { openDatabase, type Database } from './db/database.ts';
import { trackInFlight } from './http/in-flight.ts';
import type { Logger } from './logger.ts';
import { createAccessCache, type AccessCache } from './workspace/access-cache.ts';

export interface RunningServer {
  url: string;
  port: number;
  database: Database;
  access: AccessCache;
  close(): Promise<void>;
}

/** Opens the database (migrating it), then serves everything on one port. */
export async function startServer(config: Config, log: Logger): Promise<RunningServer> {
  const database = await openDatabase(
    { url: config.DATABASE_URL, dataDir: config.DATA_DIR, poolSize: config.DATABASE_POOL_SIZE },
    log,
  );
  let access: AccessCache;
  try {
    access = await createAccessCache(database, log);
  } catch (err) {
    await database.close();
    throw err;
  }
  const inFlight = trackInFlight();
  const app = createApp(config, database, access, inFlight, log);
  const http = app.listen(config.PORT, config.HOST);
  try {
    await once(http, 'listening');
  } catch (err) {
    await access.stop();
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
      await inFlight.drained(5000);
      await access.stop();
      await database.close();
      log.info('server stopped');
    })());
  return { url, port, database, access, close };
}
