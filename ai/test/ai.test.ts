// The AI part against a running server: real transformers.js (on a model folder written here), a real local
// Chroma, and an Ollama-compatible double (the only stand-in: no model can be installed here).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as Y from 'yjs';
import { chat, kanban, page, tasks } from '../../collab/index.ts';
import { connect, type Client } from '../../collab/test/clients.ts';
import { eventually, setUpTeam, startTestServer, type Team, type TestServer } from '../../server/test/harness.ts';
import { makePdf } from '../../server/test/make-pdf.ts';
import { openVectorStore } from '../vector-store.ts';
import { writeTestModel } from './model-folder.ts';
import { startOllamaDouble, type OllamaDouble } from './ollama-double.ts';

let server: TestServer;
let ollama: OllamaDouble;
let modelsDir: string;
let a: Team;
let b: Team;
const open: Client[] = [];

before(async () => {
  modelsDir = await mkdtemp(path.join(os.tmpdir(), 'teamspace-models-'));
  const model = await writeTestModel(modelsDir);
  ollama = await startOllamaDouble();
  server = await startTestServer({
    AI_ENABLED: 'true', MODELS_DIR: model.modelsDir, EMBEDDING_MODEL: model.name, EMBEDDING_DTYPE: 'q8',
    OLLAMA_HOST: ollama.url, OLLAMA_MODEL: 'llama3.2:1b', OLLAMA_NUM_CTX: '2048', AI_INDEX_DEBOUNCE_MS: '0',
    DATA_RETENTION_DAYS: '30', RETENTION_INTERVAL_SECONDS: '1',
  });
  a = await setUpTeam(server, ['TEXT', 'DOC', 'TODO', 'KANBAN']);
  b = await setUpTeam(server, ['TEXT']);
});
after(async () => {
  for (const c of open) c.close();
  await server.close();
  await ollama.close();
  await rm(modelsDir, { recursive: true, force: true });
});

async function client(team: Team, type: string): Promise<Client> {
  const c = await connect(server, team.channels[type]!, team.member.token);
  open.push(c);
  return c;
}

/** Stores what the client wrote, then runs the indexing queue until `check` passes. */
async function indexed<T>(check: () => Promise<T>): Promise<T> {
  return eventually(async () => {
    await server.ai.drain();
    return check();
  }, 15_000);
}

async function search(token: string, json: object) {
  const res = await server.call('POST', '/api/ai/search', { token, json });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body as { answer: string | null; sources: { channel_id: string; text: string; source: string; item_ids: string[] }[]; error?: { code: string } };
}

describe('AI search over live documents', () => {
  it('indexes what clients write in every channel type, and answers with citations', async () => {
    const chatClient = await client(a, 'TEXT');
    chat.writeMessage(chatClient.doc, { author_id: a.member.id, text: 'The release train leaves on friday after the database migration' });
    chat.writeMessage(chatClient.doc, { author_id: a.member.id, text: 'Remember to water the office plants' });
    const todo = await client(a, 'TODO');
    tasks.addTask(todo.doc, { content: 'Rotate the staging certificates before the audit' });
    const board = await client(a, 'KANBAN');
    const column = kanban.addColumn(board.doc, 'Doing');
    kanban.addCard(board.doc, column.id, 'Benchmark the kanban drag latency');
    const doc = await client(a, 'DOC');
    page.replacePage(doc.doc, page.encodePage(page.textToPage('Onboarding guide\nNew hires get a laptop and a buddy on day one')), a.member.id);
    await Promise.all([chatClient, todo, board, doc].map((c) => c.saved()));

    const found = await indexed(async () => {
      const res = await search(a.member.token, { query: 'when does the release train leave', top_k: 3 });
      assert.match(res.sources[0]?.text ?? '', /release train leaves on friday/);
      return res;
    });
    assert.equal(found.sources[0]!.channel_id, a.channels.TEXT);
    assert.equal(found.sources[0]!.source, 'message');
    assert.match(found.answer ?? '', /\[1\]/, 'the answer cites its sources');
    for (const [query, channel, pattern] of [
      ['staging certificates audit', a.channels.TODO, /Task: Rotate the staging certificates/],
      ['kanban drag latency benchmark', a.channels.KANBAN, /Doing: Benchmark the kanban drag latency/],
      ['laptop buddy new hires onboarding', a.channels.DOC, /New hires get a laptop/],
    ] as const) {
      const res = await indexed(async () => {
        const r = await search(a.viewer.token, { query, top_k: 1 });
        assert.equal(r.sources[0]?.channel_id, channel, query);
        return r;
      });
      assert.match(res.sources[0]!.text, pattern);
    }
    // What went to the model: the question, the sources, and an explicit context size, streamed.
    const asked = ollama.requests.filter((r) => r.path === '/api/chat').at(-1)!;
    assert.equal(asked.body!.stream, true);
    assert.equal(asked.body!.options?.num_ctx, 2048);
  });

  it('an edit replaces its chunks and a delete removes them', async () => {
    const c = await client(a, 'TEXT');
    const m = chat.writeMessage(c.doc, { author_id: a.member.id, text: 'The quarterly offsite happens in Lisbon' });
    await c.saved();
    await indexed(async () => {
      assert.match((await search(a.member.token, { query: 'quarterly offsite Lisbon', top_k: 1 })).sources[0]?.text ?? '', /Lisbon/);
    });
    chat.editMessage(c.doc, m.id, 'The quarterly offsite happens in Porto');
    await c.saved();
    await indexed(async () => {
      const all = (await search(a.member.token, { query: 'quarterly offsite Lisbon Porto', top_k: 20 })).sources.map((s) => s.text).join('\n');
      assert.match(all, /Porto/);
      assert.doesNotMatch(all, /Lisbon/);
    });
    chat.deleteMessage(c.doc, m.id);
    await c.saved();
    await indexed(async () => {
      const all = (await search(a.member.token, { query: 'quarterly offsite Porto', top_k: 20 })).sources.map((s) => s.text).join('\n');
      assert.doesNotMatch(all, /offsite/);
    });
  });

  it('messages expired by retention leave Chroma too', async () => {
    const c = await client(a, 'TEXT');
    const m = chat.writeMessage(c.doc, { author_id: a.member.id, text: 'The old wifi password was hunter two' });
    await c.saved();
    await indexed(async () => {
      assert.match((await search(a.member.token, { query: 'old wifi password', top_k: 1 })).sources[0]?.text ?? '', /wifi/);
    });
    // Backdated past DATA_RETENTION_DAYS on the server (retention goes by the server's `received_at`, which no
    // client may write): the next retention pass deletes it and stores the document.
    await server.collab.change(a.channels.TEXT!, (doc) => {
      doc.getArray<Y.Map<unknown>>('messages').forEach((entry) => {
        if (entry.get('id') === m.id) entry.set('received_at', new Date(Date.now() - 40 * 86_400_000).toISOString());
      });
    });
    await indexed(async () => {
      assert.ok(!chat.readMessages(c.doc).some((x) => x.id === m.id), 'retention removed it');
      const all = (await search(a.member.token, { query: 'old wifi password hunter', top_k: 50 })).sources;
      assert.ok(all.every((s) => !/wifi/.test(s.text)), 'and its chunk is gone');
    });
  });

  it("never gives one group's content to another, whatever channel_ids say", async () => {
    const secret = await client(b, 'TEXT');
    chat.writeMessage(secret.doc, { author_id: b.member.id, text: 'Our acquisition codename is bluefin lagoon' });
    await secret.saved();
    await indexed(async () => {
      assert.match((await search(b.member.token, { query: 'acquisition codename', top_k: 1 })).sources[0]?.text ?? '', /bluefin/);
    });
    const before = ollama.requests.length;
    for (const json of [
      { query: 'acquisition codename bluefin lagoon' },
      { query: 'acquisition codename bluefin lagoon', channel_ids: [b.channels.TEXT] },
      { query: 'acquisition codename bluefin lagoon', channel_ids: [b.channels.TEXT, a.channels.TEXT] },
    ]) {
      const res = await search(a.member.token, { ...json, top_k: 50 });
      assert.ok(res.sources.every((s) => s.channel_id !== b.channels.TEXT), JSON.stringify(json));
      assert.doesNotMatch(JSON.stringify(res.sources), /codename is bluefin/);
    }
    // Only B's channel asked for: nothing readable, so no answer and the model is not asked at all.
    const none = await search(a.member.token, { query: 'bluefin', channel_ids: [b.channels.TEXT] });
    assert.deepEqual(none, { answer: null, sources: [] });
    assert.ok(ollama.requests.slice(before).every((r) => !JSON.stringify(r.body).includes('codename is bluefin')), 'nothing of B reached a prompt');
    // An outsider of both sees nothing; a summary of B's channel is refused to A.
    assert.deepEqual((await search(a.outsider.token, { query: 'bluefin release' })).sources, []);
    const summary = await server.call('POST', `/api/ai/summarize/${b.channels.TEXT}`, { token: a.member.token });
    assert.equal(summary.status, 404);
  });

  it('finds a DM for its participants, never for anyone else of their group', async () => {
    const dm = await server.call('POST', '/api/dms', { token: a.member.token, json: { user_id: a.viewer.id } });
    assert.ok(dm.status === 201 || dm.status === 200, JSON.stringify(dm.body));
    const c = await connect(server, dm.body.id, a.member.token);
    open.push(c);
    chat.writeMessage(c.doc, { author_id: a.member.id, text: 'The surprise party venue is marigold rooftop' });
    await c.saved();
    for (const participant of [a.member, a.viewer]) {
      await indexed(async () => {
        const hit = (await search(participant.token, { query: 'surprise party venue', top_k: 1 })).sources[0];
        assert.equal(hit?.channel_id, dm.body.id);
      });
    }
    // The owner reads every channel of the group, but not the DM; B's member reads neither.
    for (const other of [a.owner, b.member]) {
      for (const topK of [1, 50]) {
        const res = await search(other.token, { query: 'surprise party venue marigold rooftop', top_k: topK });
        assert.ok(res.sources.every((s) => s.channel_id !== dm.body.id && !/marigold/.test(s.text)), `top ${topK}`);
      }
    }
  });

  it('streams the answer as Server-Sent Events', async () => {
    const res = await fetch(`${server.url}/api/ai/search`, {
      method: 'POST',
      headers: { authorization: `Bearer ${a.member.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'release train friday', stream: true }),
    });
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    const events = [...(await res.text()).matchAll(/event: (\w+)\ndata: (.*)\n\n/g)].map((m) => [m[1], JSON.parse(m[2]!)]);
    assert.equal(events[0]![0], 'sources');
    assert.ok(events[0]![1].length > 0);
    const tokens = events.filter(([e]) => e === 'token');
    assert.ok(tokens.length > 1, 'the answer arrives in pieces');
    assert.equal(events.at(-1)![0], 'done');
  });

  it('summarizes a channel for its members', async () => {
    const res = await server.call('POST', `/api/ai/summarize/${a.channels.TEXT}`, { token: a.viewer.token });
    assert.equal(res.status, 200);
    assert.equal(res.body.channel_id, a.channels.TEXT);
    assert.ok(res.body.summary.length > 0);
    const asked = ollama.requests.filter((r) => r.path === '/api/chat').at(-1)!;
    assert.match(JSON.stringify(asked.body!.messages), /release train/);
  });

  it('indexes uploaded files page by page, and cites the file', async () => {
    const upload = async (name: string, bytes: Buffer) => {
      const form = new FormData();
      form.append('file', new Blob([new Uint8Array(bytes)]), name);
      const res = await server.call('POST', `/api/files/upload/${a.channels.TEXT}`, { token: a.member.token, multipart: form });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body.id as string;
    };
    const txt = await upload('notes.txt', Buffer.from('Parking passes are renewed every january at the front desk'));
    const md = await upload('policy.md', Buffer.from('# Travel\n\nTrain tickets above fifty euros need approval from finance'));
    const pdf = await upload('handbook.pdf', makePdf(['Welcome to the handbook', 'Vacation requests go through the calendar tool']));
    for (const [query, fileId, page] of [
      ['parking passes january front desk', txt, 1],
      ['train tickets approval finance', md, 1],
      ['vacation requests calendar tool', pdf, 2],
    ] as const) {
      const hit = await indexed(async () => {
        const res = await search(a.member.token, { query, top_k: 1 });
        assert.equal(res.sources[0]?.source, 'file', query);
        return res.sources[0] as unknown as { file_id: string; page: number };
      });
      assert.equal(hit.file_id, fileId);
      assert.equal(hit.page, page);
    }
    // Another group's member finds none of it.
    const other = await search(b.member.token, { query: 'vacation requests calendar tool parking passes', top_k: 20 });
    assert.ok(other.sources.every((s) => s.source !== 'file'));

    // The index loses a file's chunks (as when restored without Chroma's data): the sweep queues it again.
    const health = (await server.call('GET', '/api/ai/health', { token: a.member.token })).body;
    const store = await openVectorStore(health.chroma.url, health.embedder.model, health.embedder.dimension);
    await store.deleteWhere({ file_id: pdf });
    const fileHits = async () => (await search(a.member.token, { query: 'vacation requests calendar tool', top_k: 5 })).sources
      .filter((s) => (s as unknown as { file_id?: string }).file_id === pdf);
    assert.deepEqual(await fileHits(), [], 'gone from the index');
    const { queued } = await server.ai.sweep();
    assert.ok(queued >= 1);
    await indexed(async () => assert.equal((await fileHits()).length > 0, true, 'indexed again'));
  });

  it('@AI in a TEXT channel gets a reply in its thread, streamed into the chat for everyone watching', async () => {
    const asker = await client(a, 'TEXT');
    const watcher = await connect(server, a.channels.TEXT!, a.viewer.token);
    open.push(watcher);
    const words = Array.from({ length: 30 }, (_, i) => `word${i}`).join(' ');
    const { responder, pieceDelayMs } = ollama;
    ollama.responder = () => `The train leaves on friday [1]. ${words}`;
    ollama.pieceDelayMs = 25;
    try {
      const question = chat.writeMessage(asker.doc, { author_id: a.member.id, text: '@AI when does the release train leave?' });
      await asker.saved();
      const seen = new Set<string>();
      const replyOf = () => chat.readMessages(watcher.doc).find((m) => m.parent_id === question.id);
      watcher.doc.on('update', () => {
        const reply = replyOf();
        if (reply) seen.add(reply.text);
      });
      await eventually(async () => assert.ok(replyOf()?.text.endsWith('word29'), replyOf()?.text), 20_000);
      const reply = replyOf()!;
      assert.notEqual(reply.author_id, a.member.id);
      assert.equal(reply.text, `The train leaves on friday [1]. ${words}`);
      assert.ok(seen.size >= 3, `the watcher saw the reply grow (${seen.size} states), not arrive whole`);
      assert.ok(seen.size < 40, `written in batches, not one update per token (${seen.size} states)`);
      // The asking user's retrieval went into the prompt.
      const asked = ollama.requests.filter((r) => r.path === '/api/chat').at(-1)!;
      assert.match(JSON.stringify(asked.body!.messages), /release train leaves on friday/);
      // Answered once, even when the document is stored again.
      chat.writeMessage(asker.doc, { author_id: a.member.id, text: 'thanks' });
      await asker.saved();
      await new Promise((resolve) => setTimeout(resolve, 2500));
      assert.equal(chat.readMessages(watcher.doc).filter((m) => m.parent_id === question.id).length, 1);
    } finally {
      ollama.responder = responder;
      ollama.pieceDelayMs = pieceDelayMs;
    }
  });

  it('the sweep drops the chunks of channels that are gone and re-queues the rest', async () => {
    const gone = await setUpTeam(server, ['TEXT']);
    const c = await connect(server, gone.channels.TEXT!, gone.member.token);
    chat.writeMessage(c.doc, { author_id: gone.member.id, text: 'A channel about to disappear' });
    await c.saved();
    c.close();
    const chunks = async () => (await server.call('GET', '/api/ai/health', { token: a.member.token })).body.chroma.chunks as number;
    await indexed(async () => {
      assert.match((await search(gone.member.token, { query: 'channel about to disappear' })).sources[0]?.text ?? '', /disappear/);
    });
    const before = await chunks();
    await server.database.pool.query('DELETE FROM channels WHERE id = $1', [gone.channels.TEXT]);
    const live = await server.database.pool.query(`SELECT count(*)::int AS n FROM channels WHERE type <> 'VOICE'`);
    // What the sweep queued, not what the queue holds afterwards: the in-process worker may already have done some.
    const swept = await server.ai.sweep();
    assert.equal(await chunks(), before - 1);
    assert.equal(swept.dropped, 1, 'the gone channel left Chroma');
    assert.equal(swept.queued, live.rows[0].n, 'every remaining channel is queued again');
    assert.ok(swept.queued >= 4);
    await server.ai.drain();
    assert.equal(await chunks(), before - 1, 'nothing else changed');
  });

  it('summarizes a long chat by map-reduce: parts that fit the context, then their summaries together', async () => {
    const team = await setUpTeam(server, ['TEXT']);
    const c = await connect(server, team.channels.TEXT!, team.member.token);
    open.push(c);
    for (let i = 0; i < 40; i++) {
      const words = Array.from({ length: 60 }, (_, w) => `topic${i}word${w}`).join(' ');
      chat.writeMessage(c.doc, { author_id: team.member.id, text: `Status ${i}: ${words}` });
    }
    await c.saved();
    const before = ollama.requests.filter((r) => r.path === '/api/chat').length;
    const res = await server.call('POST', `/api/ai/summarize/${team.channels.TEXT}`, { token: team.member.token });
    assert.equal(res.status, 200);
    assert.ok(res.body.parts >= 2, `parts: ${res.body.parts}`);
    const calls = ollama.requests.filter((r) => r.path === '/api/chat').slice(before);
    assert.ok(calls.length > res.body.parts, 'one call per part, then at least one to combine them');
    // Every call fits the context window it asked for.
    for (const call of calls) {
      assert.ok(JSON.stringify(call.body!.messages).length / 4 < 2048, 'within OLLAMA_NUM_CTX');
      assert.equal(call.body!.options?.num_ctx, 2048);
    }
  });

  it('reports its health, and with Ollama down still returns sources with a clear error', async () => {
    const health = await server.call('GET', '/api/ai/health', { token: a.member.token });
    assert.equal(health.status, 200);
    assert.equal(health.body.status, 'ok');
    assert.equal(health.body.embedder.loaded, true);
    assert.equal(health.body.chroma.reachable, true);
    assert.equal(health.body.ollama.model_present, true);
    await ollama.close();
    const res = await search(a.member.token, { query: 'release train friday' });
    assert.ok(res.sources.length > 0);
    assert.equal(res.answer, null);
    assert.equal(res.error?.code, 'llm_unavailable');
    const down = await server.call('GET', '/api/ai/health', { token: a.member.token });
    assert.equal(down.body.status, 'degraded');
    assert.equal(down.body.ollama.reachable, false);
    const summary = await server.call('POST', `/api/ai/summarize/${a.channels.TEXT}`, { token: a.member.token });
    assert.equal(summary.status, 503);
    assert.equal(summary.body.error.code, 'llm_unavailable');
  });
});
