import { openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Holds `file` for this process: created exclusively with our pid inside. A lock left by a process that no
 * longer runs (a crash, kill -9) is taken over at once, so a restart after a crash is not refused.
 * Returns the release function; throws when a live process holds it.
 */
export function lockForProcess(file: string, what: string): () => void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && alive(holder)) {
        throw new Error(`${what} is in use by another process (pid ${holder}): stop it first`);
      }
      rmSync(file, { force: true });
    }
  }
  throw new Error(`cannot lock ${what}: another process is starting on it`);
}
