// `npm run keys:rotate`: re-encrypts every stored document and file under ENCRYPTION_KEY. Keep the previous keys in
// ENCRYPTION_OLD_KEYS until it has finished; it can be interrupted and run again.
import { createLogger, loadConfig, openDatabase } from '../../core/index.ts';
import { rotateFileKeys } from '../index.ts';
import { createDocumentStore } from '../../collab/storage/document-store.ts';
import { keyringFromBase64 } from '../../collab/storage/keyring.ts';

const config = loadConfig();
const log = createLogger(config.LOG_LEVEL);
const db = await openDatabase({ url: config.DATABASE_URL, dataDir: config.DATA_DIR, poolSize: 2 }, log);
try {
  const keyring = keyringFromBase64(config.ENCRYPTION_KEY, config.ENCRYPTION_OLD_KEYS);
  const result = await createDocumentStore(db.pool, keyring).rotateKeys();
  const files = await rotateFileKeys(db.pool, keyring);
  log.info(
    { ...result, ...files, key_id: keyring.currentKeyId },
    'every stored document and file is now under the current key',
  );
} finally {
  await db.close();
}
