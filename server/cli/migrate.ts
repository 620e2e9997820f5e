// `npm run migrate`: applies pending migrations to DATABASE_URL, or to the embedded database under DATA_DIR.
import { loadConfig } from '../../core/config.ts';
import { createLogger } from '../../core/logger.ts';
import { openDatabase } from '../../core/db/database.ts';

const config = loadConfig();
const log = createLogger(config.LOG_LEVEL);
const db = await openDatabase({ url: config.DATABASE_URL, dataDir: config.DATA_DIR, poolSize: 1 }, log);
await db.close();
