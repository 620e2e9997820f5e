import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startTestServer, type TestServer } from '../../server/test/harness.ts';
import { writeTestModel } from './model-folder.ts';
import { startOllamaDouble, type OllamaDouble } from './ollama-double.ts';

export interface AiTestServer {
  server: TestServer;
  ollama: OllamaDouble;
  close(): Promise<void>;
}

export interface AiTestEnv {
  /** For a test server: the embedder on the model folder, the Ollama double, indexing without debounce. */
  env: Record<string, string>;
  ollama: OllamaDouble;
  /** Stops the double and removes the model folder (after the server using them has stopped). */
  close(): Promise<void>;
}

/** What a server needs for AI in tests: a model folder written here and the Ollama double, as environment. */
export async function aiTestEnv(): Promise<AiTestEnv> {
  const modelsDir = await mkdtemp(path.join(os.tmpdir(), 'teamspace-models-'));
  const model = await writeTestModel(modelsDir);
  const ollama = await startOllamaDouble();
  return {
    env: {
      AI_ENABLED: 'true', MODELS_DIR: model.modelsDir, EMBEDDING_MODEL: model.name, EMBEDDING_DTYPE: 'q8',
      OLLAMA_HOST: ollama.url, OLLAMA_MODEL: 'llama3.2:1b', AI_INDEX_DEBOUNCE_MS: '0',
    },
    ollama,
    async close() {
      await ollama.close();
      await rm(modelsDir, { recursive: true, force: true });
    },
  };
}

/**
 * A test server with AI on: the real embedder on the test model folder, a real local Chroma, the Ollama double,
 * indexing without debounce; `env` adds to that.
 */
export async function startAiTestServer(env: Record<string, string> = {}): Promise<AiTestServer> {
  const ai = await aiTestEnv();
  const server = await startTestServer({ ...ai.env, ...env });
  return {
    server, ollama: ai.ollama,
    async close() {
      await server.close();
      await ai.close();
    },
  };
}
