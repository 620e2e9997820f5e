// Our real server, started the way production starts it, for bench/api/index.ts. Configured from the env.
import { createLogger, loadConfig } from '../../core/index.ts';
import { startServer } from '../../server/index.ts';
import { serveUntilTold } from '../shared/child.ts';

const config = loadConfig(process.env);
const server = await startServer(config, createLogger(config.LOG_LEVEL));
serveUntilTold({ url: server.url, database: server.database.kind, pid: process.pid }, () => server.close());
