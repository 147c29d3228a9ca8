import type { CharSpan } from './types.ts';

/** Maps a span of normalised text back to the span of the original text it came from. */
export type SpanMap = (start: number, end: number) => CharSpan;

export const identitySpanMap: SpanMap = (start, end) => ({ start, end });

/** A base character with its combining marks, or a run of leading marks: the unit normalisers never split. */
const CHUNK = /\P{M}\p{M}*|\p{M}+/gu;

/**
 * Builds the map from `normalize(original)` back to `original`. Normalisers (NFC, lowercasing,
 * replacements, prepends) act per character cluster, so the text is cut into clusters and each
 * cluster's output is located in the normalised text; a normalised span maps to the clusters it
 * touches. Throws when the normaliser's output cannot be attributed to clusters that way.
 */
export function buildSpanMap(original: string, normalized: string, normalize: (s: string) => string, source: string): SpanMap {
  if (original === normalized) return identitySpanMap;
  const origEnds: number[] = [];
  for (const m of original.matchAll(CHUNK)) origEnds.push(m.index + m[0].length);
  const normEnds = clusterwise(original, origEnds, normalized, normalize) ?? prefixwise(original, origEnds, normalized, normalize);
  if (!normEnds) {
    throw new Error(
      `tokenizer ${source}: cannot map normalised text back to the input (normaliser output is not per character): ${JSON.stringify(original.slice(0, 60))}`,
    );
  }
  return spanMapFrom(origEnds, normEnds);
}

/** Normalised end of each cluster when normalising clusters one by one reproduces the whole. */
function clusterwise(original: string, origEnds: number[], normalized: string, normalize: (s: string) => string): number[] | undefined {
  const normEnds: number[] = [];
  let pos = 0;
  let start = 0;
  for (const end of origEnds) {
    const piece = normalize(original.slice(start, end));
    if (!normalized.startsWith(piece, pos)) return undefined;
    pos += piece.length;
    normEnds.push(pos);
    start = end;
  }
  return pos === normalized.length ? normEnds : undefined;
}

/** Normalised end of each cluster from normalising growing prefixes (for whole-string normalisers such as Prepend). */
function prefixwise(original: string, origEnds: number[], normalized: string, normalize: (s: string) => string): number[] | undefined {
  const normEnds: number[] = [];
  let previous = '';
  for (const end of origEnds) {
    const prefix = normalize(original.slice(0, end));
    if (!prefix.startsWith(previous) || !normalized.startsWith(prefix)) return undefined;
    normEnds.push(prefix.length);
    previous = prefix;
  }
  // Text a normaliser appends at the very end belongs to the last cluster.
  if (normEnds.length > 0) normEnds[normEnds.length - 1] = normalized.length;
  return normEnds.length > 0 || normalized.length === 0 ? normEnds : undefined;
}

function spanMapFrom(origEnds: number[], normEnds: number[]): SpanMap {
  const last = origEnds.length - 1;
  const origTotal = last >= 0 ? origEnds[last] : 0;
  // First cluster whose normalised end is beyond `pos` (the cluster containing normalised char `pos`).
  const clusterAt = (pos: number): number => {
    let lo = 0;
    let hi = normEnds.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (normEnds[mid] > pos) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
  const origStartOf = (k: number) => (k === 0 ? 0 : origEnds[k - 1]);
  return (start, end) => {
    const first = clusterAt(start);
    if (end <= start) {
      const at = first > last ? origTotal : origStartOf(first);
      return { start: at, end: at };
    }
    const lastCluster = Math.min(clusterAt(end - 1), last);
    return { start: first > last ? origTotal : origStartOf(first), end: origEnds[lastCluster] };
  };
}
