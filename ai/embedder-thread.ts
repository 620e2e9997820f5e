// The embedding model, in its own thread so inference never blocks the server's event loop.
import { parentPort, workerData } from 'node:worker_threads';
import { env, pipeline, type FeatureExtractionPipeline } from '@huggingface/transformers';

interface Setup {
  modelsDir: string;
  model: string;
  dtype: 'q8' | 'fp32';
  allowRemote: boolean;
}

type Request = { id: number; texts: string[] };

const setup = workerData as Setup;
env.localModelPath = setup.modelsDir;
env.cacheDir = setup.modelsDir;
env.allowRemoteModels = setup.allowRemote;

let extractor: Promise<FeatureExtractionPipeline> | undefined;
const load = () => (extractor ??= pipeline('feature-extraction', setup.model, { dtype: setup.dtype }));

parentPort!.on('message', async ({ id, texts }: Request) => {
  try {
    const fe = await load();
    const output = await fe(texts, { pooling: 'mean', normalize: true });
    const vectors = output.tolist() as number[][];
    // Tensors hold native memory until disposed.
    output.dispose();
    parentPort!.postMessage({ id, vectors });
  } catch (err) {
    parentPort!.postMessage({ id, error: (err as Error).message });
  }
});
