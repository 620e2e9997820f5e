import { generateKeyBetween } from 'fractional-indexing';

/**
 * The fractional order key for a position among already ordered keys: between its neighbours, so a move
 * changes only the moved item and concurrent moves never renumber (or duplicate) anything. Keys a client wrote
 * that are not valid fractional keys are stepped over.
 */
export function orderAt(orderedKeys: string[], position: number): string {
  const index = Math.max(0, Math.min(position, orderedKeys.length));
  const valid = (key: string | undefined) => {
    if (key === undefined) return null;
    try {
      generateKeyBetween(key, null);
      return key;
    } catch {
      return undefined;
    }
  };
  let before: string | null | undefined = index > 0 ? valid(orderedKeys[index - 1]) : null;
  let after: string | null | undefined = valid(orderedKeys[index]);
  if (before === undefined) before = null;
  if (after === undefined || (before !== null && after !== null && after <= before)) after = null;
  return generateKeyBetween(before, after);
}
