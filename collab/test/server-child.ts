// A real server as a child process (`server/main.ts`), for tests that kill it with `kill -9`.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { TestServer } from '../../server/test/harness.ts';

export interface ServerChild extends TestServer {
  child: ChildProcess;
}

/**
 * Starts `server/main.ts` with `env` added, resolving once it listens. The runner's DATABASE_URL (the PostgreSQL
 * admin database that scratch databases are made from) is not passed on: a child stores where `env` says, or in
 * PGlite under its DATA_DIR, never in that shared database.
 */
export async function startServerChild(env: Record<string, string>): Promise<ServerChild> {
  const { DATABASE_URL: _admin, ...inherited } = process.env;
  const child = spawn(process.execPath, ['server/main.ts'], {
    env: { ...inherited, ...env },
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
  const text = await res.text();
  // A refusal fails here with what the server said, not later as an undefined token or id.
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${text}`);
  return JSON.parse(text);
}
