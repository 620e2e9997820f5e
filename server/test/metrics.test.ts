// /metrics after real work: a chat written over /collab (appends, a compaction), indexing and a search with an
// answer (the real embedder and Chroma, the Ollama double), and a call on a real mediasoup worker when one is
// installed. Each metric is read before and after, beside one that must not move.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { enqueue } from '../../ai/index.ts';
import { aiTestEnv, type AiTestEnv } from '../../ai/test/ai-server.ts';
import { chat } from '../../collab/index.ts';
import { connect, type Client } from '../../collab/test/clients.ts';
import { findWorkerBinary } from '../../sfu/index.ts';
import { clientDtls, joinCall, opusParameters, rtcConnect, type RtcClient } from '../../sfu/test/rtc-client.ts';
import { eventually, setUpTeam, startTestServer, type Team, type TestServer } from './harness.ts';

const workerInstalled = Boolean(findWorkerBinary(process.env.MEDIASOUP_WORKER_BIN).binary);

let ai: AiTestEnv;
let server: TestServer;
let team: Team;
const open: { close(): void }[] = [];

before(async () => {
  ai = await aiTestEnv();
  server = await startTestServer({
    ...ai.env,
    // Compacted by the store that follows the third update, so the log's bytes are seen to go and come back.
    COLLAB_COMPACT_AFTER: '3',
    SFU_WORKERS: workerInstalled ? '1' : '0',
  });
  team = await setUpTeam(server, ['TEXT', 'DOC', 'VOICE']);
});
after(async () => {
  for (const c of open) c.close();
  await server.close();
  await ai.close();
});

/** One scrape of /metrics: `value(name, labels)` sums the samples of `name` whose labels include `labels`. */
async function scrape() {
  const res = await server.call('GET', '/metrics');
  assert.equal(res.status, 200);
  const samples = (res.body as string).split('\n').filter((line) => line && !line.startsWith('#')).map((line) => {
    const [, name, labels = '', value] = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line)!;
    return { name: name!, labels: Object.fromEntries([...labels.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]])), value: Number(value) };
  });
  return {
    value(name: string, labels: Record<string, string> = {}) {
      const matching = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
      return matching.reduce((sum, s) => sum + s.value, 0);
    },
  };
}

describe('metrics', () => {
  it('collab: accepted updates and their bytes, append, load and store latency, log bytes; nothing refused', async () => {
    const beforeWork = await scrape();
    const writer: Client = await connect(server, team.channels.TEXT!, team.member.token);
    open.push(writer);
    for (const text of ['first of three', 'second of three']) {
      chat.writeMessage(writer.doc, { author_id: team.member.id, text });
      await writer.saved();
    }
    const written = await scrape();
    assert.equal(written.value('collab_updates_total') - beforeWork.value('collab_updates_total'), 2);
    assert.ok(written.value('collab_update_bytes_total') > beforeWork.value('collab_update_bytes_total') + 2 * 'of three'.length);
    assert.ok(written.value('collab_log_appended_bytes_total') >= written.value('collab_update_bytes_total') - beforeWork.value('collab_update_bytes_total'));
    assert.ok(written.value('collab_append_seconds_count') >= beforeWork.value('collab_append_seconds_count') + 2);
    assert.ok(written.value('collab_load_seconds_count') > beforeWork.value('collab_load_seconds_count'));
    assert.ok(written.value('collab_log_bytes') > 0, 'the appended updates are in the loaded document log');

    // The third update reaches COLLAB_COMPACT_AFTER: the next store folds the log into the snapshot.
    chat.writeMessage(writer.doc, { author_id: team.member.id, text: 'third of three' });
    await writer.saved();
    const compacted = await eventually(async () => {
      const now = await scrape();
      assert.ok(now.value('collab_snapshot_store_seconds_count') > written.value('collab_snapshot_store_seconds_count'));
      assert.equal(now.value('collab_log_bytes'), 0);
      return now;
    }, 20_000);
    // The control: every change was valid, so no rule refused anything.
    assert.equal(compacted.value('collab_refused_changes_total'), 0);
    assert.equal(compacted.value('collab_connections'), 1);
  });

  it('AI: the queue by kind and status, index lag, embeddings, Chroma and Ollama latency; nothing failed', async () => {
    const beforeWork = await scrape();
    assert.equal(beforeWork.value('ai_queue_jobs', { kind: 'index_file', status: 'queued' }), 0);
    // A job queued for later stays queued (no file is indexed otherwise here), so its age is the index lag.
    await enqueue(server.database.pool, { kind: 'index_file', fileId: randomUUID() }, 600_000);
    await eventually(async () => {
      const now = await scrape();
      assert.equal(now.value('ai_queue_jobs', { kind: 'index_file', status: 'queued' }), 1);
      assert.ok(now.value('ai_index_lag_seconds') > 0);
    });

    const writer = await connect(server, team.channels.TEXT!, team.owner.token);
    open.push(writer);
    chat.writeMessage(writer.doc, { author_id: team.owner.id, text: 'The metrics review happens every other tuesday' });
    await writer.saved();
    const search = () => server.call('POST', '/api/ai/search', { token: team.member.token, json: { query: 'when is the metrics review', top_k: 2 } });
    await eventually(async () => {
      await server.ai.drain();
      assert.match(JSON.stringify((await search()).body.sources), /metrics review/);
    }, 20_000);
    const indexed = await scrape();
    assert.ok(indexed.value('ai_chroma_operation_seconds_count', { operation: 'upsert' }) > beforeWork.value('ai_chroma_operation_seconds_count', { operation: 'upsert' }));
    assert.ok(indexed.value('ai_embedded_texts_total') > beforeWork.value('ai_embedded_texts_total'));
    assert.ok(indexed.value('ai_embedding_batch_seconds_count') > beforeWork.value('ai_embedding_batch_seconds_count'));

    const answer = await search();
    assert.equal(answer.status, 200);
    assert.ok(answer.body.answer, 'the double answered');
    const answered = await scrape();
    assert.equal(answered.value('ai_ollama_answer_seconds_count') - indexed.value('ai_ollama_answer_seconds_count'), 1);
    assert.equal(answered.value('ai_ollama_first_token_seconds_count') - indexed.value('ai_ollama_first_token_seconds_count'), 1);
    assert.ok(answered.value('ai_chroma_operation_seconds_count', { operation: 'query' }) > indexed.value('ai_chroma_operation_seconds_count', { operation: 'query' }));
    assert.equal(answered.value('ai_embedded_texts_total') - indexed.value('ai_embedded_texts_total'), 1, 'the query');
    // The control: no job failed.
    assert.equal(answered.value('ai_queue_jobs', { status: 'failed' }), 0);
  });

  it('SFU: producers, consumers and worker CPU during a call; no worker died', { skip: !workerInstalled && 'no mediasoup worker installed' }, async () => {
    const idle = await scrape();
    assert.equal(idle.value('sfu_producers'), 0);
    assert.equal(idle.value('sfu_consumers'), 0);
    const [ann, bob] = await Promise.all([team.owner, team.member].map((user) => rtcConnect(server, user.token, team.channels.VOICE!)));
    open.push(ann!, bob!);
    await joinCall(ann!);
    await produceMic(ann!);
    await joinCall(bob!);
    const recv = await bob!.ok('createWebRtcTransport', { direction: 'recv' });
    await bob!.ok('connectWebRtcTransport', { transport_id: recv.id, dtls_parameters: clientDtls });
    await bob!.next('newConsumer');

    const inCall = await scrape();
    assert.equal(inCall.value('sfu_rooms'), 1);
    assert.equal(inCall.value('sfu_peers'), 2);
    assert.equal(inCall.value('sfu_producers'), 1);
    assert.equal(inCall.value('sfu_consumers'), 1);
    const [worker] = server.calls.workers();
    assert.ok(inCall.value('sfu_worker_cpu_seconds_total', { pid: String(worker!.pid) }) > 0);
    // The control: the worker is the one that started.
    assert.equal(inCall.value('sfu_worker_deaths_total'), 0);
    assert.equal(inCall.value('sfu_workers'), 1);
  });
});

async function produceMic(client: RtcClient): Promise<void> {
  const send = await client.ok('createWebRtcTransport', { direction: 'send' });
  await client.ok('connectWebRtcTransport', { transport_id: send.id, dtls_parameters: clientDtls });
  await client.ok('produce', { transport_id: send.id, kind: 'audio', rtp_parameters: opusParameters(4242), app_data: { source: 'mic' } });
}
