export const MAX_DISPLAY_NAME_LENGTH = 64;

// Control and format characters: bidi embeddings, overrides and isolates, LRM/RLM, zero-width spaces and joiners,
// soft hyphens, tags. Invisible, or able to reorder what a client shows around the name, so that a name could
// pass for another person's. A zero-width joiner between two pictographs stays: it joins emoji (👩‍💻), nothing else.
const HIDDEN = /(?!(?<=\p{Extended_Pictographic}\uFE0F?)\u200D(?=\p{Extended_Pictographic}))[\p{Cc}\p{Cf}]/gu;

/**
 * A display name fit to show beside others: white space of any kind (tabs, line separators) made a space, hidden
 * characters removed, runs of spaces made one, trimmed, at most 64 characters (never splitting one in two).
 * Empty afterwards means none.
 */
export function cleanDisplayName(raw: string | null | undefined): string | undefined {
  const cleaned = (raw ?? '').normalize('NFC').replace(/\s/gu, ' ').replace(HIDDEN, '').replace(/ {2,}/g, ' ').trim();
  const capped = Array.from(cleaned).slice(0, MAX_DISPLAY_NAME_LENGTH).join('').trimEnd();
  return capped || undefined;
}
