import type { PrunedRow, Sample } from '../../corpus/types.ts';

/** One training row, from a pruned dataset or a plain corpus, before tokenisation. */
export interface TrainingRow {
  id: string;
  /** The corpus sample this row derives from (its own id for originals and plain corpora). */
  sourceId: string;
  kind: 'original' | 'counterfactual';
  instruction: string;
  input: string;
  output: string;
  answer: string;
  /** Loss weight as given by the data (pruned `weight`, 1 for plain corpora), before --lambda and normalisation. */
  weight: number;
  /** Where the row came from, for messages: "file.arrow row 12". */
  origin: string;
  /**
   * Spans of the user message the detector flagged (the union of what this original's
   * counterfactuals remove; empty on counterfactuals and plain corpora): the focus term pulls the
   * student's attention mass on them toward the teacher's.
   */
  focus?: { start: number; end: number }[];
}

export function rowFromPruned(row: PrunedRow, index: number, file: string): TrainingRow {
  if (!Number.isFinite(row.weight) || row.weight < 0)
    throw new Error(`${file} row ${index} (id ${row.id}): field "weight" must be a finite number >= 0, got ${row.weight}`);
  return {
    id: row.id,
    sourceId: row.source_id,
    kind: row.kind,
    instruction: row.instruction,
    input: row.input,
    output: row.output,
    answer: row.answer,
    weight: row.weight,
    origin: `${file} row ${index}`,
    focus: [],
  };
}

/**
 * Gives each original the spans its counterfactuals remove from the instruction (response-level
 * spans are left out: the focus term acts on the user message).
 */
export function withFocus(rows: TrainingRow[], pruned: readonly Pick<PrunedRow, 'source_id' | 'kind' | 'level' | 'removed_spans'>[]): TrainingRow[] {
  const spans = new Map<string, { start: number; end: number }[]>();
  for (const row of pruned)
    if (row.kind === 'counterfactual' && row.level === 'instruction')
      spans.set(row.source_id, [...(spans.get(row.source_id) ?? []), ...row.removed_spans.map(({ start, end }) => ({ start, end }))]);
  return rows.map((row) => (row.kind === 'original' ? { ...row, focus: spans.get(row.sourceId) ?? [] } : row));
}

export function rowFromSample(sample: Sample, file: string): TrainingRow {
  return {
    id: sample.id,
    sourceId: sample.id,
    kind: 'original',
    instruction: sample.instruction,
    input: sample.input,
    output: sample.output,
    answer: sample.answer,
    weight: 1,
    origin: `${file} row ${sample.index}`,
    focus: [],
  };
}

export interface WeightOptions {
  /** Overrides the data's weights: λ for originals, (1 − λ) shared by each source's counterfactuals. */
  lambda?: number;
  /** Plain KD: drop counterfactuals, weight every original 1, no focus spans. */
  kdOnly?: boolean;
}

/**
 * The rows that train, with their loss weights scaled to mean 1. Scaling by the mean keeps every
 * row's relative weight (so a source's original and counterfactuals still contribute
 * λ·KL(orig) + (1 − λ)·KL(cf)) while the loss stays on the scale of a plain per-row mean.
 */
export function weightedRows(rows: TrainingRow[], options: WeightOptions): TrainingRow[] {
  let kept = options.kdOnly ? rows.filter((row) => row.kind === 'original') : rows;
  if (kept.length === 0) throw new Error(options.kdOnly ? 'no original rows to train on (--kd-only keeps originals only)' : 'no rows to train on');
  if (options.kdOnly) kept = kept.map((row) => ({ ...row, weight: 1, focus: [] }));
  else if (options.lambda !== undefined) {
    const { lambda } = options;
    if (!(lambda >= 0 && lambda <= 1)) throw new Error(`--lambda must be in [0, 1], got ${lambda}`);
    const counterfactuals = new Map<string, number>();
    for (const row of kept) if (row.kind === 'counterfactual') counterfactuals.set(row.sourceId, (counterfactuals.get(row.sourceId) ?? 0) + 1);
    kept = kept.map((row) => ({ ...row, weight: row.kind === 'original' ? lambda : (1 - lambda) / counterfactuals.get(row.sourceId)! }));
  }
  const mean = kept.reduce((sum, row) => sum + row.weight, 0) / kept.length;
  if (!(mean > 0)) throw new Error('every row has loss weight 0: nothing would train (check the weight column or --lambda)');
  return kept.map((row) => ({ ...row, weight: row.weight / mean }));
}
