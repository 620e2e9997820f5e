// A real server as a child process (`server/main.ts`), for tests that kill it with `kill -9`.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { TestServer } from '../../server/test/harness.ts';

export interface ServerChild extends TestServer {
  child: ChildProcess;
}

/** Starts `server/main.ts` with `env` added, resolving once it listens. */
export async function startServerChild(env: Record<string, string>): Promise<ServerChild> {
  const child = spawn(process.execPath, ['server/main.ts'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    lines.on('line', (line) => {
      try {
        const entry = JSON.parse(line);
        if (entry.msg === 'server listening') resolve(entry.url);
      } catch {
        // not a log line
      }
    });
  });
  return { url, child } as ServerChild;
}

/** Kills the server with SIGKILL: no chance to flush anything. */
export async function kill9(server: ServerChild): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return;
  const exited = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.kill('SIGKILL');
  await exited;
}

/** One JSON request to the server's API. */
export async function api(server: TestServer, method: string, p: string, body?: unknown, token?: string): Promise<any> {
  const res = await fetch(server.url + p, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return res.json();
}
