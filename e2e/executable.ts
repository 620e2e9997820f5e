import { accessSync, constants } from 'node:fs';

/** Whether a program the tests need is installed at `file`. */
export function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export const ci = process.env.CI === 'true' || process.env.CI === '1';

/**
 * A `skip` option for browser tests: outside CI a missing component skips them, loudly; in CI it does not skip
 * (the suite's `before` then fails on what is missing).
 */
export function skipUnlessInstalled(missing: string[], what: string): string | false {
  if (!missing.length || ci) return false;
  const reason = `${what} SKIPPED: missing ${missing.join(', ')}; with CI=true this fails`;
  const bar = '!'.repeat(78);
  process.stderr.write(`\n${bar}\n${reason}\n${bar}\n\n`);
  return reason;
}
