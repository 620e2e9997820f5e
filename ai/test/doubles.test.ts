// Self-tests of the test doubles: the model folder loads through the real transformers.js pipeline, and the real
// `ollama` client works against the Ollama double.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { env, pipeline, type FeatureExtractionPipeline } from '@huggingface/transformers';
import { Ollama, type ChatResponse } from 'ollama';
import { writeTestModel, type TestModel } from './model-folder.ts';
import { defaultResponder, promptText, startOllamaDouble, type OllamaDouble } from './ollama-double.ts';

const dot = (a: number[], b: number[]) => a.reduce((sum, x, i) => sum + x * b[i]!, 0);

describe('test model folder', () => {
  let dir: string;
  let model: TestModel;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'test-model-'));
    model = await writeTestModel(dir);
    env.allowRemoteModels = false;
    env.localModelPath = model.modelsDir;
  });
  after(() => rm(dir, { recursive: true, force: true }));

  async function embed(extractor: FeatureExtractionPipeline, texts: string[]): Promise<number[][]> {
    const output = await extractor(texts, { pooling: 'mean', normalize: true });
    assert.deepEqual(output.dims, [texts.length, model.dim]);
    return output.tolist() as number[][];
  }

  for (const dtype of ['fp32', 'q8'] as const) {
    test(`loads through the real pipeline (${dtype}) and gives bag-of-words similarity`, async () => {
      const extractor = await pipeline('feature-extraction', model.name, { dtype });
      const [board, card] = await embed(extractor, ['the kanban board', 'a kanban card']);
      for (const vector of [board!, card!]) assert.ok(Math.abs(dot(vector, vector) - 1) < 1e-4);

      const [query, related, unrelated] = await embed(extractor, [
        'deploy the server on friday', 'server deploy friday', 'bananas are yellow fruit',
      ]);
      const near = dot(query!, related!);
      const far = dot(query!, unrelated!);
      assert.ok(near > 0.8 && far < 0.2, `near ${near}, far ${far}`);
      await extractor.dispose();
    });
  }

  test('truncates text longer than model_max_length', async () => {
    const extractor = await pipeline('feature-extraction', model.name, { dtype: 'fp32' });
    const long = 'the team reviewed the roadmap. '.repeat(200);
    assert.equal(extractor.tokenizer(long, { truncation: true }).input_ids.dims[1], 256);
    const [vector] = await embed(extractor, [long]);
    assert.ok(Math.abs(dot(vector!, vector!) - 1) < 1e-4);
    await extractor.dispose();
  });

  test('custom name and dimension', async () => {
    const custom = await writeTestModel(dir, { name: 'custom/small', dim: 32 });
    assert.deepEqual(custom, { modelsDir: dir, name: 'custom/small', dim: 32 });
    const extractor = await pipeline('feature-extraction', custom.name, { dtype: 'fp32' });
    const output = await extractor('hello world', { pooling: 'mean', normalize: true });
    assert.deepEqual(output.dims, [1, 32]);
    await extractor.dispose();
  });
});

describe('Ollama double with the real ollama client', () => {
  let double: OllamaDouble;
  let ollama: Ollama;
  before(async () => {
    double = await startOllamaDouble();
    ollama = new Ollama({ host: double.url });
  });
  after(() => double.close());

  test('version, list and show', async () => {
    assert.ok((await ollama.version()).version);
    const { models } = await ollama.list();
    assert.deepEqual(models.map((m) => m.name), ['llama3.2:1b']);
    assert.equal((await ollama.show({ model: 'llama3.2:1b' })).details.family, 'llama');
  });

  test('streams a chat answer in several chunks and records the request', async () => {
    const context = '[1] The release is on friday.\n[2] Deploys need a review.';
    const stream = await ollama.chat({
      model: 'llama3.2:1b',
      messages: [{ role: 'system', content: `Answer from the sources.\n${context}` },
        { role: 'user', content: 'When is the release?' }],
      stream: true,
      options: { num_ctx: 4096 },
    });
    const pieces: string[] = [];
    let last: ChatResponse | undefined;
    for await (const chunk of stream) {
      pieces.push(chunk.message.content);
      last = chunk;
    }
    const answer = pieces.join('');
    assert.equal(answer, 'Answer: When is the release? Sources: [1] [2].');
    assert.ok(pieces.filter(Boolean).length > 3);
    assert.equal(last?.done, true);
    assert.equal(last?.done_reason, 'stop');
    assert.ok(last!.eval_count > 0 && last!.prompt_eval_count > 0);

    const request = double.requests.at(-1)!;
    assert.equal(request.path, '/api/chat');
    assert.equal(request.body?.stream, true);
    assert.equal(request.body?.options?.num_ctx, 4096);
    assert.match(promptText(request), /Deploys need a review/);
  });

  test('non-streamed generate and a custom responder', async () => {
    double.responder = (request) => `echo ${request.body?.prompt}`;
    try {
      const response = await ollama.generate({ model: 'llama3.2:1b', prompt: 'ping' });
      assert.equal(response.response, 'echo ping');
      assert.equal(response.done, true);
    } finally {
      double.responder = defaultResponder;
    }
  });

  test('an unknown model is rejected like Ollama does', async () => {
    await assert.rejects(
      ollama.chat({ model: 'mistral', messages: [{ role: 'user', content: 'hi' }] }),
      (err: Error & { status_code?: number }) =>
        err.status_code === 404 && err.message === 'model "mistral" not found, try pulling it first',
    );
  });

  test('embed gives deterministic unit vectors that reflect shared words', async () => {
    const { embeddings } = await ollama.embed({
      model: 'llama3.2:1b', input: ['kanban board', 'the kanban board', 'yellow bananas'],
    });
    const [a, b, c] = embeddings as [number[], number[], number[]];
    assert.equal(a.length, 384);
    assert.ok(Math.abs(dot(a, a) - 1) < 1e-6);
    assert.ok(dot(a, b) > 0.7 && dot(a, c) < 0.3);
    assert.deepEqual((await ollama.embed({ model: 'llama3.2:1b', input: 'kanban board' })).embeddings[0], a);
  });

  test('down refuses connections, up serves again on the same url', async () => {
    await double.setDown(true);
    await assert.rejects(ollama.list(), TypeError);
    await double.setDown(false);
    assert.equal((await ollama.list()).models.length, 1);
  });
});
