// "Did you mean ...?" for misspelt config keys: edit distance over the known keys, plus the typos that the
// upstream README itself ships (trtllm-protocol.md §3.3, §3.4, §11). Layer: shared (pure).

/**
 * Misspellings found in upstream documentation that break startup, mapped to the real field name.
 * Edit distance alone misses `inactive_interval_sec` (a different word, not a typo).
 */
export const KNOWN_KEY_TYPOS: Readonly<Record<string, string>> = {
  inactive_interval_sec: 'inactive_timeout_sec',
  refersh_interval: 'refresh_interval',
};

/** Optimal-string-alignment distance: Levenshtein plus adjacent transpositions (`refersh` → `refresh` is 1). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) =>
    Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      }
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The known key closest to `key`, or undefined when nothing is close enough to be a plausible typo
 * (distance at most a third of the key's length, at least 2).
 */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  const typo = KNOWN_KEY_TYPOS[key];
  if (typo !== undefined && known.includes(typo)) return typo;
  const lower = key.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const limit = Math.max(2, Math.floor(key.length / 3));
  return bestDistance <= limit ? best : undefined;
}
