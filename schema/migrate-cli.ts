// `npm run migrate`: applies pending migrations to DATABASE_URL, or to the embedded database under DATA_DIR.
import { loadConfig } from '../server/config.ts';
import { createLogger } from '../server/logger.ts';
import { openDatabase } from '../server/db/database.ts';

const config = loadConfig();
const log = createLogger(config.LOG_LEVEL);
const db = await openDatabase({ url: config.DATABASE_URL, dataDir: config.DATA_DIR, poolSize: 1 }, log);
await db.close();
