import { existsSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';

export interface EmbedderOptions {
  /** Where models are looked for (`<dir>/<model>/`), and downloaded to when `allowRemote`. */
  modelsDir: string;
  /** A Hugging Face model id, e.g. `Xenova/all-MiniLM-L6-v2`. */
  model: string;
  dtype: 'q8' | 'fp32';
  /** Texts per inference call: bounds the memory one call takes. */
  batchSize: number;
  /** Told after each inference call that succeeded (metrics). */
  onBatch?: (texts: number, seconds: number) => void;
}

export interface Embedder {
  readonly model: string;
  /** Embeds texts in bounded batches; vectors are unit length. */
  embed(texts: string[]): Promise<number[][]>;
  /** The vector length, known after the first embedding (loads the model). */
  dimension(): Promise<number>;
  /** Whether the model has loaded (answered once). */
  readonly loaded: boolean;
  close(): Promise<void>;
}

/**
 * One feature-extraction pipeline in a worker thread. The model comes from `modelsDir` when it is there, and is
 * downloaded only when it is not (on a machine with internet).
 */
export function createEmbedder(options: EmbedderOptions): Embedder {
  const local = existsSync(path.join(options.modelsDir, options.model, 'config.json'));
  const worker = new Worker(new URL('./embedder-thread.ts', import.meta.url), {
    workerData: { modelsDir: options.modelsDir, model: options.model, dtype: options.dtype, allowRemote: !local },
  });
  worker.unref();
  const pending = new Map<number, { resolve(v: number[][]): void; reject(e: Error): void }>();
  let nextId = 0;
  let loaded = false;
  let dim: number | undefined;
  worker.on('message', (msg: { id: number; vectors?: number[][]; error?: string }) => {
    const waiter = pending.get(msg.id);
    pending.delete(msg.id);
    if (msg.error) return waiter?.reject(new Error(`embedding failed: ${msg.error}`));
    loaded = true;
    waiter?.resolve(msg.vectors!);
  });
  worker.on('error', (err) => {
    for (const waiter of pending.values()) waiter.reject(err);
    pending.clear();
  });

  const call = async (texts: string[]) => {
    const started = performance.now();
    const vectors = await new Promise<number[][]>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ id, texts });
    }).finally(() => {
      if (!pending.size) worker.unref();
    });
    options.onBatch?.(texts.length, (performance.now() - started) / 1000);
    return vectors;
  };

  const embedder: Embedder = {
    model: options.model,
    async embed(texts) {
      // A batch is padded to its longest text: batching texts of similar length wastes less compute.
      const order = texts.map((_, i) => i).sort((x, y) => texts[x]!.length - texts[y]!.length);
      const vectors: number[][] = new Array(texts.length);
      for (let i = 0; i < order.length; i += options.batchSize) {
        const batch = order.slice(i, i + options.batchSize);
        const out = await call(batch.map((j) => texts[j]!));
        batch.forEach((j, k) => (vectors[j] = out[k]!));
      }
      if (vectors[0]) dim = vectors[0].length;
      return vectors;
    },
    async dimension() {
      if (dim === undefined) dim = (await embedder.embed(['dimension probe']))[0]!.length;
      return dim;
    },
    get loaded() {
      return loaded;
    },
    async close() {
      await worker.terminate();
    },
  };
  return embedder;
}
