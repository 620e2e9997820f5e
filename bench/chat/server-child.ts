// Our real server for bench/chat/index.ts, started the way production starts it. Besides the ready line it answers
// `mem` (after GC), `docs` (documents and connections open), `loads` (how long each document loaded since the last
// `loads`, timed around Hocuspocus' loadDocument: every onLoadDocument and afterLoadDocument hook, so finding the
// live part's generation, reading and decrypting it and applying it), and `rollover <channel id>` (timed here).
import { createLogger, loadConfig } from '../../core/index.ts';
import { startServer } from '../../server/index.ts';
import { collectedMemory, serveUntilTold } from '../shared/child.ts';

const config = loadConfig(process.env);
const server = await startServer(config, createLogger(config.LOG_LEVEL));
const { hocuspocus } = server.collab;
const loads: { document: string; ms: number }[] = [];
const loadDocument = hocuspocus.loadDocument.bind(hocuspocus);
hocuspocus.loadDocument = async (...args: Parameters<typeof loadDocument>) => {
  const t0 = performance.now();
  try {
    return await loadDocument(...args);
  } finally {
    loads.push({ document: args[0], ms: performance.now() - t0 });
  }
};
serveUntilTold({ url: server.url, database: server.database.kind, pid: process.pid }, () => server.close(), {
  mem: collectedMemory,
  docs: () => ({ documents: hocuspocus.getDocumentsCount(), connections: hocuspocus.getConnectionsCount() }),
  loads: () => ({ loads: loads.splice(0) }),
  async rollover(channelId) {
    const t0 = performance.now();
    const done = await server.collab.history.rollOver(channelId!);
    return { ms: performance.now() - t0, ...done };
  },
});
