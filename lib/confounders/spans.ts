import type { CharSpan } from '../text/types.ts';

/** A token whose text (within the region) is empty or only whitespace/newlines: never flagged. */
export function isWhitespaceToken(text: string, span: CharSpan): boolean {
  return text.slice(span.start, span.end).trim() === '';
}

/** Flag tokens with Δ ≤ τ, except whitespace-only ones (and NaN, which compares false). */
export function flagTokens(delta: ArrayLike<number>, threshold: number, whitespace: readonly boolean[]): boolean[] {
  return Array.from({ length: delta.length }, (_, i) => !whitespace[i] && delta[i] <= threshold);
}

/**
 * Character spans of maximal runs of flagged tokens. Two runs separated only by whitespace-only
 * tokens, at most `mergeGap` of them, become one span that includes the gap (mergeGap 0 = the
 * paper's plain maximal runs).
 */
export function flaggedSpans(
  flagged: readonly boolean[],
  tokenSpans: readonly CharSpan[],
  whitespace: readonly boolean[],
  mergeGap = 0,
): CharSpan[] {
  const runs: { first: number; last: number }[] = [];
  for (let i = 0; i < flagged.length; i++) {
    if (!flagged[i]) continue;
    const previous = runs[runs.length - 1];
    if (previous && previous.last === i - 1) previous.last = i;
    else if (previous && bridgeable(previous.last, i, whitespace, mergeGap)) previous.last = i;
    else runs.push({ first: i, last: i });
  }
  return runs.map(({ first, last }) => ({ start: tokenSpans[first].start, end: tokenSpans[last].end }));
}

function bridgeable(lastFlagged: number, nextFlagged: number, whitespace: readonly boolean[], mergeGap: number): boolean {
  const gap = nextFlagged - lastFlagged - 1;
  if (gap > mergeGap) return false;
  for (let j = lastFlagged + 1; j < nextFlagged; j++) if (!whitespace[j]) return false;
  return true;
}
