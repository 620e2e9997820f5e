// Runs a benchmark target in its own process, so the load generator and the target never share an event loop.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

export interface Child {
  url: string;
  /** Extra fields of the child's ready line. */
  info: Record<string, unknown>;
  stop(): Promise<void>;
}

/** Asks a child to stop (SIGTERM, so it can close its database), then SIGKILLs it if it lingers. */
async function stopChild(proc: ChildProcess, graceMs = 5_000): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = once(proc, 'exit');
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/**
 * Spawns `node script` and waits (bounded) for its first stdout line that is JSON with a `url`. Everything else
 * the child prints (logs) goes to our stderr, so our stdout stays the benchmark's own figures.
 */
export async function startChild(
  script: string,
  env: NodeJS.ProcessEnv,
  nodeArgs: string[] = [],
  timeoutMs = 60_000,
): Promise<Child> {
  // stdin stays a pipe: the child exits when it closes, so it never outlives us even if we are SIGKILLed.
  const proc = spawn(process.execPath, [...nodeArgs, script], { env, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: proc.stdout! });
  const stop = () => stopChild(proc);
  try {
    const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${script} not ready after ${timeoutMs} ms`)), timeoutMs);
      proc.once('exit', (code, signal) => reject(new Error(`${script} exited early (${signal ?? code})`)));
      proc.once('error', reject);
      lines.on('line', (line) => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(line);
        } catch {
          parsed = undefined;
        }
        if (parsed && typeof parsed === 'object' && typeof (parsed as { url?: unknown }).url === 'string') {
          clearTimeout(timer);
          resolve(parsed as Record<string, unknown>);
        } else {
          process.stderr.write(`[child] ${line}\n`);
        }
      });
    });
    return { url: ready.url as string, info: ready, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** For child scripts: print the ready line, and exit cleanly on a signal or when the parent goes away. */
export function serveUntilTold(ready: Record<string, unknown>, close: () => Promise<void>): void {
  let closing = false;
  const shutdown = () => {
    if (closing) return;
    closing = true;
    const force = setTimeout(() => process.exit(1), 4_000);
    force.unref();
    close().then(() => process.exit(0), () => process.exit(1));
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, shutdown);
  process.stdin.on('end', shutdown).on('error', shutdown).resume();
  process.stdout.write(`${JSON.stringify(ready)}\n`);
}
