import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { configFingerprint } from '../corpus/hash.ts';
import { modelRef, type ModelRef } from '../corpus/manifest.ts';
import { openRun } from '../corpus/resumable.ts';
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
import { summarize, SUMMARY_FILE, type PruneSummary } from './summary.ts';
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

/** What a verified run depends on: the models and the hash a resume (or a finished run) must match. */
async function verification(inputs: PruneInputs, settings: RowSettings, options: PruneOptions): Promise<Verification> {
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

async function writeVerified(plans: SamplePlan[], inputs: PruneInputs, settings: RowSettings, options: PruneOptions, timings: Record<string, number>, { models, fingerprint }: Verification): Promise<Written> {
  const checker = getChecker(options.checker);
  checkGoldAnswers(plans, checker, options.data);
  const runDir = runDirFor(options.out);
  const started = performance.now();
  await initRuntime({ backend: options.backend });
  const teacher = await loadJudge(options.teacher!);
  const progress = options.progress ? progressBar('verify', 'samples') : silentProgress;
  let student: Judge | undefined;
  try {
    student = await loadJudge(options.student!);
    const run = await openRun(runDir, { artifact: 'pruned', total: plans.length, configFingerprint: fingerprint, resume: options.resume });
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
    const all = plans.map((_, position) => {
      const entry = stats.get(position);
      if (!entry) throw new Error(`${runDir}: the stats of committed sample ${position} are missing; delete ${runDir} and run again`);
      return entry;
    });
    const result = await run.finalize(options.out, writeOptions(options));
    return { result, stats: all, models, fingerprint, close: () => rmSync(runDir, { recursive: true, force: true }) };
  } finally {
    progress.stop();
    teacher.model.dispose();
    student?.model.dispose();
  }
}

/**
 * `leaf prune`: counterfactual copies of the analysed samples with their flagged spans removed,
 * optionally verified by both models, written with the originals as one table (Arrow IPC stream by
 * default), plus summary.json beside it. Every input check runs before anything is written.
 */
export async function prune(options: PruneOptions): Promise<PruneResult> {
  const started = performance.now();
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
  const timings: Record<string, number> = {};
  const verifying = options.verify ? await verification(inputs, settings, options) : undefined;
  if (verifying && options.resume) {
    const finished = finishedPrune(options, verifying.fingerprint);
    if (finished) {
      process.stderr.write(`leaf prune: ${options.out} is complete (${finished.summaryPath}): nothing to do\n`);
      return finished;
    }
  }
  const written = verifying ? await writeVerified(plans, inputs, settings, options, timings, verifying) : await writeUnverified(plans, settings, options);
  const { result, stats, models, fingerprint } = written;
  timings.total_s = (performance.now() - started) / 1000;

  const summary = summarize(stats, {
    created: new Date().toISOString(),
    command: process.argv.slice(2),
    inputs: { attributions: inputs.attributions, data: inputs.data, manifest: inputs.manifestPath },
    fingerprint,
    models,
    output: { path: result.path, format: result.format, arrow_format: result.format === 'arrow' ? options.arrowFormat : null, rows: result.rows },
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
    timings,
  });
  const summaryPath = join(dirname(options.out), SUMMARY_FILE);
  writeFileAtomic(summaryPath, JSON.stringify(summary, null, 2) + '\n');
  written.close();
  return { summary, summaryPath };
}
