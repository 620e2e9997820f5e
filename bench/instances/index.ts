// `node bench/instances/index.ts`: what "acknowledged means stored" across instances costs. Two instances (in this
// process, real PostgreSQL and Redis) share one DOC; a writer on each. Baseline: only B's writer writes. Then both
// write at once, so every acknowledgement on B waits until the changes relayed from A are known stored (announced
// by A, or stored by B after 1 s). Figures: B's acknowledgement latency in both phases, and the rows written per
// client update (above 1: relayed changes stored twice). Needs TEST_DB=postgres, DATABASE_URL and REDIS_URL.
import { setUpTeam, startTestServer, testDb } from '../../server/test/harness.ts';
import { connect, paragraphText, writeParagraph, type Client } from '../../collab/test/clients.ts';
import { envInt } from '../shared/setup.ts';
import { percentile, round } from '../shared/stats.ts';

const edits = envInt('BENCH_EDITS', 300);
const redisUrl = process.env.REDIS_URL;
if (testDb !== 'postgres' || !process.env.DATABASE_URL || !redisUrl) {
  throw new Error('set TEST_DB=postgres, DATABASE_URL and REDIS_URL: the instances share PostgreSQL');
}

/** Writes `count` edits, each waiting for its acknowledgement; returns each one's latency in ms. */
async function write(client: Client, count: number, tag: string): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    // Measured on the provider's own event (client.saved() polls every 10 ms).
    const acknowledged = new Promise<void>((resolve) => {
      const seen = ({ number }: { number: number }) => {
        if (number > 0) return;
        client.provider.off('unsyncedChanges', seen);
        resolve();
      };
      client.provider.on('unsyncedChanges', seen);
    });
    paragraphText(client.doc, 0).insert(0, tag);
    await acknowledged;
    latencies.push(performance.now() - started);
  }
  return latencies;
}

const figures = (ms: number[]) => {
  const sorted = [...ms].sort((x, y) => x - y);
  return { p50_ms: round(percentile(sorted, 0.5)), p99_ms: round(percentile(sorted, 0.99)), max_ms: round(sorted.at(-1)!) };
};

const a = await startTestServer({ REDIS_URL: redisUrl });
const b = await startTestServer({ REDIS_URL: redisUrl, DATABASE_URL: a.databaseUrl!, JWT_SECRET: a.jwtSecret });
const open: Client[] = [];
try {
  const team = await setUpTeam(a, ['DOC']);
  const name = team.channels.DOC!;
  const onA = await connect(a, name, team.owner.token);
  const onB = await connect(b, name, team.member.token);
  open.push(onA, onB);
  writeParagraph(onA.doc, '');
  await onA.saved();
  while (onB.doc.getXmlFragment('default').length === 0) await new Promise((r) => setTimeout(r, 10));
  const rows = async () => {
    const { rows: [row] } = await a.database.pool.query(
      `SELECT count(*)::int AS all, count(*) FILTER (WHERE user_id IS NULL)::int AS server
         FROM document_writes WHERE document_name = $1`,
      [name],
    );
    return row as { all: number; server: number };
  };

  const before = await rows();
  const alone = await write(onB, edits, 'b');
  const middle = await rows();
  const [fromA, fromB] = await Promise.all([write(onA, edits, 'a'), write(onB, edits, 'b')]);
  const after = await rows();

  const result = {
    bench: 'instances',
    edits_per_writer: edits,
    baseline_b_alone: { ...figures(alone), rows_per_update: round((middle.all - before.all) / edits) },
    both_writing: {
      b: figures(fromB),
      a: figures(fromA),
      rows_per_update: round((after.all - middle.all) / (2 * edits), 3),
      relayed_rows_stored_again: after.server - middle.server,
    },
  };
  console.log(`B alone: p50 ${result.baseline_b_alone.p50_ms} ms, p99 ${result.baseline_b_alone.p99_ms} ms`);
  console.log(`both writing: B p50 ${result.both_writing.b.p50_ms} ms, p99 ${result.both_writing.b.p99_ms} ms;` +
    ` A p50 ${result.both_writing.a.p50_ms} ms, p99 ${result.both_writing.a.p99_ms} ms`);
  console.log(`rows per client update: ${result.both_writing.rows_per_update}` +
    ` (relayed changes stored again: ${result.both_writing.relayed_rows_stored_again})`);
  console.log(JSON.stringify(result));
} finally {
  for (const c of open) c.close();
  await b.close();
  await a.close();
}
