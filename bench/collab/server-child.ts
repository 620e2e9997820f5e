// Our real server for bench/collab/index.ts, started the way production starts it and configured from the env.
// Besides the ready line it answers `mem` (after GC), `docs` (documents/connections open) and `stored <name>`.
import { createLogger, loadConfig, startServer } from '../../server/index.ts';
import { collectedMemory, serveUntilTold } from '../shared/child.ts';

const config = loadConfig(process.env);
const server = await startServer(config, createLogger(config.LOG_LEVEL));
const { hocuspocus } = server.collab;
serveUntilTold({ url: server.url, database: server.database.kind, pid: process.pid }, () => server.close(), {
  mem: collectedMemory,
  docs: () => ({ documents: hocuspocus.getDocumentsCount(), connections: hocuspocus.getConnectionsCount() }),
  // What a document takes in storage: its encrypted log and snapshot.
  async stored(name) {
    const { rows } = await server.database.pool.query<{ bytes: string; rows: string }>(
      `SELECT coalesce(sum(length(payload)), 0) AS bytes, count(*) AS rows FROM (
         SELECT payload FROM document_updates WHERE document_name = $1
         UNION ALL SELECT payload FROM document_snapshots WHERE document_name = $1) stored`,
      [name],
    );
    return { bytes: Number(rows[0]!.bytes), rows: Number(rows[0]!.rows) };
  },
});
