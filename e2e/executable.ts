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
