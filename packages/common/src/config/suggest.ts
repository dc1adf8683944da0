/**
 * "Did you mean" for names a user types: configuration keys here, and the CLI's
 * commands and flags, so every typo gets the same kind of hint.
 */

/** Levenshtein distance between two strings (insertions, deletions, substitutions). */
function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i += 1) {
    let previous = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j += 1) {
      const current = row[j] ?? 0;
      row[j] = Math.min(current + 1, (row[j - 1] ?? 0) + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length] ?? 0;
}

/** Longest typed word compared; longer input is no typo of a short name (and costs no time). */
const MAX_WORD = 128;

/**
 * The candidate closest to `word`, if one is within 2 edits; the first of equally close
 * ones. Undefined for an exact stranger, so a hint is only given when it helps.
 */
export function closestWord(word: string, candidates: readonly string[]): string | undefined {
  if (word.length > MAX_WORD) return undefined;
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const distance = editDistance(word, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}
