import type { AttributionRow } from '../corpus/types.ts';
import type { SynthSpan } from '../synth/index.ts';

/**
 * Detection quality against planted ground truth: which student tokens of an analysed region lie on
 * the planted distractor, AUROC of a per-token score, and whether a flagged span sits on it.
 */

const overlap = (a: SynthSpan, b: SynthSpan) => Math.max(0, Math.min(a.end, b.end) - Math.max(a.start, b.start));

/** True for each token of the row whose characters overlap a planted span (token spans are into row.text). */
export function plantedTokenLabels(row: AttributionRow, planted: readonly SynthSpan[]): boolean[] {
  return row.char_start.map((start, i) => planted.some((span) => overlap({ start, end: row.char_end[i] }, span) > 0));
}

/**
 * Area under the ROC curve of `scores` (higher = more confounder-like) for boolean `labels`,
 * with ties counted half (the Mann-Whitney U statistic). Null when either class is empty.
 */
export function auroc(scores: ArrayLike<number>, labels: ArrayLike<boolean>): number | null {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]] === scores[order[i]]) j++;
    const midRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (labels[order[k]]) {
      positives++;
      rankSum += midRank;
    }
    i = j + 1;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return null;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Precision and recall of boolean flags against labels (null precision when nothing is flagged). */
export function precisionRecall(flags: ArrayLike<boolean>, labels: ArrayLike<boolean>): { precision: number | null; recall: number | null; flagged: number; positives: number } {
  let tp = 0;
  let flagged = 0;
  let positives = 0;
  for (let i = 0; i < flags.length; i++) {
    if (flags[i]) flagged++;
    if (labels[i]) positives++;
    if (flags[i] && labels[i]) tp++;
  }
  return { precision: flagged ? tp / flagged : null, recall: positives ? tp / positives : null, flagged, positives };
}

/** A span "lies on" the distractor when most of its non-space characters are inside a planted span. */
export function spanOnPlanted(text: string, span: SynthSpan, planted: readonly SynthSpan[]): boolean {
  let inside = 0;
  let total = 0;
  for (let c = span.start; c < span.end; c++) {
    if (/\s/.test(text[c])) continue;
    total++;
    if (planted.some((p) => c >= p.start && c < p.end)) inside++;
  }
  return total > 0 && inside * 2 > total;
}

/** Flagged spans of a row ordered most confounder-like first: by the mean Δ of their tokens, ascending. */
export function spansByDelta(row: AttributionRow): { span: SynthSpan; meanDelta: number }[] {
  return row.spans
    .map((span) => {
      const tokens = row.char_start.map((start, i) => i).filter((i) => row.flagged[i] && overlap({ start: row.char_start[i], end: row.char_end[i] }, span) > 0);
      const meanDelta = tokens.reduce((sum, i) => sum + row.delta[i], 0) / Math.max(1, tokens.length);
      return { span, meanDelta };
    })
    .sort((a, b) => a.meanDelta - b.meanDelta);
}
