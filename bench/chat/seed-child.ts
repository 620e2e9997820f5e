// Writes bench/chat's histories straight into the database, while no server runs on it (PGlite allows one process),
// so the server started after it opens every channel cold. Answers `seed <HistoryShape as JSON>` with `Written`.
import { keyringFromBase64 } from '../../collab/index.ts';
import { createLogger, loadConfig, openDatabase } from '../../core/index.ts';
import { serveUntilTold } from '../shared/child.ts';
import { writeHistory, type HistoryShape } from './history.ts';

const config = loadConfig(process.env);
const database = await openDatabase(
  { url: config.DATABASE_URL, dataDir: config.DATA_DIR, poolSize: config.DATABASE_POOL_SIZE },
  createLogger(config.LOG_LEVEL),
);
const keyring = keyringFromBase64(config.ENCRYPTION_KEY, config.ENCRYPTION_OLD_KEYS);
// No URL to serve: the ready line's `url` only tells the parent the database is open.
serveUntilTold({ url: '', database: database.kind }, () => database.close(), {
  seed: async (arg) => ({ ...(await writeHistory(database.pool, keyring, JSON.parse(arg!) as HistoryShape)) }),
  // What the channel's documents take in storage, encrypted: its live part and all of it.
  async stored(channelId) {
    const { rows: [row] } = await database.pool.query<{ live: string; total: string; documents: string }>(
      `SELECT coalesce(sum(octet_length(s.payload)) FILTER (WHERE s.document_name = g.storage_name), 0) AS live,
              coalesce(sum(octet_length(s.payload)), 0) AS total, count(*) AS documents
       FROM document_snapshots s
       JOIN (SELECT storage_name FROM chat_generations WHERE channel_id = $1 ORDER BY generation DESC LIMIT 1) g ON true
       WHERE s.document_name = g.storage_name OR s.document_name IN (SELECT document_name FROM chat_segments WHERE channel_id = $1)`,
      [channelId],
    );
    return { live_bytes: Number(row!.live), total_bytes: Number(row!.total), documents: Number(row!.documents) };
  },
});
