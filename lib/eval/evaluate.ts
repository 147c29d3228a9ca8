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
  const file = existsSync(path) && statSync(path).isDirectory() ? join(path, 'attributions.arrow') : path;
  if (!existsSync(file)) throw new Error(`${path}: no attributions.arrow (give the \`leaf analyze\` output directory)`);
  return readAttributions(file);
}

function accuracyByKind(rows: TrainingRow[], predictions: Prediction[]): Record<string, { n: number; accuracy: number }> {
  const byKind: Record<string, { n: number; correct: number }> = {};
  rows.forEach((row, i) => {
    const entry = (byKind[row.kind] ??= { n: 0, correct: 0 });
    entry.n++;
    if (predictions[i].correct) entry.correct++;
  });
  return Object.fromEntries(Object.entries(byKind).map(([kind, { n, correct }]) => [kind, { n, accuracy: correct / n }]));
}

/**
 * Accuracy by greedy generation + answer checker, and the attention mass that response positions
 * put on flagged (confounder) tokens relative to the whole analysed region, for originals that
 * have flagged spans in the attributions.
 */
export async function evaluate(options: EvalOptions): Promise<EvalResult> {
  if (!options.checker && !options.attributions)
    throw new Error(
      'nothing to measure: give --checker NAME (accuracy of greedy answers against the answer field), --attributions DIR (attention mass on the spans a `leaf analyze` output flagged), or both',
    );
  const started = performance.now();
  const runtime = await initRuntime({ backend: options.backend, quiet: options.quiet });
  const { rows, kind } = await loadTrainingRows(options.data, options.mapping);
  const attributions = options.attributions ? await readAttributionRows(options.attributions) : [];
  const checker = options.checker ? getChecker(options.checker) : undefined;
  const tokenizer = await loadTokenizer(options.model);
  const model = await loadModel(options.model);
  try {
    let predictions: Prediction[] = [];
    if (checker) {
      const withAnswers = rows.filter((row) => row.answer !== '');
      if (withAnswers.length !== rows.length)
        throw new Error(`${options.data}: ${rows.length - withAnswers.length} row(s) have no answer, e.g. ${rows.find((row) => row.answer === '')!.origin}; --checker needs an answer for every row`);
      const progress = options.progress ? progressBar('eval accuracy', 'samples') : silentProgress;
      progress.start(rows.length, 0);
      try {
        predictions = answerAccuracy(model, tokenizer, rows, checker, { maxNewTokens: options.maxNewTokens, batchSize: options.batchSize, onBatch: (done) => progress.update(done) });
      } finally {
        progress.stop();
      }
    }
    const bySource = new Map<string, AttributionRow[]>();
    for (const row of attributions) if (row.spans.length > 0) bySource.set(row.id, [...(bySource.get(row.id) ?? []), row]);
    const pairs = rows.filter((row) => row.kind === 'original').flatMap((row) => (bySource.get(row.sourceId) ?? []).map((attribution) => ({ row, attribution })));
    const masses: RegionMass[] = [];
    const progress = options.progress && pairs.length ? progressBar('eval attention', 'samples') : silentProgress;
    progress.start(pairs.length, 0);
    try {
      for (const { row, attribution } of pairs) {
        masses.push(regionAttentionMass(model, tokenizer, row, attribution));
        progress.update(masses.length);
      }
    } finally {
      progress.stop();
    }
    if (attributions.length && masses.length === 0)
      process.stderr.write(`leaf eval: no row of ${options.data} has flagged spans in the attributions (ids must match the analysed corpus)\n`);
    const correct = checker ? predictions.filter((p) => p.correct).length : null;
    const result: EvalResult = {
      model: options.model,
      data: options.data,
      n: rows.length,
      checker: checker?.name ?? null,
      accuracy: checker ? correct! / rows.length : null,
      correct,
      ...(checker && kind === 'pruned' && { by_kind: accuracyByKind(rows, predictions) }),
      attention_mass: mean(masses.map((m) => m.ratio)),
      attention_samples: masses.length,
      flagged_token_fraction: mean(masses.map((m) => m.flaggedTokens / m.regionTokens)),
      flagged_mass: mean(masses.map((m) => m.flaggedMass)),
      region_mass: mean(masses.map((m) => m.regionMass)),
      backend: runtime.backend,
      elapsed_s: (performance.now() - started) / 1000,
    };
    if (options.out) writeFileAtomic(resolve(options.out), `${JSON.stringify(result, null, 2)}\n`);
    if (options.details) {
      const lines = [
        ...predictions.map((p) => JSON.stringify({ type: 'prediction', ...p })),
        ...masses.map((m) => JSON.stringify({ type: 'attention', ...m })),
      ];
      writeFileAtomic(resolve(options.details), lines.length ? `${lines.join('\n')}\n` : '');
    }
    return result;
  } finally {
    model.dispose();
  }
}
