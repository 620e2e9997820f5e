// Appends are group-committed: concurrent appends of many documents share statements, yet each resolves only once
// its own row has committed, rejects with its own row's error (a sealed document's append beside others that
// commit), keeps its document's order, and a flooded document does not hold back another's append.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createDocumentStore, keyringFromBase64, type DocumentStore } from '../index.ts';
import type { WriteRecord } from '../storage/document-store.ts';
import { startTestServer, type TestServer } from '../../server/test/harness.ts';

let server: TestServer;
let store: DocumentStore;
before(async () => {
  server = await startTestServer();
  store = createDocumentStore(server.database.storage, keyringFromBase64(randomBytes(32).toString('base64')));
});
after(async () => {
  await server.close();
});

const byServer: WriteRecord = { userId: null, inserted: [], deleted: [], newClients: [] };
/** An "update" whose bytes say which document and which append it was (load only decrypts; nothing applies it). */
const tagged = (name: string, seq: number) => new TextEncoder().encode(`${name}#${seq}`);
const tags = async (name: string) =>
  (await store.load(name)).parts.map((part) => new TextDecoder().decode(part));
/** Transactions that committed a document's log rows (rows inserted by one statement share their xmin). */
const transactions = async (names: string[]) =>
  (await server.database.pool.query<{ n: number }>(
    'SELECT count(DISTINCT xmin::text)::int AS n FROM document_updates WHERE document_name = ANY($1)',
    [names],
  )).rows[0]!.n;

describe('group commit of appends', () => {
  it('concurrent appends of many documents commit together, each document in its order', async () => {
    const names = Array.from({ length: 8 }, () => randomUUID());
    const perDocument = 25;
    const appends: Promise<void>[] = [];
    for (let seq = 0; seq < perDocument; seq++) {
      for (const name of names) appends.push(store.append(name, tagged(name, seq), byServer));
    }
    await Promise.all(appends);
    for (const name of names) {
      assert.deepEqual(await tags(name), Array.from({ length: perDocument }, (_, seq) => `${name}#${seq}`));
    }
    const committed = await transactions(names);
    assert.ok(committed < appends.length / 4, `${appends.length} appends in ${committed} transactions`);
  });

  it("a sealed document's append fails with its own error while the others of its batch commit", async () => {
    const [open, sealed, other] = [randomUUID(), randomUUID(), randomUUID()];
    await server.database.pool.query('INSERT INTO document_fences (document_name, sealed) VALUES ($1, true)', [sealed]);
    // Submitted together: after the first (which goes out alone), the rest share one batch until it fails.
    const outcomes = await Promise.allSettled([
      store.append(open, tagged(open, 0), byServer),
      store.append(open, tagged(open, 1), byServer),
      store.append(sealed, tagged(sealed, 0), byServer),
      store.append(other, tagged(other, 0), byServer),
      store.append(open, tagged(open, 2), byServer),
      store.append(sealed, tagged(sealed, 1), byServer),
      store.append(other, tagged(other, 1), byServer),
    ]);
    const refused = outcomes.filter((o) => o.status === 'rejected').map((o) => (o as PromiseRejectedResult).reason);
    assert.equal(refused.length, 2, 'both appends to the sealed document fail, and only they');
    for (const err of refused) {
      assert.equal(err.code, 'TS409', 'the error of its own row, as pg reported it');
      assert.match(err.message, new RegExp(`document ${sealed} is sealed`));
    }
    assert.equal(outcomes[2]!.status, 'rejected');
    assert.equal(outcomes[5]!.status, 'rejected');
    assert.deepEqual(await tags(open), [0, 1, 2].map((seq) => `${open}#${seq}`), 'the open document, in order');
    assert.deepEqual(await tags(other), [0, 1].map((seq) => `${other}#${seq}`));
    assert.deepEqual(await tags(sealed), []);
  });

  it("a flooded document's queue does not hold back another document's append", async () => {
    const [flooded, quiet] = [randomUUID(), randomUUID()];
    let floodDone = 0;
    const flood = Array.from({ length: 1000 }, (_, seq) =>
      store.append(flooded, tagged(flooded, seq), byServer).then(() => void floodDone++));
    await store.append(quiet, tagged(quiet, 0), byServer);
    assert.ok(floodDone < flood.length / 2, `the quiet append waited for ${floodDone} of ${flood.length} flood appends`);
    await Promise.all(flood);
    assert.equal(floodDone, flood.length, 'positive control: the flood is stored too');
    assert.equal((await tags(flooded)).length, flood.length);
  });

  it('a load sees every append made before it, even one still in flight', async () => {
    const name = randomUUID();
    const appended = store.append(name, tagged(name, 0), byServer);
    const loaded = await store.load(name);
    await appended;
    assert.deepEqual(loaded.parts.map((part) => new TextDecoder().decode(part)), [`${name}#0`]);
    assert.equal(loaded.logLength, 1);
  });
});
