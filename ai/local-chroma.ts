import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../core/index.ts';

export interface LocalChroma {
  url: string;
  stop(): Promise<void>;
}

const chromaCli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../node_modules/chromadb/dist/cli.mjs');

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A Chroma server from the npm package's CLI, storing under `dir`, for running without CHROMA_URL. It is a child
 * of this process, stopped with it, and killed when this process exits. (The CLI does not watch its stdin, so a
 * `kill -9` of this process leaves it running: a supervisor should stop the process group.)
 */
export async function startLocalChroma(dir: string, log: Logger, timeoutMs = 30_000): Promise<LocalChroma> {
  await mkdir(dir, { recursive: true });
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [chromaCli, 'run', '--path', dir, '--host', '127.0.0.1', '--port', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`chroma exited with ${child.exitCode}: ${stderr.trim()}`);
    try {
      if ((await fetch(`${url}/api/v2/heartbeat`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`chroma did not answer within ${timeoutMs} ms: ${stderr.trim()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  log.info({ url, path: dir }, 'local chroma started');
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  return {
    url,
    async stop() {
      process.off('exit', killOnExit);
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
