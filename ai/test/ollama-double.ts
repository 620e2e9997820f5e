// An Ollama-compatible HTTP server for tests (no real Ollama can run here). It speaks the documented API the way
// the `ollama` npm client uses it, answers deterministically, and records every request for assertions.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { seededUnitVector } from './seeded-vector.ts';

export type ChatMessage = { role: string; content: string };
/** A request body as the client sent it (JSON); the fields the double reads are typed, the rest kept as-is. */
export type OllamaBody = {
  model?: string;
  messages?: ChatMessage[];
  prompt?: string;
  system?: string;
  input?: string | string[];
  stream?: boolean;
  options?: Record<string, unknown>;
  [field: string]: unknown;
};
export type RecordedRequest = { method: string; path: string; body: OllamaBody | undefined };
/** Produces the full answer of a chat or generate request; a throw becomes a 500 `{error}` like a failing model. */
export type Responder = (request: RecordedRequest) => string | Promise<string>;

export type OllamaDoubleOptions = {
  models?: string[];
  /** Pause between streamed pieces, so a test can observe chunks arriving one by one. */
  pieceDelayMs?: number;
  responder?: Responder;
  /** Length of the vectors /api/embed returns. */
  embeddingDim?: number;
};

export type OllamaDouble = {
  /** For OLLAMA_HOST or `new Ollama({ host })`. */
  url: string;
  requests: RecordedRequest[];
  // The fields below may be changed while the double runs.
  models: string[];
  pieceDelayMs: number;
  responder: Responder;
  /** Down means connections are refused (and open ones cut), as when Ollama is not running; up listens again. */
  setDown(down: boolean): Promise<void>;
  close(): Promise<void>;
};

/** Everything the model would read: system prompt, messages or prompt, embed input. */
export function promptText(request: RecordedRequest): string {
  const body = request.body ?? {};
  const parts = [body.system, ...(body.messages ?? []).map((m) => m.content), body.prompt, body.input].flat();
  return parts.filter((part) => typeof part === 'string').join('\n');
}

/**
 * `Answer: <the question, i.e. the last line of the last user message or prompt> Sources: [1] [2].`: quotes the
 * source markers found anywhere in the prompt, in order of first appearance (`Sources: none.` without any).
 */
export function defaultResponder(request: RecordedRequest): string {
  const body = request.body ?? {};
  const lastUser = (body.messages ?? []).filter((m) => m.role === 'user').at(-1)?.content ?? body.prompt ?? '';
  const lastLine = lastUser.split('\n').map((line) => line.trim()).filter(Boolean).at(-1) ?? '';
  const question = lastLine.split(/\s+/).slice(0, 20).join(' ');
  const markers = [...new Set(promptText(request).match(/\[\d+\]/g) ?? [])];
  return `Answer: ${question} Sources: ${markers.length ? markers.join(' ') : 'none'}.`;
}

export async function startOllamaDouble(options: OllamaDoubleOptions = {}): Promise<OllamaDouble> {
  const embeddingDim = options.embeddingDim ?? 384;
  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      if (!res.headersSent) sendJson(res, 500, { error: err.message });
      else res.destroy();
    });
  });
  let down = false;
  const listen = (port: number) => new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const stop = () => new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
  await listen(0);
  const port = (server.address() as AddressInfo).port;

  const double: OllamaDouble = {
    url: `http://127.0.0.1:${port}`,
    requests: [],
    models: options.models ?? ['llama3.2:1b'],
    pieceDelayMs: options.pieceDelayMs ?? 5,
    responder: options.responder ?? defaultResponder,
    async setDown(value) {
      if (value === down) return;
      down = value;
      // The same port again, so clients configured with `url` reconnect.
      await (down ? stop() : listen(port));
    },
    async close() {
      if (!down) await stop();
      down = true;
    },
  };

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', double.url).pathname;
    const raw = await readBody(req);
    let body: OllamaBody | undefined;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch (err) {
      return sendJson(res, 400, { error: (err as Error).message });
    }
    const request: RecordedRequest = { method: req.method ?? 'GET', path, body };
    double.requests.push(request);
    const route = `${request.method} ${path}`;

    if (route === 'GET /' || route === 'HEAD /') return sendText(res, 200, 'Ollama is running');
    if (route === 'GET /api/version') return sendJson(res, 200, { version: '0.12.6' });
    if (route === 'GET /api/tags') return sendJson(res, 200, { models: double.models.map(modelEntry) });
    if (!['POST /api/show', 'POST /api/chat', 'POST /api/generate', 'POST /api/embed'].includes(route)) {
      return sendText(res, 404, '404 page not found');
    }

    const model = body?.model;
    if (!model) return sendJson(res, 400, { error: 'model is required' });
    if (!double.models.some((name) => fullName(name) === fullName(model))) {
      return sendJson(res, 404, { error: `model "${model}" not found, try pulling it first` });
    }
    if (path === '/api/show') return sendJson(res, 200, showEntry(model));
    if (path === '/api/embed') {
      const input = body?.input ?? [];
      const embeddings = (typeof input === 'string' ? [input] : input).map((text) => embed(text, embeddingDim));
      return sendJson(res, 200, {
        model, embeddings, total_duration: 1_000_000, load_duration: 0, prompt_eval_count: wordCount(input),
      });
    }
    return answer(request, model, res);
  }

  async function answer(request: RecordedRequest, model: string, res: http.ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const text = await double.responder(request);
    const pieces = text.split(/(?<=\s)/).filter(Boolean);
    const chat = request.path === '/api/chat';
    const chunk = (content: string) => ({
      model,
      created_at: new Date().toISOString(),
      ...(chat ? { message: { role: 'assistant', content } } : { response: content }),
    });
    const final = (content: string) => ({
      ...chunk(content),
      done: true,
      done_reason: 'stop',
      ...(chat ? {} : { context: [] }),
      total_duration: Number(process.hrtime.bigint() - started),
      load_duration: 0,
      prompt_eval_count: wordCount(promptText(request)),
      prompt_eval_duration: 1_000_000,
      eval_count: pieces.length,
      eval_duration: 1_000_000,
    });
    // Ollama streams unless the request says `stream: false`.
    if (request.body?.stream === false) return sendJson(res, 200, final(text));

    res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
    for (const piece of pieces) {
      if (res.destroyed) return; // the client aborted
      res.write(`${JSON.stringify({ ...chunk(piece), done: false })}\n`);
      await sleep(double.pieceDelayMs);
    }
    res.end(`${JSON.stringify(final(''))}\n`);
  }

  return double;
}

/** Ollama treats a name without a tag as `:latest`. */
function fullName(model: string): string {
  return model.includes(':') ? model : `${model}:latest`;
}

const DETAILS = {
  parent_model: '', format: 'gguf', family: 'llama', families: ['llama'], parameter_size: '1.2B',
  quantization_level: 'Q8_0',
};

function modelEntry(name: string): object {
  return {
    name, model: name, modified_at: '2025-01-01T00:00:00Z', size: 1_321_098_329,
    digest: 'baf6a787fdffd633537aa2eb51cfd54cb93ff08e28040095462bb63daf552878', details: DETAILS,
  };
}

function showEntry(name: string): object {
  return {
    modelfile: `FROM ${name}`, parameters: 'stop "<|eot_id|>"', template: '{{ .Prompt }}', details: DETAILS,
    model_info: { 'general.architecture': 'llama', 'llama.context_length': 131072, 'llama.embedding_length': 2048 },
    capabilities: ['completion'], modified_at: '2025-01-01T00:00:00Z',
  };
}

/** Bag-of-words vector: texts sharing words get close vectors, unit length like Ollama's /api/embed. */
function embed(text: string, dim: number): number[] {
  const sum = new Float32Array(dim);
  const words = text.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean);
  for (const word of words.length ? words : ['']) {
    seededUnitVector(word, dim).forEach((value, i) => (sum[i]! += value));
  }
  const norm = Math.hypot(...sum);
  return Array.from(sum, (value) => value / norm);
}

function wordCount(text: string | string[]): number {
  return [text].flat().join(' ').split(/\s+/).filter(Boolean).length;
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function sendJson(res: http.ServerResponse, status: number, value: object): void {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' }).end(JSON.stringify(value));
}

function sendText(res: http.ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' }).end(text);
}
