import type { RequestHandler } from 'express';
import type pg from 'pg';
import type { SessionConfig } from './auth/sessions.ts';
import type { Config } from '../core/config.ts';
import type { InFlight } from './http/in-flight.ts';
import type { Licensing } from './license/licensing.ts';
import type { Logger } from '../core/logger.ts';
import type { AccessCache } from '../core/access/access-cache.ts';
import type { Collab, Keyring } from '../collab/index.ts';
import type { Ai } from '../ai/index.ts';
import type { Calls } from '../sfu/index.ts';

/** What route modules are given: configuration, the database pool, the access cache, the logger, auth. */
export interface AppContext {
  config: Config;
  db: pg.Pool;
  log: Logger;
  access: AccessCache;
  sessions: SessionConfig;
  authenticate: RequestHandler;
  inFlight: InFlight;
  collab: Collab;
  calls: Calls;
  ai: Ai;
  /** Encrypts stored content (documents, files). */
  keyring: Keyring;
  /** The licence in force: seats, features, status for the admin console. */
  licensing: Licensing;
}
