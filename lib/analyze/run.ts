import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { getAttributionMethod } from '../attribution/index.ts';
import { parseRuleSpec, type ResolvedRule } from '../confounders/index.ts';
import {
  configFingerprint,
  createManifest,
  finishedRun,
  fileRef,
  modelRef,
  openRun,
  resolveShard,
  shardSamples,
  readCorpus,
  readManifest,
  sha256File,
  WHOLE_CORPUS,
  writeManifest,
  type Corpus,
  type Manifest,
  type ModelRef,
  type Run,
  type SampleResult,
  type Shard,
  type SkippedEntry,
} from '../corpus/index.ts';
import type { AttributionRow, Sample } from '../corpus/types.ts';
import { progressBar, silentProgress } from '../util/progress.ts';
import { getChecker } from '../eval/checkers/index.ts';
import { initRuntime } from '../runtime/index.ts';
import { spanCutFor, type AnalyzeOptions } from './options.ts';
import type { ModelSide } from './prepare.ts';
import { planBatches, prepareSample, scoreBatch, tokenCount, type ReadySample, type ScoringSettings } from './score.ts';
import { selectTeacherCorrectStudentWrong } from './select.ts';
import { loadSides } from './sides.ts';
import { checkAnalyzeMemory } from './memory.ts';

export const ATTRIBUTIONS_FILE = 'attributions.arrow';
export const MANIFEST_FILE = 'manifest.json';
/**
 * Samples are length-bucketed within windows of batchSize × BUCKET_WINDOW consecutive samples of
 * the shard. Windows and the batches inside them depend only on the corpus and the options, so a
 * resumed run recomputes exactly the batches an uninterrupted run would have (scores are equal
 * across batchings only to ~1e-6, so this is what makes the resumed file identical).
 */
export const BUCKET_WINDOW = 16;

/**
 * Shards take whole windows (samples k with floor(k / window) mod n = i), so a shard's windows
 * and batches are exactly those of a one-process run and the merged file is byte-identical to it.
 * With one sample per batch nothing depends on neighbours, and shards go round robin.
 */
function analyzeShard(shard: Shard, batchSize: number): Shard {
  return shard.count > 1 && batchSize > 1 ? { ...shard, block: batchSize * BUCKET_WINDOW } : shard;
}

export interface AnalyzeResult {
  dir: string;
  /** The attributions file; absent for a shard (combine shards with `leaf merge`). */
  attributions?: string;
  manifest: Manifest;
}

export interface AnalyzeContext {
  /** The command line recorded in the manifest (default: this process's arguments). */
  command?: string[];
}

/** Options that decide the rows written; resuming requires them unchanged (with the data and models). */
function outputOptions(options: AnalyzeOptions): Record<string, unknown> {
  const { out: _out, resume: _resume, shard: _shard, shards: _shards, backend: _backend, progress: _progress, arrowFormat: _format, memoryLimitGb: _limit, hold: _hold, ...rest } = options;
  return { ...rest, teacher: undefined, student: undefined, data: undefined, responseRule: options.responseRule ?? options.rule };
}

async function tokenizerHashes(dir: string): Promise<Record<string, string>> {
  const hashes: Record<string, string> = {};
  for (const file of ['tokenizer.json', 'tokenizer_config.json', 'chat_template.jinja', 'generation_config.json'])
    if (existsSync(join(dir, file))) hashes[file] = await sha256File(join(dir, file));
  return hashes;
}

const seconds = (from: number) => (performance.now() - from) / 1000;

/**
 * `leaf analyze`: read the corpus, load both models, score every sample of this shard in
 * length-bucketed batches, commit each batch atomically to the run directory, and when the run is
 * complete write DIR/attributions.arrow (in corpus order) and DIR/manifest.json.
 */
export async function runAnalyze(requested: AnalyzeOptions, context: AnalyzeContext = {}): Promise<AnalyzeResult> {
  const started = performance.now();
  const timings: Record<string, number> = {};
  const method = getAttributionMethod(requested.method);
  // Resolved once, so the fingerprint and the manifest name the cut the rows were made with.
  const spanCut = spanCutFor(requested.spanCut, method);
  const options: AnalyzeOptions = { ...requested, spanCut };
  const rule = parseRuleSpec(options.rule);
  const responseRule = parseRuleSpec(options.responseRule ?? options.rule);
  const shard = options.shard ? analyzeShard(resolveShard(options.shard, options.shards), options.batchSize) : WHOLE_CORPUS;
  const checker = options.select === 'teacher-correct-student-wrong' ? getChecker(options.checker) : undefined;

  // Everything that can reject the input happens before the output directory is touched.
  const corpus = await readCorpus(
    options.data,
    { idField: options.idField, instructionField: options.instructionField, inputField: options.inputField, responseField: options.responseField, answerField: options.answerField },
    { onError: options.onError },
  );
  const samples = options.limit ? corpus.samples.slice(0, options.limit) : corpus.samples;
  const runtime = await initRuntime({ backend: options.backend });
  const refs: Record<'teacher' | 'student', ModelRef> = { teacher: await modelRef(options.teacher), student: await modelRef(options.student) };
  const fingerprint = configFingerprint({
    data: corpus.sha256,
    models: { teacher: refs.teacher.weights, student: refs.student.weights },
    tokenizers: { teacher: await tokenizerHashes(options.teacher), student: await tokenizerHashes(options.student) },
    options: outputOptions(options),
  });
  if (options.resume) {
    const finished = finishedAnalysis(options.out, fingerprint);
    if (finished) return finished;
  }
  const memory = await checkAnalyzeMemory(options, shardSamples(shard, samples.length).map((i) => samples[i]), runtime.backend);
  const { teacher, student, dispose } = await loadSides(options.teacher, options.student, {
    teacher: { hold: memory.holds.teacher.hold },
    student: { hold: memory.holds.student.hold },
  });
  teacher.model.recomputeLayers = student.model.recomputeLayers = memory.recompute;
  for (const role of ['teacher', 'student'] as const) {
    refs[role].dtype = (role === 'teacher' ? teacher : student).model.heldDtype;
    refs[role].hold = memory.holds[role].reason;
  }
  timings.load = seconds(started);
  try {
    const run = await openRun(options.out, { artifact: 'attributions', total: samples.length, configFingerprint: fingerprint, resume: options.resume, shard });
    const settings: ScoringSettings = {
      method,
      methodOptions: { batchSize: options.batchSize, igSteps: options.igSteps, igAggregate: options.igAggregate },
      level: options.level,
      segments: options.segments,
      length: { maxLength: options.maxLength, onLong: options.onLong },
      onError: options.onError,
      rule,
      responseRule,
      projection: options.project,
      renormalize: options.renormalize,
      mergeGap: options.mergeGap,
      spanCut,
      comparison: method.comparison,
    };
    await processShard(run, samples, teacher, student, settings, options, checker, timings);

    let attributions: string | undefined;
    let outputs: Manifest['outputs'];
    const writing = performance.now();
    if (shard.count === 1) {
      attributions = join(options.out, ATTRIBUTIONS_FILE);
      const written = await run.finalize(attributions, { arrowFormat: options.arrowFormat });
      outputs = { attributions: { ...(await fileRef(attributions)), rows: written.rows, format: `arrow-${options.arrowFormat}` } };
    }
    timings.write = seconds(writing);
    timings.total = seconds(started);

    const manifest = analyzeManifest({ options, context, backend: runtime.backend, refs, corpus, samples, run, outputs, rule, responseRule, timings });
    writeManifest(join(options.out, MANIFEST_FILE), manifest);
    // Last: until the run is closed, a kill anywhere above leaves a run that --resume finishes again.
    if (attributions) run.close(attributions);
    return { dir: options.out, attributions, manifest };
  } finally {
    dispose();
  }
}

/** A run already finished with this configuration: --resume (a scheduler's rerun) does nothing and says so. */
function finishedAnalysis(dir: string, fingerprint: string): AnalyzeResult | undefined {
  const attributions = finishedRun(dir, fingerprint);
  if (attributions === undefined) return undefined;
  process.stderr.write(`leaf analyze: the run in ${dir} is complete (${attributions}): nothing to do\n`);
  return { dir, attributions, manifest: readManifest(join(dir, MANIFEST_FILE)) };
}

interface ManifestParts {
  options: AnalyzeOptions;
  context: AnalyzeContext;
  backend: string;
  refs: Record<'teacher' | 'student', ModelRef>;
  corpus: Corpus;
  samples: Sample[];
  run: Run<'attributions'>;
  outputs: Manifest['outputs'];
  rule: ResolvedRule;
  responseRule: ResolvedRule;
  timings: Record<string, number>;
}

function analyzeManifest({ options, context, backend, refs, corpus, samples, run, outputs, rule, responseRule, timings }: ManifestParts): Manifest {
  const sampleSkips: SkippedEntry[] = [...run.skipped]
    .sort((a, b) => a.index - b.index)
    .map(({ index, reason }) => ({ index: samples[index].index, id: samples[index].id, reason }));
  const recordSkips: SkippedEntry[] = corpus.skipped.map(({ index, line, message }) => ({ index, line, reason: message }));
  return createManifest({
    step: 'analyze',
    ...(context.command ? { command: context.command } : {}),
    backend,
    models: refs,
    data: { path: options.data, sha256: corpus.sha256, bytes: statSync(options.data).size },
    outputs,
    method: options.method,
    rule: { name: rule.rule.name, ...rule.params, spec: rule.spec, response: responseRule.spec },
    options: { ...options },
    counts: {
      done: run.done.size - run.skipped.length,
      skipped: [...recordSkips, ...sampleSkips],
      samples: run.done.size,
      records: corpus.samples.length + corpus.skipped.length,
      ...(outputs ? { rows: outputs.attributions.rows ?? 0 } : {}),
    },
    timings: Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, Math.round(v * 100) / 100])),
    ...(run.shard.count > 1 ? { shard: run.shard } : {}),
  });
}

async function processShard(
  run: Run<'attributions'>,
  samples: Sample[],
  teacher: ModelSide,
  student: ModelSide,
  settings: ScoringSettings,
  options: AnalyzeOptions,
  checker: ReturnType<typeof getChecker> | undefined,
  timings: Record<string, number>,
): Promise<void> {
  const positions = shardSamples(run.shard, samples.length);
  const position = new Map(positions.map((p) => [samples[p], p]));
  const progress = options.progress ? progressBar('analyze', 'samples') : silentProgress;
  const total = run.todo().length;
  let done = 0;
  let tokens = 0;
  const startedAt = performance.now();
  if (checker) timings.select = 0;
  timings.score = 0;
  const commit = async (results: SampleResult<AttributionRow>[]) => {
    const fresh = results.filter((r) => !run.done.has(r.index));
    if (fresh.length === 0) return;
    await run.commit(fresh);
    done += fresh.length;
    const elapsed = (performance.now() - startedAt) / 1000;
    progress.update(done, `${Math.round(tokens / elapsed)} tok/s`);
  };
  const result = (sample: Sample, outcome: { rows: AttributionRow[] } | { skipped: string }): SampleResult<AttributionRow> =>
    'rows' in outcome ? { index: position.get(sample)!, rows: outcome.rows } : { index: position.get(sample)!, skipped: outcome.skipped };

  progress.start(total, 0);
  try {
    const windowSize = options.batchSize * BUCKET_WINDOW;
    for (let w = 0; w < positions.length; w += windowSize) {
      const window = positions.slice(w, w + windowSize);
      if (window.every((p) => run.done.has(p))) continue;
      let candidates = window.map((p) => samples[p]);
      const skips: SampleResult<AttributionRow>[] = [];
      if (checker) {
        const selecting = performance.now();
        const selection = selectTeacherCorrectStudentWrong(candidates, teacher, student, { checker, maxNewTokens: options.maxNewTokens, batchSize: options.batchSize });
        timings.select += seconds(selecting);
        for (const { sample, reason } of selection.rejected) skips.push(result(sample, { skipped: reason }));
        candidates = selection.selected;
      }
      const ready: ReadySample[] = [];
      for (const sample of candidates) {
        const prepared = prepareSample(sample, teacher, student, settings);
        if ('layout' in prepared) ready.push(prepared);
        else skips.push(result(sample, prepared));
      }
      await commit(skips);
      for (const batch of planBatches(ready, options.batchSize)) {
        if (batch.every((r) => run.done.has(position.get(r.sample)!))) continue;
        const scoring = performance.now();
        const outcomes = scoreBatch(batch, teacher, student, settings);
        timings.score += seconds(scoring);
        tokens += batch.reduce((n, r) => n + tokenCount(r), 0);
        await commit(outcomes.map((o) => result(o.sample, o)));
      }
    }
  } finally {
    progress.stop();
  }
}
