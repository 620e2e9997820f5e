// A hostile member's client: floods documents with page content until the server refuses. It runs in a worker
// thread, as it would run on the attacker's machine, so that its own work does not weigh on the server's event loop
// that the test measures.
import { randomBytes } from 'node:crypto';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { TestServer } from '../../server/test/harness.ts';
import { connect, writeParagraph, type Client } from './clients.ts';

export interface FloodTarget {
  /** The document to write into, and the writer's access token. */
  name: string;
  token: string;
}

interface Orders {
  url: string;
  targets: FloodTarget[];
  /** Bytes per update, and at most this many bytes in all. */
  chunk: number;
  most: number;
}

/**
 * A flooder in a worker thread (see above), connected as the writers of `targets`; `start` floods and resolves to
 * each writer's refusal.
 */
export async function flooderInWorker(server: TestServer, targets: FloodTarget[], chunk: number, most: number) {
  const orders: Orders = { url: server.url, targets, chunk, most };
  const worker = new Worker(new URL(import.meta.url), { workerData: orders });
  const next = () =>
    new Promise<unknown>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
  await next();
  return {
    start(): Promise<string[]> {
      const reasons = next() as Promise<string[]>;
      worker.postMessage('go');
      return reasons;
    },
  };
}

/**
 * Writes incompressible page content in `chunk`-byte updates, the writers taking turns, as fast as their sockets
 * take them and never waiting for acknowledgements, until the server has closed every writer's document (or `most`
 * bytes were sent); resolves to each writer's refusal.
 */
export async function flood(writers: Client[], chunk: number, most: number): Promise<string[]> {
  const refused = new Set<Client>();
  for (const c of writers) void c.refusal.then(() => refused.add(c));
  const texts = writers.map((c) => writeParagraph(c.doc, ''));
  for (let sent = 0; refused.size < writers.length && sent < most; ) {
    writers.forEach((c, i) => {
      if (refused.has(c)) return;
      texts[i]!.insert(texts[i]!.length, randomBytes(chunk / 2).toString('hex'));
      sent += chunk;
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const timeout = new Promise<string>((resolve) => setTimeout(() => resolve('(not refused)'), 10_000).unref());
  return Promise.all(writers.map((c) => Promise.race([c.refusal, timeout])));
}

if (!isMainThread) {
  const { url, targets, chunk, most } = workerData as Orders;
  const writers = await Promise.all(targets.map((t) => connect({ url } as TestServer, t.name, t.token)));
  parentPort!.postMessage('connected');
  await new Promise((resolve) => parentPort!.once('message', resolve));
  parentPort!.postMessage(await flood(writers, chunk, most));
  for (const c of writers) c.close();
  process.exit(0);
}
