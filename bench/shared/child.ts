// Runs a benchmark target in its own process, so the load generator and the target never share an event loop;
// and a benchmark's own run: its children, its error line, its cleanup.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { createInterface } from 'node:readline';

export interface Child {
  url: string;
  /** Extra fields of the child's ready line. */
  info: Record<string, unknown>;
  /** Sends a command to the child (see serveUntilTold's `commands`) and resolves with its JSON answer. */
  ask(command: string, arg?: string, timeoutMs?: number): Promise<Record<string, unknown>>;
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
  // A write after the child died must not crash us: the pending ask is failed by the exit handler below.
  proc.stdin!.on('error', () => {});
  const stop = () => stopChild(proc);
  // Answers to `ask`, matched by id: a line `{"reply":id,...}` on the child's stdout.
  const waiting = new Map<number, (answer: Record<string, unknown>) => void>();
  let asked = 0;
  proc.once('exit', (code, signal) => {
    for (const settle of waiting.values()) settle({ error: `exited (${signal ?? code})` });
    waiting.clear();
  });
  const ask = (command: string, arg?: string, timeoutMs = 60_000) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const id = ++asked;
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error(`${script} did not answer ${command} in ${timeoutMs} ms`));
      }, timeoutMs);
      waiting.set(id, (answer) => {
        clearTimeout(timer);
        if (typeof answer.error === 'string') reject(new Error(`${script} ${command}: ${answer.error}`));
        else resolve(answer);
      });
      proc.stdin!.write(`${JSON.stringify({ id, command, arg })}\n`);
    });
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
        const reply = parsed && typeof parsed === 'object' ? (parsed as { reply?: unknown }).reply : undefined;
        if (typeof reply === 'number' && waiting.has(reply)) {
          waiting.get(reply)!(parsed as Record<string, unknown>);
          waiting.delete(reply);
        } else if (parsed && typeof parsed === 'object' && typeof (parsed as { url?: unknown }).url === 'string') {
          clearTimeout(timer);
          resolve(parsed as Record<string, unknown>);
        } else {
          process.stderr.write(`[child] ${line}\n`);
        }
      });
    });
    return { url: ready.url as string, info: ready, ask, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The children of one benchmark, started from `dir`; `stopAll` stops those still running (at the end, on Ctrl-C). */
export function childProcesses(dir: string) {
  const running = new Set<Child>();
  return {
    async start(script: string, env: NodeJS.ProcessEnv, nodeArgs: string[] = []): Promise<Child> {
      const child = await startChild(path.join(dir, script), env, nodeArgs);
      running.add(child);
      return child;
    },
    async stop(child: Child): Promise<void> {
      running.delete(child);
      await child.stop();
    },
    async stopAll(): Promise<void> {
      await Promise.allSettled([...running].map((c) => c.stop()));
    },
  };
}

/**
 * Runs a benchmark's `main`. If it throws, or on Ctrl-C, the last line of stdout is
 * `{"bench":name,"error":…,"target_met":false}` and the exit code 1 (130 on Ctrl-C). `cleanup` runs once either way.
 */
export async function runBench(name: string, main: () => Promise<void>, cleanup: () => Promise<void>): Promise<void> {
  let cleaning: Promise<void> | undefined;
  const cleanOnce = () => (cleaning ??= cleanup());
  const fail = (error: string) => console.log(JSON.stringify({ bench: name, error, target_met: false }));
  process.once('SIGINT', () => {
    fail('interrupted');
    void cleanOnce().finally(() => process.exit(130));
  });
  try {
    await main();
  } catch (err) {
    fail(String(err instanceof Error ? err.message : err));
    process.exitCode = 1;
  } finally {
    await cleanOnce();
  }
}

export type Commands = Record<string, (arg?: string) => unknown>;

/**
 * For child scripts: print the ready line, answer `commands` sent as JSON lines on stdin (see Child.ask), and
 * exit cleanly on a signal or when the parent goes away.
 */
export function serveUntilTold(ready: Record<string, unknown>, close: () => Promise<void>, commands: Commands = {}): void {
  let closing = false;
  const shutdown = () => {
    if (closing) return;
    closing = true;
    const force = setTimeout(() => process.exit(1), 4_000);
    force.unref();
    close().then(() => process.exit(0), () => process.exit(1));
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, shutdown);
  process.stdin.on('end', shutdown).on('error', shutdown);
  createInterface({ input: process.stdin }).on('line', (line) => {
    let request: { id?: unknown; command?: unknown; arg?: unknown };
    try {
      request = JSON.parse(line);
    } catch {
      return;
    }
    const handler = typeof request.command === 'string' ? commands[request.command] : undefined;
    const answer = (body: unknown) => process.stdout.write(`${JSON.stringify({ ...(body as object), reply: request.id })}\n`);
    if (!handler) return answer({ error: `unknown command ${String(request.command)}` });
    Promise.resolve()
      .then(() => handler(typeof request.arg === 'string' ? request.arg : undefined))
      .then(answer, (err) => answer({ error: String(err instanceof Error ? err.message : err) }));
  });
  process.stdout.write(`${JSON.stringify(ready)}\n`);
}

/**
 * For `--expose-gc` children: the process's memory after full collections (a few, a tick apart, so objects freed
 * by finalizers and weak references go too). Without --expose-gc the figures include garbage.
 */
export async function collectedMemory(): Promise<NodeJS.MemoryUsage & { gc: boolean }> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; gc && i < 3; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { ...process.memoryUsage(), gc: Boolean(gc) };
}
