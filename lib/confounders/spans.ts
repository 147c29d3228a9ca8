import type { CharSpan } from '../text/types.ts';
import { phrases } from './regions.ts';

/** A token whose text (within the region) is empty or only whitespace/newlines: never flagged. */
export function isWhitespaceToken(text: string, span: CharSpan): boolean {
  return text.slice(span.start, span.end).trim() === '';
}

/** Flag tokens with Δ ≤ τ, except whitespace-only ones (and NaN, which compares false). */
export function flagTokens(delta: ArrayLike<number>, threshold: number, whitespace: readonly boolean[]): boolean[] {
  return Array.from({ length: delta.length }, (_, i) => !whitespace[i] && delta[i] <= threshold);
}

/**
 * Where flagged runs are cut. none: plain maximal runs (the paper's). phrase: never across the edge
 * of a phrase (a clause or bracketed group of regions.ts phrases()), the units a phrase-measuring
 * method scored one by one, so two such units that are both flagged and touch stay two spans.
 */
export const SPAN_CUTS = ['none', 'phrase'] as const;
export type SpanCut = (typeof SPAN_CUTS)[number];

/**
 * For each token of `text`, which piece between consecutive cut points holds its first
 * non-whitespace character; flagged tokens of different pieces never share a span. Undefined for
 * `none` (nothing is cut).
 */
export function spanPieces(text: string, tokenSpans: readonly CharSpan[], cut: SpanCut): number[] | undefined {
  if (cut === 'none') return undefined;
  const points = [...new Set(phrases(text).flatMap((p) => [p.start, p.end]))];
  return tokenSpans.map(({ start, end }) => {
    const lead = /^\s*/.exec(text.slice(start, end))![0].length;
    return points.filter((p) => p <= start + lead).length;
  });
}

/**
 * Character spans of maximal runs of flagged tokens. Two runs separated only by whitespace-only
 * tokens, at most `mergeGap` of them, become one span that includes the gap (mergeGap 0 = the
 * paper's plain maximal runs). With `pieces` (spanPieces), a run also ends where the next flagged
 * token lies in another piece.
 */
export function flaggedSpans(
  flagged: readonly boolean[],
  tokenSpans: readonly CharSpan[],
  whitespace: readonly boolean[],
  mergeGap = 0,
  pieces?: readonly number[],
): CharSpan[] {
  const runs: { first: number; last: number }[] = [];
  for (let i = 0; i < flagged.length; i++) {
    if (!flagged[i]) continue;
    const previous = runs[runs.length - 1];
    const joins =
      previous !== undefined &&
      (previous.last === i - 1 || bridgeable(previous.last, i, whitespace, mergeGap)) &&
      (pieces === undefined || pieces[previous.last] === pieces[i]);
    if (joins) previous.last = i;
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
