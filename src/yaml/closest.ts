/**
 * "did you mean device?" for an unknown field: the known name closest in edit distance (case
 * ignored), if it is close enough to be a typo rather than another word. Two neighbouring letters
 * swapped (`spede`) is one typo, as a person sees it, so the distance counts a transposition as one
 * edit (optimal string alignment). Lists of field names are a few dozen short strings, so the plain
 * dynamic-programming distance is all it takes.
 */
export function editDistance(a: string, b: string): number {
  let before: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j]!, before[j - 2]! + 1);
    }
    before = prev;
    prev = row;
  }
  return prev[b.length]!;
}

/** The closest of `known` to `word`: at most a quarter of its letters wrong (and at least one allowed). */
export function closest(word: string, known: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  let best: { name: string; d: number } | undefined;
  for (const name of known) {
    const d = editDistance(w, name.toLowerCase());
    if (!best || d < best.d) best = { name, d };
  }
  return best && best.d <= Math.max(1, Math.floor(word.length / 4)) ? best.name : undefined;
}
