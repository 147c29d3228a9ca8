/**
 * Byte-pair-encoding merge learning over a small set of pre-tokenized pieces (symbols are
 * characters of byte-level strings). Merges are learned until every piece is one symbol; applying
 * them in rank order (as BPE encoders do) reproduces that segmentation, so every word the
 * generator emits encodes to a single token.
 */
export function learnMerges(pieces: readonly string[]): [string, string][] {
  const words = [...new Set(pieces)].map((piece) => Array.from(piece));
  const merges: [string, string][] = [];
  for (;;) {
    const counts = new Map<string, number>();
    for (const word of words) {
      for (let i = 0; i + 1 < word.length; i++) {
        const key = `${word[i]} ${word[i + 1]}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
    }
    if (counts.size === 0) return merges;
    // Most frequent pair; ties broken by the pair's text so the result never depends on Map order.
    let best = '';
    let bestCount = 0;
    for (const [key, count] of counts) {
      if (count > bestCount || (count === bestCount && key < best)) [best, bestCount] = [key, count];
    }
    const [left, right] = best.split(' ') as [string, string];
    merges.push([left, right]);
    for (const word of words) {
      for (let i = 0; i + 1 < word.length; i++) {
        if (word[i] === left && word[i + 1] === right) word.splice(i, 2, left + right);
      }
    }
  }
}
