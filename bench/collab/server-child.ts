// Our real server for bench/collab/index.ts, started the way production starts it and configured from the env.
// Besides the ready line it answers `mem` (after GC), `docs` (documents/connections open), `stored <name>`,
// `compact <name>`, `rules on|off`, and `crash` (exits at once, as kill -9 would: nothing is flushed or compacted).
import { rulesByChannelType, type ChannelRules } from '../../collab/rules/index.ts';
import { createLogger, loadConfig } from '../../core/index.ts';
import { startServer } from '../../server/index.ts';
import { collectedMemory, serveUntilTold } from '../shared/child.ts';

// The write rules' judging can be switched off, for the benchmark only: every change is then accepted (no check,
// no server fields), while the update still goes through the same path (applied in one transaction, attributed,
// stored). What `rules off` takes away is what validation costs.
const judged = { ...rulesByChannelType };
const acceptAll = Object.fromEntries(
  Object.entries(judged).map(([type, rules]) => [type, { roots: rules.roots, check: () => undefined } satisfies ChannelRules]),
);
const setRules = (on: boolean) => Object.assign(rulesByChannelType as Record<string, ChannelRules>, on ? judged : acceptAll);

const config = loadConfig(process.env);
const server = await startServer(config, createLogger(config.LOG_LEVEL));
const { hocuspocus } = server.collab;
serveUntilTold({ url: server.url, database: server.database.kind, pid: process.pid }, () => server.close(), {
  mem: collectedMemory,
  rules(arg) {
    if (arg !== 'on' && arg !== 'off') throw new Error('rules: on or off');
    setRules(arg === 'on');
    return { rules: arg };
  },
  docs: () => ({ documents: hocuspocus.getDocumentsCount(), connections: hocuspocus.getConnectionsCount() }),
  compact: async (name) => ({ ...(await server.collab.compact(name!)) }),
  // Under --cpu-prof (BENCH_PROF_DIR) through process.exit, which writes the profile and runs nothing of ours
  // either (no store, no compaction, no close); a SIGKILL would lose the profile.
  crash: () => (process.execArgv.some((arg) => arg.startsWith('--cpu-prof')) ? process.exit(137) : process.kill(process.pid, 'SIGKILL')),
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
