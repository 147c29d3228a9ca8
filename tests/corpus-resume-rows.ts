import type { PrunedRow, SampleResult } from '../lib/corpus/index.ts';

/** Deterministic rows for the resumable-output tests (shared with the worker process). */
export const FINGERPRINT = 'test-fingerprint-1';

/** Batches in a scrambled order, as a length-bucketing engine would form them. */
export function batchesOf(indices: number[], size: number): number[][] {
  const scrambled = [...indices].sort((a, b) => ((a * 7919) % 101) - ((b * 7919) % 101) || a - b);
  const batches = [];
  for (let i = 0; i < scrambled.length; i += size) batches.push(scrambled.slice(i, i + size));
  return batches;
}

/** Sample k: skipped when k % 11 == 5, no rows when k % 7 == 3, else one original + (k % 3) counterfactuals. */
export function resultFor(index: number): SampleResult<PrunedRow> {
  if (index % 11 === 5) return { index, skipped: `sample ${index} failed the numeric guard` };
  if (index % 7 === 3) return { index, rows: [] };
  const base = {
    source_id: `s${index}`,
    instruction: `Instruction ${index} — ünïcödé`,
    input: '',
    output: `Output ${index}`,
    answer: String(index),
    mode: 'span' as const,
    level: 'instruction' as const,
    rule: 'percentile',
    threshold: 0.05,
  };
  // Extra columns with keys that come and go, to exercise type inference across parts.
  const extra: Record<string, unknown> = { topic: `t${index % 4}`, score: index / 4 };
  if (index % 5 === 0) extra.note = null;
  if (index % 6 === 1) extra.meta = { b: index, ...(index % 4 === 1 ? { a: 'x' } : {}) };
  // Keys that first appear late: a part holding an earlier sample fills them with nulls there.
  if (index === 40) extra.mid = 1;
  if (index === 97) extra.rare = 'r';
  const counterfactuals = index % 3;
  const rows: PrunedRow[] = [
    { ...base, id: `s${index}`, kind: 'original', removed_spans: [], removed_chars: 0, verified: null, weight: 0.5, extra },
  ];
  for (let c = 1; c <= counterfactuals; c++)
    rows.push({
      ...base,
      id: `s${index}#${c}`,
      kind: 'counterfactual',
      removed_spans: [{ start: c, end: c + 2, text: 'ns' }],
      removed_chars: 2,
      verified: c % 2 === 0,
      weight: 0.5 / counterfactuals,
      extra,
    });
  return { index, rows };
}
