import { Redis } from 'ioredis';
import type pg from 'pg';
import type { Ai, AiHealth } from '../../ai/index.ts';
import type { Calls } from '../../sfu/index.ts';

export interface ServiceCheck {
  name: string;
  status: 'ok' | 'down' | 'off';
  detail: string;
}

/** Rejects after `ms`, so one hung service cannot hold the page. */
function within<T>(work: Promise<T>, ms: number): Promise<T> {
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref());
  return Promise.race([work, timeout]);
}

async function databaseCheck(db: pg.Pool): Promise<ServiceCheck> {
  try {
    await within(db.query('SELECT 1'), 1000);
    return { name: 'Database', status: 'ok', detail: 'answers' };
  } catch (err) {
    return { name: 'Database', status: 'down', detail: (err as Error).message };
  }
}

async function redisCheck(url: string | undefined): Promise<ServiceCheck> {
  if (!url) return { name: 'Redis', status: 'off', detail: 'REDIS_URL unset: one instance, nothing shared' };
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await within(redis.connect().then(() => redis.ping()), 1500);
    return { name: 'Redis', status: 'ok', detail: 'answers PING' };
  } catch (err) {
    return { name: 'Redis', status: 'down', detail: (err as Error).message };
  } finally {
    redis.disconnect();
  }
}

function aiChecks(health: AiHealth | undefined, error: string | undefined): ServiceCheck[] {
  if (!health) return [{ name: 'AI', status: 'down', detail: error ?? 'no answer' }];
  if (health.status === 'off') return [{ name: 'AI', status: 'off', detail: 'AI is off on this server' }];
  const { chroma, ollama, embedder, queue } = health;
  return [
    { name: 'Chroma', status: chroma.reachable ? 'ok' : 'down', detail: `${chroma.url ?? 'local'}, ${chroma.collection ?? 'no collection'}, ${chroma.chunks ?? '?'} chunks` },
    { name: 'Ollama', status: ollama.reachable && ollama.model_present ? 'ok' : 'down', detail: `${ollama.model}${ollama.model_present ? '' : ' (model missing)'}${ollama.error ? `: ${ollama.error}` : ''}` },
    { name: 'Embedder', status: embedder.loaded ? 'ok' : 'down', detail: `${embedder.model}${embedder.error ? `: ${embedder.error}` : ''}` },
    { name: 'AI queue', status: queue.failed ? 'down' : 'ok', detail: `${queue.queued} queued, ${queue.running} running, ${queue.failed} failed` },
  ];
}

function sfuCheck(calls: Calls): ServiceCheck {
  if (!calls.available) return { name: 'SFU workers', status: 'off', detail: 'no mediasoup worker: calls are off' };
  const workers = calls.workers();
  return {
    name: 'SFU workers', status: workers.length ? 'ok' : 'down',
    detail: workers.map((w) => `pid ${w.pid}: ${w.channels.length} call(s)`).join('; ') || 'none running',
  };
}

/** The state of every service the server depends on, as /health/ready, /api/ai/health and the SFU report it. */
export async function serviceChecks(db: pg.Pool, redisUrl: string | undefined, ai: Ai, calls: Calls): Promise<ServiceCheck[]> {
  const [database, redis, aiHealth] = await Promise.all([
    databaseCheck(db),
    redisCheck(redisUrl),
    within(ai.health(), 3000).then((h) => ({ h, e: undefined }), (err: Error) => ({ h: undefined, e: err.message })),
  ]);
  return [database, redis, ...aiChecks(aiHealth.h, aiHealth.e), sfuCheck(calls)];
}
