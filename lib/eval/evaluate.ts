import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readAttributions } from '../corpus/rows.ts';
import type { AttributionRow } from '../corpus/types.ts';
import type { FieldMapping } from '../corpus/mapping.ts';
import { loadModel } from '../models/index.ts';
import { initRuntime, type BackendChoice } from '../runtime/index.ts';
import { loadTokenizer } from '../text/index.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { progressBar, silentProgress } from '../util/progress.ts';
import { loadTrainingRows } from '../distill/data/load.ts';
import type { TrainingRow } from '../distill/data/rows.ts';
import { getChecker } from './checkers/index.ts';
import { answerAccuracy, type Prediction } from './accuracy.ts';
import { regionAttentionMass, type RegionMass } from './attention-mass.ts';

export interface EvalOptions {
  model: string;
  data: string;
  checker?: string;
  /** `leaf analyze` output: a directory holding attributions.arrow, or the file itself. */
  attributions?: string;
  maxNewTokens: number;
  batchSize: number;
  /** Corpus field mapping (plain corpora only), as given to `leaf analyze`. */
  mapping?: Partial<FieldMapping>;
  /** Per-sample predictions and attention masses as JSONL. */
  details?: string;
  /** JSON summary file (also printed by the CLI). */
  out?: string;
  backend?: BackendChoice;
  quiet?: boolean;
  /** Progress on stderr (a bar on a terminal, plain lines otherwise). */
  progress?: boolean;
}

export const evalDefaults = { maxNewTokens: 256, batchSize: 8 } as const satisfies Partial<EvalOptions>;

/** `leaf eval` output: the JSON the report reads. */
export interface EvalResult {
  model: string;
  data: string;
  n: number;
  checker: string | null;
  accuracy: number | null;
  correct: number | null;
  /** Accuracy per row kind when the data is a pruned dataset. */
  by_kind?: Record<string, { n: number; accuracy: number }>;
  attention_mass: number | null;
  attention_samples: number;
  flagged_token_fraction: number | null;
  flagged_mass: number | null;
  region_mass: number | null;
  backend: string;
  elapsed_s: number;
}

const mean = (values: number[]) => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : null);

function readAttributionRows(path: string): Promise<AttributionRow[]> {
  return readAttributions(attributionsFile(path));
}

/** The attributions file of `leaf analyze` output given as its directory or the file itself. */
export function attributionsFile(path: string): string {
  const file = existsSync(path) && statSync(path).isDirectory() ? join(path, 'attributions.arrow') : path;
  if (!existsSync(file)) throw new Error(`${path}: no attributions.arrow (give the \`leaf analyze\` output directory)`);
  return file;
}

/**
 * Per-row results, from which the summary is computed: one process has every row, a shard the
 * rows of its shard, and `leaf merge` the union, so merged aggregates are computed from samples
 * exactly as one process computes them (never averages of shard averages).
 */
export interface RowResults {
  /** Rows evaluated: their position in the data and their kind. */
  rows: { row: number; kind: string }[];
  /** With a checker: one per evaluated row, in row order. */
  predictions: (Prediction & { row: number })[];
  /** In row order (a row's regions in attribution order). */
  masses: (RegionMass & { row: number })[];
}

/** What a result says about the run beside the per-row results. */
export interface EvalHeader {
  model: string;
  data: string;
  checker: string | null;
  /** Whether the data is a pruned dataset (accuracy per row kind) or a corpus. */
  kind: 'pruned' | 'corpus';
  backend: string;
}

function accuracyByKind(results: RowResults): Record<string, { n: number; accuracy: number }> {
  const kinds = new Map(results.rows.map(({ row, kind }) => [row, kind]));
  const byKind: Record<string, { n: number; correct: number }> = {};
  for (const prediction of results.predictions) {
    const entry = (byKind[kinds.get(prediction.row)!] ??= { n: 0, correct: 0 });
    entry.n++;
    if (prediction.correct) entry.correct++;
  }
  return Object.fromEntries(Object.entries(byKind).map(([kind, { n, correct }]) => [kind, { n, accuracy: correct / n }]));
}

/** The summary of per-row results (all rows of the data). */
export function evalResult(header: EvalHeader, results: RowResults, elapsed: number): EvalResult {
  const { masses, predictions } = results;
  const n = results.rows.length;
  const correct = header.checker ? predictions.filter((p) => p.correct).length : null;
  return {
    model: header.model,
    data: header.data,
    n,
    checker: header.checker,
    accuracy: header.checker ? correct! / n : null,
    correct,
    ...(header.checker && header.kind === 'pruned' && { by_kind: accuracyByKind(results) }),
    attention_mass: mean(masses.map((m) => m.ratio)),
    attention_samples: masses.length,
    flagged_token_fraction: mean(masses.map((m) => m.flaggedTokens / m.regionTokens)),
    flagged_mass: mean(masses.map((m) => m.flaggedMass)),
    region_mass: mean(masses.map((m) => m.regionMass)),
    backend: header.backend,
    elapsed_s: elapsed,
  };
}

/** The per-sample details (--details) and the JSON summary (--out), each written atomically. */
export function writeEvalOutputs(result: EvalResult, results: RowResults, paths: { out?: string; details?: string }): void {
  // The summary last: a launch takes its presence as "merged".
  if (paths.details) {
    const lines = [
      ...results.predictions.map(({ row: _row, ...p }) => JSON.stringify({ type: 'prediction', ...p })),
      ...results.masses.map(({ row: _row, ...m }) => JSON.stringify({ type: 'attention', ...m })),
    ];
    writeFileAtomic(resolve(paths.details), lines.length ? `${lines.join('\n')}\n` : '');
  }
  if (paths.out) writeFileAtomic(resolve(paths.out), `${JSON.stringify(result, null, 2)}\n`);
}

export interface EvaluatedRows {
  header: EvalHeader;
  results: RowResults;
  /** Rows in the data (all of them, not only those evaluated). */
  total: number;
  dataSha256: string;
}

/** The refusal of an evaluation with neither a checker nor attributions (before any work). */
export function checkMeasures(options: Pick<EvalOptions, 'checker' | 'attributions'>): void {
  if (!options.checker && !options.attributions)
    throw new Error(
      'nothing to measure: give --checker NAME (accuracy of greedy answers against the answer field), --attributions DIR (attention mass on the spans a `leaf analyze` output flagged), or both',
    );
}

/**
 * Accuracy by greedy generation + answer checker, and the attention mass that response positions
 * put on flagged (confounder) tokens relative to the whole analysed region, for originals that
 * have flagged spans in the attributions; for the rows `pick` chooses of the data.
 */
export async function evaluateRows(options: EvalOptions, pick: (total: number) => number[]): Promise<EvaluatedRows> {
  checkMeasures(options);
  const runtime = await initRuntime({ backend: options.backend, quiet: options.quiet });
  const loaded = await loadTrainingRows(options.data, options.mapping);
  const attributions = options.attributions ? await readAttributionRows(options.attributions) : [];
  const checker = options.checker ? getChecker(options.checker) : undefined;
  const missing = loaded.rows.filter((row) => row.answer === '');
  if (checker && missing.length > 0)
    throw new Error(`${options.data}: ${missing.length} row(s) have no answer, e.g. ${missing[0].origin}; --checker needs an answer for every row`);
  const picked = pick(loaded.rows.length);
  const rows = picked.map((index) => loaded.rows[index]);
  const tokenizer = await loadTokenizer(options.model);
  const model = await loadModel(options.model);
  try {
    let predictions: RowResults['predictions'] = [];
    if (checker) {
      const progress = options.progress ? progressBar('eval accuracy', 'samples') : silentProgress;
      progress.start(rows.length, 0);
      try {
        predictions = answerAccuracy(model, tokenizer, rows, checker, { maxNewTokens: options.maxNewTokens, batchSize: options.batchSize, onBatch: (done) => progress.update(done) }).map((p, i) => ({
          ...p,
          row: picked[i],
        }));
      } finally {
        progress.stop();
      }
    }
    const bySource = new Map<string, AttributionRow[]>();
    for (const row of attributions) if (row.spans.length > 0) bySource.set(row.id, [...(bySource.get(row.id) ?? []), row]);
    const pairs = rows.flatMap((row, i) => (row.kind === 'original' ? (bySource.get(row.sourceId) ?? []).map((attribution) => ({ row, attribution, index: picked[i] })) : []));
    const masses: RowResults['masses'] = [];
    const progress = options.progress && pairs.length ? progressBar('eval attention', 'samples') : silentProgress;
    progress.start(pairs.length, 0);
    try {
      for (const { row, attribution, index } of pairs) {
        masses.push({ ...regionAttentionMass(model, tokenizer, row, attribution), row: index });
        progress.update(masses.length);
      }
    } finally {
      progress.stop();
    }
    return {
      header: { model: options.model, data: options.data, checker: checker?.name ?? null, kind: loaded.kind, backend: runtime.backend },
      results: { rows: rows.map((row, i) => ({ row: picked[i], kind: row.kind })), predictions, masses },
      total: loaded.rows.length,
      dataSha256: loaded.sha256,
    };
  } finally {
    model.dispose();
  }
}

export async function evaluate(options: EvalOptions): Promise<EvalResult> {
  const started = performance.now();
  const { header, results } = await evaluateRows(options, (total) => Array.from({ length: total }, (_, i) => i));
  if (options.attributions && results.masses.length === 0)
    process.stderr.write(`leaf eval: no row of ${options.data} has flagged spans in the attributions (ids must match the analysed corpus)\n`);
  const result = evalResult(header, results, (performance.now() - started) / 1000);
  writeEvalOutputs(result, results, options);
  return result;
}
