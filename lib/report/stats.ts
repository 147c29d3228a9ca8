import type { AttributionRow } from '../corpus/types.ts';

/** Equal-width bins over [lo, hi]; values outside are counted in the edge bins. */
export interface Histogram {
  lo: number;
  hi: number;
  counts: number[];
}

/** A flagged token or n-gram, with the attribution rows it was flagged in (ascending, distinct). */
export interface FlaggedTerm {
  text: string;
  /** Number of tokens in the term (1 for single tokens). */
  n: number;
  count: number;
  rows: number[];
}

export interface CorpusStats {
  rows: number;
  tokens: number;
  flaggedTokens: number;
  spans: number;
  rowsWithFlags: number;
  deltaDomain: [number, number];
  deltaHistogram: Histogram;
  flaggedFractionHistogram: Histogram;
  /** counts[k] = spans of k + 1 non-whitespace tokens; the last bin also holds longer spans. */
  spanTokenCounts: number[];
  topTokens: FlaggedTerm[];
  topNgrams: FlaggedTerm[];
}

export const TOP_TERMS = 25;
const DELTA_BINS = 40;
const FRACTION_BINS = 20;
const MAX_SPAN_BIN = 30;
const NGRAM_SIZES = [2, 3];

export function histogram(values: Iterable<number>, lo: number, hi: number, bins: number): Histogram {
  const counts = new Array<number>(bins).fill(0);
  const width = (hi - lo) / bins;
  for (const value of values) {
    const bin = Math.floor((value - lo) / width);
    counts[Math.min(bins - 1, Math.max(0, bin))]++;
  }
  return { lo, hi, counts };
}

/** Δ lies in [-1, 1] unless analyze re-normalised it to [0, 1] (then no row has a negative Δ). */
export function deltaDomain(rows: AttributionRow[]): [number, number] {
  return rows.some((row) => row.delta.some((d) => d < 0)) ? [-1, 1] : [0, 1];
}

/** Smallest of a few round upper bounds that covers `max`, so the fraction histogram is not all in one bin. */
function roundUpperBound(max: number): number {
  return [0.05, 0.1, 0.2, 0.25, 0.5, 1].find((bound) => max <= bound) ?? 1;
}

export function flaggedFraction(row: AttributionRow): number {
  const n = row.flagged.length;
  if (n === 0) return 0;
  let flagged = 0;
  for (const f of row.flagged) if (f) flagged++;
  return flagged / n;
}

/** The text a token shows in the page: its slice of the region text, or its decoded string when the slice is empty. */
export function tokenText(row: AttributionRow, i: number): string {
  const slice = row.text.slice(row.char_start[i], row.char_end[i]);
  return slice.length > 0 ? slice : row.tokens[i];
}

const isBlank = (text: string) => text.trim().length === 0;

/** Indices of the non-whitespace tokens that overlap a character span. */
function tokensInSpan(row: AttributionRow, start: number, end: number): number[] {
  const inside: number[] = [];
  for (let i = 0; i < row.tokens.length; i++)
    if (row.char_start[i] < end && row.char_end[i] > start && !isBlank(tokenText(row, i))) inside.push(i);
  return inside;
}

class TermCounter {
  private terms = new Map<string, FlaggedTerm>();

  add(text: string, n: number, row: number): void {
    let term = this.terms.get(text);
    if (!term) this.terms.set(text, (term = { text, n, count: 0, rows: [] }));
    term.count++;
    if (term.rows[term.rows.length - 1] !== row) term.rows.push(row);
  }

  top(limit: number): FlaggedTerm[] {
    return [...this.terms.values()]
      .sort((a, b) => b.count - a.count || b.rows.length - a.rows.length || (a.text < b.text ? -1 : a.text > b.text ? 1 : 0))
      .slice(0, limit);
  }
}

function* allDeltas(rows: AttributionRow[]): Iterable<number> {
  for (const row of rows) yield* row.delta;
}

export function corpusStats(rows: AttributionRow[]): CorpusStats {
  const domain = deltaDomain(rows);
  const tokens = new TermCounter();
  const ngrams = new TermCounter();
  const spanTokenCounts = new Array<number>(MAX_SPAN_BIN).fill(0);
  const fractions: number[] = [];
  let tokenTotal = 0;
  let flaggedTotal = 0;
  let spanTotal = 0;
  let rowsWithFlags = 0;
  let longestSpan = 0;

  rows.forEach((row, r) => {
    tokenTotal += row.tokens.length;
    const fraction = flaggedFraction(row);
    fractions.push(fraction);
    if (fraction > 0) rowsWithFlags++;
    row.flagged.forEach((flagged, i) => {
      if (!flagged) return;
      flaggedTotal++;
      const text = tokenText(row, i).trim();
      if (text) tokens.add(text, 1, r);
    });
    for (const span of row.spans) {
      spanTotal++;
      const inside = tokensInSpan(row, span.start, span.end);
      longestSpan = Math.max(longestSpan, inside.length);
      if (inside.length > 0) spanTokenCounts[Math.min(inside.length, MAX_SPAN_BIN) - 1]++;
      for (const n of NGRAM_SIZES)
        for (let k = 0; k + n <= inside.length; k++) {
          const from = row.char_start[inside[k]];
          const to = row.char_end[inside[k + n - 1]];
          ngrams.add(row.text.slice(from, to).replace(/\s+/g, ' ').trim(), n, r);
        }
    }
  });

  const maxFraction = fractions.reduce((a, b) => Math.max(a, b), 0);
  return {
    rows: rows.length,
    tokens: tokenTotal,
    flaggedTokens: flaggedTotal,
    spans: spanTotal,
    rowsWithFlags,
    deltaDomain: domain,
    deltaHistogram: histogram(allDeltas(rows), domain[0], domain[1], DELTA_BINS),
    flaggedFractionHistogram: histogram(fractions, 0, roundUpperBound(maxFraction), FRACTION_BINS),
    spanTokenCounts: spanTokenCounts.slice(0, Math.max(1, Math.min(longestSpan, MAX_SPAN_BIN))),
    topTokens: tokens.top(TOP_TERMS),
    topNgrams: ngrams.top(TOP_TERMS),
  };
}
