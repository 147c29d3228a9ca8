import { flaggedSpans, flagTokens, isWhitespaceToken, minMaxNormalize, parseRuleSpec, spanPieces, type SpanCut } from '../confounders/index.ts';
import type { AttributionRow } from '../corpus/types.ts';

/**
 * The row as `leaf analyze` would have written it with another Δ (e.g. a baseline score turned
 * into a Δ) or another threshold rule: same tokens, Δ replaced, flags, spans and τ recomputed with
 * lib/confounders' own rule, whitespace and span functions. `spanCut` must be the analysis's
 * (its manifest's options.spanCut) for the spans to be the ones it would have written.
 */
export function reflag(row: AttributionRow, ruleSpec: string, { spanCut = 'none', delta = row.delta }: { spanCut?: SpanCut; delta?: ArrayLike<number> } = {}): AttributionRow {
  const rule = parseRuleSpec(ruleSpec);
  const values = Float32Array.from(delta);
  if (values.length !== row.tokens.length) throw new Error(`reflag: row "${row.id}" has ${row.tokens.length} tokens but ${values.length} Δ values`);
  const spans = row.char_start.map((start, i) => ({ start, end: row.char_end[i] }));
  const whitespace = spans.map((span) => isWhitespaceToken(row.text, span));
  const threshold = rule.rule.threshold(values, rule.params);
  const flagged = flagTokens(values, threshold, whitespace);
  return { ...row, delta: Array.from(values), flagged, spans: flaggedSpans(flagged, spans, whitespace, 0, spanPieces(row.text, spans, spanCut)), threshold };
}

/**
 * A confounder score where higher means "more confounder-like" (a baseline) as a Δ on the
 * analysis's scale: 1 − min-max(score), so low Δ = confounder, as for ĝ_T − ĝ_S.
 */
export function scoreAsDelta(score: ArrayLike<number>): Float32Array {
  return minMaxNormalize(Float32Array.from(score)).map((v) => 1 - v);
}
