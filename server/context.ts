import type { RequestHandler } from 'express';
import type pg from 'pg';
import type { SessionConfig } from './auth/sessions.ts';
import type { Config } from './config.ts';
import type { Database } from './db/database.ts';
import type { Logger } from './logger.ts';

/** What route modules are given: configuration, the database pool, the logger and the auth middleware. */
export interface AppContext {
  config: Config;
  database: Database;
  db: pg.Pool;
  log: Logger;
  sessions: SessionConfig;
  authenticate: RequestHandler;
}
