import type { Registry } from 'prom-client';
import { startAi, type Ai } from '../../ai/index.ts';
import type { Keyring } from '../../collab/index.ts';
import type { Config } from '../../core/config.ts';
import type { Database } from '../../core/db/database.ts';
import { readFileText } from '../files/store.ts';
import type { Logger } from '../../core/logger.ts';

/**
 * The AI part as the configuration describes it: in the server (with its metrics in `registry`), or alone in
 * `npm run ai:worker` (`worker: true`).
 */
export function startAiFromConfig(
  config: Config,
  database: Pick<Database, 'pool' | 'storage'>,
  keyring: Keyring,
  log: Logger,
  { worker = config.AI_WORKER === 'in-process', registry }: { worker?: boolean; registry?: Registry } = {},
): Promise<Ai> {
  const { pool, storage } = database;
  return startAi({
    pool,
    storage,
    keyring,
    log,
    dataDir: config.DATA_DIR,
    enabled: config.AI_ENABLED,
    chromaUrl: config.CHROMA_URL,
    modelsDir: config.MODELS_DIR,
    embeddingModel: config.EMBEDDING_MODEL,
    embeddingDtype: config.EMBEDDING_DTYPE,
    embeddingBatch: config.EMBEDDING_BATCH,
    ollamaHost: config.OLLAMA_HOST,
    ollamaModel: config.OLLAMA_MODEL,
    numCtx: config.OLLAMA_NUM_CTX,
    worker,
    indexDebounceMs: config.AI_INDEX_DEBOUNCE_MS,
    sweepIntervalSeconds: config.AI_SWEEP_INTERVAL_SECONDS,
    readFileText: (fileId) => readFileText(pool, keyring, fileId),
    registry,
  });
}
