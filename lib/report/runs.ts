import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { DistillRun, EvalResult, TrainPoint, ValidationPoint } from './types.ts';

/**
 * A distill run directory, as `leaf report --runs DIR` reads it (the minimal shape; other fields
 * are ignored):
 * - `metrics.jsonl` (required): one JSON object per line.
 *   `kind` "train" (the default when absent): `step` (integer, required), `loss` (required),
 *   optional `lr`, `grad_norm`, `tokens_per_s`, `loss_terms` {term: number}.
 *   `kind` "validation": `step`, optional `val_loss`, `val_accuracy`. Other kinds are skipped.
 * - `eval*.json` (optional, any number): the object `leaf eval --out` writes; read are `accuracy`
 *   (number or null), `attention_mass` (number or null), `n`, `flagged_token_fraction`, and
 *   `split` — when absent, the file name's suffix (`eval-test.json` → "test"), else the base name
 *   of its `data` field.
 * - `run.json` (optional): `name` or `label` names the run; default the directory's name.
 */
export function readRun(dir: string): DistillRun {
  const metricsPath = join(dir, 'metrics.jsonl');
  if (!existsSync(metricsPath)) throw new Error(`run ${dir}: no metrics.jsonl (is this a leaf distill output directory?)`);
  const train: TrainPoint[] = [];
  const validation: ValidationPoint[] = [];
  readFileSync(metricsPath, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (!line.trim()) return;
      const where = `${metricsPath} line ${i + 1}`;
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line);
      } catch {
        throw new Error(`${where}: not valid JSON`);
      }
      if (!record || typeof record !== 'object') throw new Error(`${where}: expected a JSON object`);
      const kind = record.kind ?? 'train';
      const step = record.step;
      if (!Number.isInteger(step) || (step as number) < 0) throw new Error(`${where}: field step must be a non-negative integer, got ${JSON.stringify(step)}`);
      if (kind === 'train') {
        if (typeof record.loss !== 'number') throw new Error(`${where}: field loss must be a number, got ${JSON.stringify(record.loss)}`);
        const point: TrainPoint = { step: step as number, loss: record.loss };
        for (const key of ['lr', 'grad_norm', 'tokens_per_s'] as const) if (typeof record[key] === 'number') point[key] = record[key] as number;
        if (record.loss_terms && typeof record.loss_terms === 'object')
          point.loss_terms = Object.fromEntries(Object.entries(record.loss_terms).filter(([, v]) => typeof v === 'number'));
        train.push(point);
      } else if (kind === 'validation') {
        const point: ValidationPoint = { step: step as number };
        for (const key of ['val_loss', 'val_accuracy'] as const) if (typeof record[key] === 'number') point[key] = record[key] as number;
        validation.push(point);
      }
    });
  return { name: runName(dir), train, validation, evals: readEvals(dir) };
}

function readJson(path: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`${path}: not valid JSON (${(error as Error).message})`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error(`${path}: expected a JSON object`);
  return value as Record<string, unknown>;
}

function runName(dir: string): string {
  const path = join(dir, 'run.json');
  if (existsSync(path)) {
    const run = readJson(path);
    for (const key of ['name', 'label']) if (typeof run[key] === 'string' && run[key]) return run[key] as string;
  }
  return basename(dir.replace(/[\\/]+$/, '')) || dir;
}

function nullableNumber(record: Record<string, unknown>, key: string, path: string): number | null {
  const value = record[key];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number') throw new Error(`${path}: field ${key} must be a number or null, got ${JSON.stringify(value)}`);
  return value;
}

function readEvals(dir: string): EvalResult[] {
  return readdirSync(dir)
    .filter((file) => /^eval.*\.json$/.test(file))
    .sort()
    .map((file) => {
      const path = join(dir, file);
      const record = readJson(path);
      const suffix = file.match(/^eval[-_.](.+)\.json$/)?.[1];
      const split =
        typeof record.split === 'string' ? record.split : (suffix ?? (typeof record.data === 'string' ? basename(record.data) : 'eval'));
      const result: EvalResult = {
        split,
        accuracy: nullableNumber(record, 'accuracy', path),
        attention_mass: nullableNumber(record, 'attention_mass', path),
      };
      if (typeof record.n === 'number') result.n = record.n;
      if ('flagged_token_fraction' in record) result.flagged_token_fraction = nullableNumber(record, 'flagged_token_fraction', path);
      return result;
    });
}

/** Upper bound on plotted points per curve; longer runs are averaged over consecutive buckets of steps. */
export const MAX_CURVE_POINTS = 4000;

/** Mean of each bucket of `bucket` consecutive values (the last bucket may be shorter). */
export function bucketMeans(values: (number | undefined)[], bucket: number): (number | null)[] {
  const out: (number | null)[] = [];
  for (let start = 0; start < values.length; start += bucket) {
    let sum = 0;
    let count = 0;
    for (let i = start; i < Math.min(values.length, start + bucket); i++)
      if (typeof values[i] === 'number' && Number.isFinite(values[i])) {
        sum += values[i] as number;
        count++;
      }
    out.push(count ? sum / count : null);
  }
  return out;
}
