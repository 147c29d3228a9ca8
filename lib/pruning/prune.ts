import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { configFingerprint } from '../corpus/hash.ts';
import { modelRef, type ModelRef } from '../corpus/manifest.ts';
import { mergeShards, openRun, runProgress, shardSamples, WHOLE_CORPUS, type Run, type Shard } from '../corpus/resumable.ts';
import { resolveShard } from '../corpus/shard-auto.ts';
import { writeRows, type WriteRowsOptions, type WriteRowsResult } from '../corpus/index.ts';
import { progressBar, silentProgress } from '../util/progress.ts';
import { getChecker } from '../eval/checkers/index.ts';
import { initRuntime } from '../runtime/index.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { loadPruneInputs, type PruneInputs } from './inputs.ts';
import { getPruningMode } from './modes.ts';
import { checkPruneOptions, type PruneOptions } from './options.ts';
import { planSample, type SamplePlan } from './plan.ts';
import { sampleRows, type RowSettings, type SampleStats } from './rows.ts';
import { summarize, SUMMARY_FILE, type PruneSummary, type SummaryContext } from './summary.ts';
import { checkGoldAnswers, loadJudge, verifyPlans, type Judge } from './verify.ts';

export interface PruneResult {
  summary: PruneSummary;
  summaryPath: string;
}

interface Written {
  result: WriteRowsResult;
  stats: SampleStats[];
  models: PruneSummary['models'];
  fingerprint: string | null;
  /** Called once the summary is written: until then a kill leaves a run that --resume completes. */
  close(): void;
}

interface Verification {
  models: { teacher: ModelRef; student: ModelRef };
  fingerprint: string;
}

/** Where a --verify run keeps its committed batches until the output is written. */
export const runDirFor = (out: string) => `${out}.run`;
const STATS_DIR = 'stats';

function writeOptions(options: PruneOptions): WriteRowsOptions {
  return { format: options.format, arrowFormat: options.arrowFormat };
}

async function writeUnverified(plans: SamplePlan[], settings: RowSettings, options: PruneOptions): Promise<Written> {
  const outcomes = plans.map((plan, position) => sampleRows(position, plan, undefined, settings));
  const result = await writeRows(options.out, outcomes.flatMap((outcome) => outcome.rows), 'pruned', writeOptions(options));
  return { result, stats: outcomes.map((outcome) => outcome.stats), models: null, fingerprint: null, close() {} };
}

/** Consecutive positions, cut after every `size` samples that have something to verify. */
function chunks(positions: number[], plans: SamplePlan[], size: number): number[][] {
  const out: number[][] = [[]];
  let verified = 0;
  for (const position of positions) {
    if (verified === size) {
      out.push([]);
      verified = 0;
    }
    out[out.length - 1].push(position);
    if (plans[position].counterfactuals.length > 0) verified++;
  }
  return out.filter((chunk) => chunk.length > 0);
}

/**
 * Stats of committed samples live beside the run's parts (the rows alone do not say how the
 * dropped counterfactuals were answered). They are written before their batch is committed and
 * read back only for committed samples, so a kill between the two loses nothing.
 */
function readStoredStats(runDir: string, done: ReadonlySet<number>): Map<number, SampleStats> {
  const stats = new Map<number, SampleStats>();
  const dir = join(runDir, STATS_DIR);
  if (!existsSync(dir)) return stats;
  for (const name of readdirSync(dir).filter((file) => file.endsWith('.json')).sort())
    for (const entry of JSON.parse(readFileSync(join(dir, name), 'utf8')) as SampleStats[]) if (done.has(entry.position)) stats.set(entry.position, entry);
  return stats;
}

interface Prepared {
  inputs: PruneInputs;
  plans: SamplePlan[];
  settings: RowSettings;
  /** What the summary says about the inputs and settings: the same for one process and every shard. */
  provenance: Pick<SummaryContext, 'inputs' | 'settings'>;
}

/** Every input check, before anything is written. */
async function preparePrune(options: PruneOptions): Promise<Prepared> {
  checkPruneOptions(options);
  const inputs = await loadPruneInputs(options);
  if (options.verify && [...inputs.rowsById.values()].some((rows) => rows.some((row) => row.region !== 'instruction')))
    throw new Error(
      `${inputs.attributions.path} holds response-level regions: --verify answers from the instruction only and cannot verify pruned response segments; prune response-level attributions without --verify`,
    );
  const planSettings = { mode: getPruningMode(options.mode), minSpanChars: options.minSpanChars, maxPerSample: options.maxPerSample };
  const plans = inputs.corpus.samples.map((sample) => planSample(sample, inputs.rowsById.get(sample.id) ?? [], inputs.layout, planSettings, inputs.attributions.path));
  const settings: RowSettings = {
    mode: options.mode,
    level: inputs.level,
    lambda: options.lambda,
    rules: inputs.rules,
    originals: options.originals,
    keepUnverified: options.keepUnverified,
    verify: options.verify,
  };
  const provenance = {
    inputs: { attributions: inputs.attributions, data: inputs.data, manifest: inputs.manifestPath },
    settings: {
      mode: options.mode,
      level: inputs.level,
      rules: { instruction: inputs.rules.user, response: inputs.rules.response },
      lambda: options.lambda,
      max_per_sample: options.maxPerSample ?? null,
      min_span_chars: options.minSpanChars,
      originals: options.originals,
      verify: options.verify,
      checker: options.verify ? options.checker : null,
      keep_unverified: options.keepUnverified,
      max_new_tokens: options.verify ? options.maxNewTokens : null,
    },
  };
  return { inputs, plans, settings, provenance };
}

/** What a verified run depends on: the models and the hash a resume (or a finished run) must match. */
async function verification({ inputs, settings }: Prepared, options: PruneOptions): Promise<Verification> {
  const models = { teacher: await modelRef(options.teacher!), student: await modelRef(options.student!) };
  const fingerprint = configFingerprint({
    data: inputs.data.sha256,
    attributions: inputs.attributions.sha256,
    models: [models.teacher.weights, models.student.weights],
    settings,
    plan: { maxPerSample: options.maxPerSample, minSpanChars: options.minSpanChars, checker: options.checker, maxNewTokens: options.maxNewTokens },
  });
  return { models, fingerprint };
}

/**
 * The summary of a verified run already finished with this fingerprint (its run directory is
 * removed only after the output and summary.json are written), or undefined.
 */
function finishedPrune(options: PruneOptions, fingerprint: string): PruneResult | undefined {
  const summaryPath = join(dirname(options.out), SUMMARY_FILE);
  if (existsSync(runDirFor(options.out)) || !existsSync(options.out) || !existsSync(summaryPath)) return undefined;
  const summary = JSON.parse(readFileSync(summaryPath, 'utf8')) as PruneSummary;
  if (summary.fingerprint !== fingerprint || summary.output?.path !== options.out) return undefined;
  return { summary, summaryPath };
}

interface Verified {
  run: Run<'pruned'>;
  stats: SampleStats[];
}

/** Answer this shard's samples (all of them unsharded), committing batch by batch into `runDir`. */
async function verifyInto(
  runDir: string,
  shard: Shard,
  { plans, settings }: Prepared,
  options: PruneOptions,
  timings: Record<string, number>,
  { fingerprint }: Verification,
): Promise<Verified> {
  const checker = getChecker(options.checker);
  checkGoldAnswers(plans, checker, options.data);
  const started = performance.now();
  await initRuntime({ backend: options.backend });
  const teacher = await loadJudge(options.teacher!);
  const progress = options.progress ? progressBar('verify', 'samples') : silentProgress;
  let student: Judge | undefined;
  try {
    student = await loadJudge(options.student!);
    const run = await openRun(runDir, { artifact: 'pruned', total: plans.length, configFingerprint: fingerprint, resume: options.resume, shard });
    const stats = readStoredStats(runDir, run.done);
    const todo = run.todo();
    const toVerify = (positions: number[]) => positions.filter((p) => plans[p].counterfactuals.length > 0).length;
    let verified = 0;
    progress.start(toVerify(todo), 0);
    mkdirSync(join(runDir, STATS_DIR), { recursive: true });
    for (const chunk of chunks(todo, plans, options.batchSize)) {
      const verdicts = verifyPlans(
        chunk.map((p) => plans[p]),
        { teacher, student, checker, maxNewTokens: options.maxNewTokens, batchSize: options.batchSize },
      );
      const outcomes = chunk.map((p) => sampleRows(p, plans[p], verdicts.get(plans[p]), settings));
      writeFileAtomic(join(runDir, STATS_DIR, `${String(chunk[0]).padStart(10, '0')}.json`), JSON.stringify(outcomes.map((o) => o.stats)));
      await run.commit(outcomes.map((outcome, i) => ({ index: chunk[i], rows: outcome.rows })));
      for (const outcome of outcomes) stats.set(outcome.stats.position, outcome.stats);
      verified += toVerify(chunk);
      progress.update(verified);
    }
    timings.verify_s = (performance.now() - started) / 1000;
    return { run, stats: shardStats(runDir, shardSamples(shard, plans.length), stats) };
  } finally {
    progress.stop();
    teacher.model.dispose();
    student?.model.dispose();
  }
}

function shardStats(runDir: string, positions: number[], stats: Map<number, SampleStats>): SampleStats[] {
  return positions.map((position) => {
    const entry = stats.get(position);
    if (!entry) throw new Error(`${runDir}: the stats of committed sample ${position} are missing; delete ${runDir} and run again`);
    return entry;
  });
}

function writeSummary(stats: SampleStats[], result: WriteRowsResult, context: Omit<SummaryContext, 'created' | 'output'>, arrowFormat: string): PruneResult {
  const summary = summarize(stats, {
    created: new Date().toISOString(),
    ...context,
    output: { path: result.path, format: result.format, arrow_format: result.format === 'arrow' ? arrowFormat : null, rows: result.rows },
  });
  const summaryPath = join(dirname(result.path), SUMMARY_FILE);
  writeFileAtomic(summaryPath, JSON.stringify(summary, null, 2) + '\n');
  return { summary, summaryPath };
}

/**
 * `leaf prune`: counterfactual copies of the analysed samples with their flagged spans removed,
 * optionally verified by both models, written with the originals as one table (Arrow IPC stream by
 * default), plus summary.json beside it. Every input check runs before anything is written.
 */
export async function prune(options: PruneOptions): Promise<PruneResult> {
  if (options.shard !== undefined) throw new Error('prune: a shard writes a run directory, not the dataset: use pruneShard');
  const started = performance.now();
  const prepared = await preparePrune(options);
  const timings: Record<string, number> = {};
  const verifying = options.verify ? await verification(prepared, options) : undefined;
  if (verifying && options.resume) {
    const finished = finishedPrune(options, verifying.fingerprint);
    if (finished) {
      process.stderr.write(`leaf prune: ${options.out} is complete (${finished.summaryPath}): nothing to do\n`);
      return finished;
    }
  }
  let written: Written;
  if (verifying) {
    const runDir = runDirFor(options.out);
    const { run, stats } = await verifyInto(runDir, WHOLE_CORPUS, prepared, options, timings, verifying);
    const result = await run.finalize(options.out, writeOptions(options));
    written = { result, stats, ...verifying, close: () => rmSync(runDir, { recursive: true, force: true }) };
  } else written = await writeUnverified(prepared.plans, prepared.settings, options);
  timings.total_s = (performance.now() - started) / 1000;
  const summary = writeSummary(
    written.stats,
    written.result,
    { command: process.argv.slice(2), models: written.models, fingerprint: written.fingerprint, ...prepared.provenance, timings },
    options.arrowFormat,
  );
  written.close();
  return summary;
}

/**
 * `leaf prune --verify --shard i/n --out DIR`: verify the samples of shard i (blocks of
 * --batch-size consecutive samples, so a shard's batches resemble one process's) into the run
 * directory DIR, with the stats and summary context the merge needs in DIR/prune-shard.json.
 */
export const PRUNE_SHARD_FILE = 'prune-shard.json';

interface PruneShardInfo {
  format: 'leaf-prune-shard/1';
  context: Pick<SummaryContext, 'inputs' | 'settings' | 'models' | 'fingerprint'>;
  write: WriteRowsOptions & { arrowFormat: string };
  timings: Record<string, number>;
}

export interface PruneShardResult {
  dir: string;
  shard: Shard;
  samples: number;
}

export async function pruneShard(options: PruneOptions & { shard: string }): Promise<PruneShardResult> {
  const started = performance.now();
  const prepared = await preparePrune(options);
  const resolved = resolveShard(options.shard, options.shards);
  const shard = resolved.count > 1 ? { ...resolved, block: options.batchSize } : resolved;
  const timings: Record<string, number> = {};
  const verifying = await verification(prepared, options);
  const { stats } = await verifyInto(options.out, shard, prepared, options, timings, verifying);
  timings.total_s = (performance.now() - started) / 1000;
  const info: PruneShardInfo = { format: 'leaf-prune-shard/1', context: { ...prepared.provenance, ...verifying }, write: { ...writeOptions(options), arrowFormat: options.arrowFormat }, timings };
  writeFileAtomic(join(options.out, PRUNE_SHARD_FILE), JSON.stringify(info, null, 2) + '\n');
  return { dir: options.out, shard, samples: stats.length };
}

/** Whether DIR holds a `leaf prune --verify --shard` run. */
export const isPruneShard = (dir: string) => existsSync(join(dir, PRUNE_SHARD_FILE));

function readShardInfo(dir: string): PruneShardInfo {
  const path = join(dir, PRUNE_SHARD_FILE);
  if (!existsSync(path)) throw new Error(`${dir}: no ${PRUNE_SHARD_FILE}; a shard of leaf prune --verify writes it when it has finished (resume it with --resume)`);
  const info = JSON.parse(readFileSync(path, 'utf8')) as PruneShardInfo;
  if (info.format !== 'leaf-prune-shard/1') throw new Error(`${path}: not a leaf prune shard`);
  return info;
}

/** The dataset file a merge of these shards writes into `dir` (their output format decides the extension). */
export function prunedFileIn(dir: string, shardDir: string): string {
  const { format } = readShardInfo(shardDir).write;
  return join(dir, `pruned.${format ?? 'arrow'}`);
}

/**
 * `leaf merge` of prune shards: the dataset (`out`) and summary.json beside it, as one process
 * writes them. Shards of other inputs, models or options are refused (mergeShards also checks the
 * runs' fingerprints and that every sample is done exactly once).
 */
export async function mergePruneShards(shardDirs: string[], out: string, command: string[] = process.argv.slice(2)): Promise<PruneResult> {
  const started = performance.now();
  if (shardDirs.length === 0) throw new Error('no shard directories to merge');
  const infos = shardDirs.map(readShardInfo);
  const same = (info: PruneShardInfo) => JSON.stringify({ context: info.context, write: info.write });
  infos.forEach((info, i) => {
    if (same(info) !== same(infos[0])) throw new Error(`${shardDirs[i]} and ${shardDirs[0]} are shards of different prune runs (inputs, models or options differ)`);
  });
  const result = await mergeShards(shardDirs, out, infos[0].write);
  const stats = shardDirs
    .flatMap((dir) => {
      const done = new Set(shardSamples(runProgress(dir)!.shard, result.samples));
      return shardStats(dir, [...done], readStoredStats(dir, done));
    })
    .sort((a, b) => a.position - b.position);
  const timings: Record<string, number> = {};
  for (const info of infos) for (const [phase, value] of Object.entries(info.timings)) timings[phase] = (timings[phase] ?? 0) + value;
  timings.merge_s = (performance.now() - started) / 1000;
  return writeSummary(stats, result, { command, ...infos[0].context, timings }, infos[0].write.arrowFormat);
}
