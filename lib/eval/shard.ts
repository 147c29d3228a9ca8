import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { configFingerprint, sha256File } from '../corpus/hash.ts';
import { modelRef } from '../corpus/manifest.ts';
import { shardSamples, type Shard } from '../corpus/resumable.ts';
import { resolveShard } from '../corpus/shard-auto.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { attributionsFile, checkMeasures, evalResult, evaluateRows, writeEvalOutputs, type EvalHeader, type EvalOptions, type EvalResult, type RowResults } from './evaluate.ts';

/**
 * `leaf eval --shard i/n --out DIR`: the rows k with k mod n = i are evaluated and their per-row
 * results written to DIR/eval-part.json (atomically: a part is there complete or not at all);
 * `leaf merge` joins the parts of all n shards into the summary and details one process writes.
 */
export const EVAL_PART_FILE = 'eval-part.json';
const PART_FORMAT = 'leaf-eval-part/1';

interface EvalPart {
  format: typeof PART_FORMAT;
  /** Hash of the data, attributions, model weights and every option that changes a result. */
  fingerprint: string;
  shard: Shard;
  total: number;
  header: EvalHeader;
  results: RowResults;
  elapsed_s: number;
}

async function evalFingerprint(options: EvalOptions): Promise<string> {
  const model = await modelRef(options.model);
  return configFingerprint({
    data: await sha256File(options.data),
    attributions: options.attributions ? await sha256File(attributionsFile(options.attributions)) : null,
    model: model.weights,
    checker: options.checker ?? null,
    maxNewTokens: options.maxNewTokens,
    batchSize: options.batchSize,
    mapping: options.mapping ?? {},
  });
}

function readPart(dir: string): EvalPart {
  const path = join(dir, EVAL_PART_FILE);
  if (!existsSync(path)) throw new Error(`${dir}: no ${EVAL_PART_FILE}; a shard of leaf eval writes it when it has finished (run or relaunch that shard)`);
  const part = JSON.parse(readFileSync(path, 'utf8')) as EvalPart;
  if (part.format !== PART_FORMAT) throw new Error(`${path}: not a leaf eval part`);
  return part;
}

/** Whether DIR holds the output of a `leaf eval` shard. */
export const isEvalShard = (dir: string) => existsSync(join(dir, EVAL_PART_FILE));

export interface EvalShardResult {
  dir: string;
  shard: Shard;
  rows: number;
  /** The part was already there (a relaunch with --resume): nothing was computed. */
  reused: boolean;
}

export interface EvalShardOptions extends EvalOptions {
  /** "i/n", or "auto" (from a Slurm array task or a Kubernetes Indexed Job). */
  shard: string;
  /** The shard count for `--shard auto` where the scheduler does not give it. */
  shards?: number;
  /** Keep a part already written by this shard (a relaunched task). */
  resume?: boolean;
  /** The shard directory. */
  out: string;
}

export async function evaluateShard(options: EvalShardOptions): Promise<EvalShardResult> {
  if (options.details) throw new Error('--details with --shard: a shard writes only its part; give --details to leaf merge');
  checkMeasures(options);
  const started = performance.now();
  const shard = resolveShard(options.shard, options.shards);
  const fingerprint = await evalFingerprint(options);
  if (isEvalShard(options.out)) {
    const part = readPart(options.out);
    if (!options.resume) throw new Error(`${options.out} already holds shard ${part.shard.index}/${part.shard.count} of an evaluation; add --resume to keep it, or choose another --out`);
    if (part.fingerprint !== fingerprint || part.shard.index !== shard.index || part.shard.count !== shard.count)
      throw new Error(`cannot resume ${options.out}: it holds shard ${part.shard.index}/${part.shard.count} of an evaluation with other data, model or options`);
    return { dir: options.out, shard, rows: part.results.rows.length, reused: true };
  }
  const { header, results, total } = await evaluateRows(options, (count) => shardSamples(shard, count));
  const part: EvalPart = { format: PART_FORMAT, fingerprint, shard, total, header, results, elapsed_s: (performance.now() - started) / 1000 };
  writeFileAtomic(join(options.out, EVAL_PART_FILE), `${JSON.stringify(part)}\n`);
  return { dir: options.out, shard, rows: results.rows.length, reused: false };
}

/**
 * Join the parts of n eval shards into the summary (--out) and details (--details) one process
 * writes: the same data, attributions, model and options in every part (else refused), every
 * shard 0..n-1 exactly once, every row evaluated by its shard.
 */
export function mergeEvalShards(shardDirs: string[], paths: { out?: string; details?: string }): EvalResult {
  if (shardDirs.length === 0) throw new Error('no shard directories to merge');
  for (const path of [paths.out, paths.details]) if (path && shardDirs.some((dir) => resolve(dir) === resolve(path))) throw new Error(`${path} is one of the shard directories; choose another`);
  const parts = shardDirs.map(readPart);
  const first = parts[0];
  const count = first.shard.count;
  const seen = new Map<number, string>();
  parts.forEach((part, i) => {
    if (part.fingerprint !== first.fingerprint || JSON.stringify({ ...part.header, backend: 0 }) !== JSON.stringify({ ...first.header, backend: 0 }))
      throw new Error(`${shardDirs[i]} and ${shardDirs[0]} are shards of different evaluations (data, attributions, model or options differ)`);
    if (part.shard.count !== count) throw new Error(`${shardDirs[i]} is shard ${part.shard.index}/${part.shard.count} but ${shardDirs[0]} is ${first.shard.index}/${count}`);
    const other = seen.get(part.shard.index);
    if (other !== undefined) throw new Error(`${other} and ${shardDirs[i]} are both shard ${part.shard.index}/${count}`);
    seen.set(part.shard.index, shardDirs[i]);
    const expected = shardSamples(part.shard, part.total);
    if (JSON.stringify(part.results.rows.map((r) => r.row)) !== JSON.stringify(expected))
      throw new Error(`${join(shardDirs[i], EVAL_PART_FILE)} does not hold exactly the rows of shard ${part.shard.index}/${count}`);
  });
  const absent = Array.from({ length: count }, (_, i) => i).filter((i) => !seen.has(i));
  if (absent.length > 0) throw new Error(`shard${absent.length > 1 ? 's' : ''} ${absent.map((i) => `${i}/${count}`).join(', ')} missing from the merge`);
  const byRow = <T extends { row: number }>(items: T[]) => items.map((item, i) => [item, i] as const).sort((a, b) => a[0].row - b[0].row || a[1] - b[1]).map(([item]) => item);
  // Concatenated shard by shard, then a stable sort by row: a row's regions keep their order.
  const results: RowResults = {
    rows: byRow(parts.flatMap((part) => part.results.rows)),
    predictions: byRow(parts.flatMap((part) => part.results.predictions)),
    masses: byRow(parts.flatMap((part) => part.results.masses)),
  };
  const result = evalResult(first.header, results, parts.reduce((sum, part) => sum + part.elapsed_s, 0));
  writeEvalOutputs(result, results, paths);
  return result;
}
