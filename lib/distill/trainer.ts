import * as tf from '@tensorflow/tfjs-core';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { holdCandidate, loadModel, readConfig, type LoadOptions } from '../models/index.ts';
import type { CausalLM } from '../models/types.ts';
import { initRuntime } from '../runtime/index.ts';
import { loadTokenizer } from '../text/index.ts';
import type { TextTokenizer } from '../text/types.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { getChecker } from '../eval/checkers/index.ts';
import { answerAccuracy } from '../eval/accuracy.ts';
import { checkRegionsAlign } from './attention/loss.ts';
import { checkFiniteWeights, nonFiniteLogits } from './diagnose.ts';
import { checkpointName, latestCheckpoint, loadOptimizerState, pruneCheckpoints, saveCheckpoint, saveStudent, writeDirectoryAtomic, type TrainerState } from './checkpoint.ts';
import { groupSteps, planEpoch } from './data/batches.ts';
import { encodeRows, type EncodedRow } from './data/encode.ts';
import { loadTrainingRows } from './data/load.ts';
import { DEFAULT_FIELD_MAPPING, pickFieldMapping } from '../corpus/index.ts';
import { Prng } from './data/prng.ts';
import { weightedRows, type TrainingRow } from './data/rows.ts';
import { getLoss } from './losses/index.ts';
import { memoryLimit, checkMemory, estimateTrainingMemory, planHolds, printEstimate, type HoldDecision, type TrainingShape } from '../runtime/memory.ts';
import { MetricsLog, type TrainMetrics } from './metrics.ts';
import { AdamW } from './optim/adamw.ts';
import { globalNormScale } from './optim/clip.ts';
import { getSchedule, learningRate } from './optim/schedules/index.ts';
import { distillDefaults, TRAJECTORY_SETTINGS, type DistillOptions } from './options.ts';
import { progressBar, silentProgress, type Progress } from '../util/progress.ts';
import { accumulateMicroBatch, evaluateMicroBatch, type StepContext } from './step.ts';
import { buildTeacherCache, CachedTeacher, findTeacherCache, type CacheSpec } from './teacher/cached.ts';
import { LiveTeacher } from './teacher/live.ts';
import type { TeacherSignal } from './teacher/types.ts';
import { buildVocabMap } from './vocab.ts';

const METRICS_FILE = 'metrics.jsonl';
const RUN_FILE = 'run.json';

export type DistillInput = Partial<DistillOptions> & Pick<DistillOptions, 'teacher' | 'student' | 'data' | 'out'>;

/** Observers for programs that drive a run (the demo, tests); not CLI options. */
export interface DistillHooks {
  /** After every optimizer step, with the metrics line just written. */
  onStep?: (metrics: TrainMetrics) => void;
}

export interface DistillResult {
  out: string;
  steps: number;
  finalDir: string;
  bestDir?: string;
  metricsPath: string;
  lastLoss?: number;
}

interface Validation {
  loss: number;
  terms: Record<string, number>;
  accuracy?: number;
}

function note(message: string): void {
  process.stderr.write(`leaf distill: ${message}\n`);
}

function checkOptions(o: DistillOptions): number {
  const positive = (name: string, value: number) => {
    if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer, got ${value}`);
  };
  positive('batch-size', o.batchSize);
  positive('max-length', o.maxLength);
  if (o.maxSteps !== undefined) positive('max-steps', o.maxSteps);
  else positive('epochs', o.epochs);
  if (!(o.temperature > 0)) throw new Error(`--temperature must be > 0, got ${o.temperature}`);
  if (!(o.ceWeight >= 0 && o.ceWeight <= 1)) throw new Error(`--ce-weight must be in [0, 1], got ${o.ceWeight}`);
  if (!(o.valFraction >= 0 && o.valFraction < 1)) throw new Error(`--val-fraction must be in [0, 1), got ${o.valFraction}`);
  if (o.valData && o.valFraction > 0) throw new Error('give either --val-data or --val-fraction, not both');
  const effective = o.effectiveBatch ?? o.batchSize;
  if (!Number.isInteger(effective) || effective % o.batchSize !== 0)
    throw new Error(`--effective-batch (${effective}) must be a multiple of --batch-size (${o.batchSize})`);
  return effective / o.batchSize;
}

/** Holds out `fraction` of the sources (a source's original and counterfactuals stay together). */
function splitBySource(rows: TrainingRow[], fraction: number, seed: number): { train: TrainingRow[]; validation: TrainingRow[] } {
  const sources = [...new Set(rows.map((row) => row.sourceId))];
  // A PRNG of its own, so the split does not shift the batch order's random stream.
  Prng.fromSeed(seed + 0x5eed).shuffle(sources);
  const held = new Set(sources.slice(0, Math.max(1, Math.round(sources.length * fraction))));
  return { train: rows.filter((row) => !held.has(row.sourceId)), validation: rows.filter((row) => held.has(row.sourceId)) };
}

function settingsOf(o: DistillOptions, sha: Record<string, string>): Record<string, unknown> {
  const settings: Record<string, unknown> = { dataSha256: sha };
  for (const key of TRAJECTORY_SETTINGS) settings[key] = o[key] ?? null;
  // The pull only matters with the term on; so runs without it, started before the option existed, still resume.
  if (!(o.consistencyLoss > 0)) delete settings.consistencyPull;
  // Only a non-default mapping is recorded, so runs started before mapping options existed still resume.
  const mapping = Object.entries(pickFieldMapping(o)).filter(([key, value]) => DEFAULT_FIELD_MAPPING[key as keyof typeof DEFAULT_FIELD_MAPPING] !== value);
  if (mapping.length) settings.fieldMapping = Object.fromEntries(mapping);
  return settings;
}

/** What the consistency term does with the shortened copies of the originals, for the memory pre-flight. */
function shortenedCopies(o: DistillOptions): TrainingShape['shortenedCopies'] {
  if (!(o.consistencyLoss > 0)) return undefined;
  return o.consistencyPull === 'mutual' ? 'trained' : 'forwarded';
}

function checkResumeSettings(saved: Record<string, unknown>, now: Record<string, unknown>, dir: string): void {
  const differ = Object.keys({ ...saved, ...now }).filter((key) => JSON.stringify(saved[key] ?? null) !== JSON.stringify(now[key] ?? null));
  if (differ.length)
    throw new Error(
      `cannot resume from ${dir}: ${differ.map((key) => `${key} was ${JSON.stringify(saved[key] ?? null)}, now ${JSON.stringify(now[key] ?? null)}`).join('; ')}. ` +
        'A resumed run must use the settings (and data) it was started with.',
    );
}

async function tokenizers(o: DistillOptions): Promise<{ student: TextTokenizer; teacher: TextTokenizer }> {
  const student = await loadTokenizer(o.student);
  const teacher = resolve(o.teacher) === resolve(o.student) ? student : await loadTokenizer(o.teacher);
  return { student, teacher };
}

/**
 * `leaf distill`: distils the teacher into the student on original and counterfactual rows,
 * writing DIR/metrics.jsonl, checkpoints (DIR/checkpoints/step-N, resumable), DIR/best and
 * DIR/final in Hugging Face layout, and DIR/run.json.
 */
export async function distill(input: DistillInput, hooks: DistillHooks = {}): Promise<DistillResult> {
  const o: DistillOptions = { ...distillDefaults, ...input } as DistillOptions;
  const existed = existsSync(o.out);
  try {
    return await distillInto(o, hooks);
  } catch (error) {
    removeEmptyLeftovers(o.out, existed);
    throw error;
  }
}

/** A failed run leaves no empty metrics.jsonl, nor an empty --out it created (a teacher cache or checkpoints stay). */
function removeEmptyLeftovers(out: string, existed: boolean): void {
  const metricsPath = join(out, METRICS_FILE);
  if (existsSync(metricsPath) && statSync(metricsPath).size === 0) rmSync(metricsPath);
  if (!existed && existsSync(out) && readdirSync(out).length === 0) rmSync(out, { recursive: true });
}

/**
 * The result of a run that already reached its last step (run.json is written after final/), or
 * undefined: rerunning a finished job with --resume (as schedulers do) then does nothing.
 */
function finishedRun(out: string, state: TrainerState, metricsPath: string): DistillResult | undefined {
  const runPath = join(out, RUN_FILE);
  const finalDir = join(out, 'final');
  if (!existsSync(runPath) || !existsSync(finalDir)) return undefined;
  const run = JSON.parse(readFileSync(runPath, 'utf8')) as { steps: number; total_steps: number; final_loss: number | null };
  if (run.steps !== state.step || run.steps < run.total_steps) return undefined;
  return { out, steps: run.steps, finalDir, bestDir: state.best ? join(out, 'best') : undefined, metricsPath, lastLoss: run.final_loss ?? undefined };
}

async function distillInto(o: DistillOptions, hooks: DistillHooks): Promise<DistillResult> {
  const accumulation = checkOptions(o);
  const runtime = await initRuntime({ backend: o.backend, quiet: !o.progress });
  const out = o.out;
  const checkpointsDir = join(out, 'checkpoints');
  const metrics = new MetricsLog(join(out, METRICS_FILE));
  const resumeFrom = o.resume ? latestCheckpoint(checkpointsDir) : undefined;
  if (o.resume && !resumeFrom) note(`no checkpoint under ${checkpointsDir}: starting from the beginning`);
  if (!o.resume && latestCheckpoint(checkpointsDir))
    throw new Error(`${out} already holds a distillation run; pass --resume to continue it, or choose another --out`);
  mkdirSync(out, { recursive: true });

  // Data and tokenisation: everything that can be wrong with the input fails before any model loads.
  const studentConfig = readConfig(o.student).config;
  const teacherConfig = readConfig(o.teacher).config;
  const toks = await tokenizers(o);
  const vocab = buildVocabMap({ label: o.student, config: studentConfig, tokenizer: toks.student }, { label: o.teacher, config: teacherConfig, tokenizer: toks.teacher }, o.vocabMap);
  const mapping = pickFieldMapping(o);
  const loaded = await loadTrainingRows(o.data, mapping);
  const sha: Record<string, string> = { data: loaded.sha256 };
  let trainRows = loaded.rows;
  let validationRows: TrainingRow[] = [];
  if (o.valData) {
    const validation = await loadTrainingRows(o.valData, mapping);
    validationRows = validation.rows;
    sha.valData = validation.sha256;
  } else if (o.valFraction > 0) ({ train: trainRows, validation: validationRows } = splitBySource(trainRows, o.valFraction, o.seed));
  const weightOptions = { lambda: o.lambda, kdOnly: o.kdOnly };
  const encodedTrain = encodeRows(weightedRows(trainRows, weightOptions), toks, vocab, o.maxLength, o.consistencyLoss > 0);
  const encodedValidation = validationRows.length ? encodeRows(weightedRows(validationRows, weightOptions), toks, vocab, o.maxLength, o.consistencyLoss > 0) : undefined;
  const rows: EncodedRow[] = [...encodedTrain.rows, ...(encodedValidation?.rows ?? [])].map((row, index) => ({ ...row, index }));
  const train = rows.slice(0, encodedTrain.rows.length);
  const validation = rows.slice(encodedTrain.rows.length);
  const dropped = [...encodedTrain.dropped, ...(encodedValidation?.dropped ?? [])];
  if (dropped.length) note(`left out ${dropped.length} row(s), e.g. ${dropped[0].origin}: ${dropped[0].reason}`);
  const closingDiffer = encodedTrain.closingTokensDiffer + (encodedValidation?.closingTokensDiffer ?? 0);
  if (closingDiffer) note(`${closingDiffer} row(s): the models close the turn with different tokens, which are therefore not supervised`);
  if (train.length === 0) throw new Error(`${o.data}: no row left to train on`);

  if (o.checker) {
    getChecker(o.checker);
    if (!validation.some(({ row }) => row.kind === 'original' && row.answer !== ''))
      throw new Error('--checker picks the best checkpoint by validation accuracy: give validation rows with answers (--val-data or --val-fraction)');
  }

  const lossName = o.loss ?? (o.cacheTeacher > 0 ? 'topk-kl' : 'forward-kl');
  const loss = getLoss(lossName);
  if (o.cacheTeacher > 0 && loss.teacher === 'full') throw new Error(`--loss ${lossName} needs the full teacher distribution; with --cache-teacher use --loss topk-kl`);
  if (o.cacheTeacher === 0 && loss.teacher === 'topk') throw new Error(`--loss ${lossName} reads a teacher cache: add --cache-teacher K`);
  if (loss.auxiliary) throw new Error(`--loss ${lossName} is an auxiliary term with its own weight option, not a distillation loss`);
  if (o.focusLoss > 0 && o.cacheTeacher > 0) throw new Error('--focus-loss needs the live teacher\'s attention; it cannot be combined with --cache-teacher (use --focus-loss 0)');
  if (o.attentionLoss > 0) {
    if (o.cacheTeacher > 0) throw new Error('--attention-loss needs the live teacher; it cannot be combined with --cache-teacher');
    checkRegionsAlign(rows, vocab);
  }

  const settings = settingsOf({ ...o, loss: lossName }, sha);
  if (resumeFrom) {
    checkResumeSettings(resumeFrom.state.settings, settings, resumeFrom.dir);
    const finished = finishedRun(out, resumeFrom.state, metrics.path);
    if (finished) {
      note(`the run in ${out} is complete (step ${finished.steps} of ${finished.steps}): nothing to do`);
      return finished;
    }
  }
  const cacheSpec: CacheSpec = {
    dir: join(out, 'teacher-cache'), k: o.cacheTeacher, temperature: o.temperature, teacher: resolve(o.teacher), vocabMode: vocab.mode, vocabBias: vocab.studentBias,
  };
  const cached = o.cacheTeacher > 0 ? findTeacherCache(cacheSpec, rows) : undefined;
  const longest = Math.max(...rows.map((row) => Math.max(row.student.ids.length, row.teacher.ids.length)));
  const limit = memoryLimit(runtime.backend, o.memoryLimitGb);
  // The teacher is frozen: held in float32 when the run fits so (faster), else as stored; the student trains in float32.
  const { estimate, holds } = planHolds(cached ? [] : [holdCandidate('teacher', o.teacher)], o.hold ?? 'auto', limit, ([teacher]) =>
    estimateTrainingMemory({ student: studentConfig, teacher, teacherFirst: o.cacheTeacher > 0, batchSize: o.batchSize, maxLength: longest, shortenedCopies: shortenedCopies(o) }));
  const teacherHold: HoldDecision | undefined = holds[0];
  if (o.progress) printEstimate(estimate, limit, holds);
  checkMemory(estimate, limit);

  let teacherSignal: TeacherSignal | undefined;
  let student: CausalLM | undefined;
  let optimizer: AdamW | undefined;
  let vocabBias: tf.Tensor1D | undefined;
  try {
    teacherSignal = await openTeacher(o, cacheSpec, cached, rows, vocab, teacherHold?.hold);
    student = await loadModel(resumeFrom?.dir ?? o.student, { trainable: true });
    checkFiniteWeights(student, resumeFrom?.dir ?? o.student);
    optimizer = new AdamW(student.weights, { beta1: o.adamBeta1, beta2: o.adamBeta2, epsilon: o.adamEpsilon, weightDecay: o.weightDecay });
    vocabBias = vocab.studentBias ? tf.tensor1d(vocab.studentBias) : undefined;
    const ctx: StepContext = {
      student, teacher: teacherSignal, vocabBias,
      settings: { loss, temperature: o.temperature, beta: o.beta, ceWeight: o.ceWeight, attentionWeight: o.attentionLoss, attentionLayers: o.attentionLayers, focusWeight: o.focusLoss, focusTarget: o.focusTarget, consistencyWeight: o.consistencyLoss, consistencyPull: o.consistencyPull },
    };
    // What each model was held in and why: the student trains in float32; the teacher as planned, or not at all (cache).
    const held = {
      teacher: teacherHold ? { dtype: teacherHold.held.dtype, hold: teacherHold.reason } : { dtype: 'not loaded (teacher cache)' },
      student: { dtype: 'F32', hold: 'trained: float32 for AdamW' },
    };
    return await trainLoop(o, ctx, optimizer, { train, validation, accumulation, settings, resumeFrom, metrics, tokenizer: toks.student, hooks, held });
  } finally {
    teacherSignal?.dispose();
    optimizer?.dispose();
    student?.dispose();
    vocabBias?.dispose();
  }
}

async function openTeacher(o: DistillOptions, spec: CacheSpec, cached: ReturnType<typeof findTeacherCache>, rows: EncodedRow[], vocab: ReturnType<typeof buildVocabMap>, hold?: LoadOptions['hold']): Promise<TeacherSignal> {
  if (cached) return new CachedTeacher(spec.dir, cached);
  const model = await loadModel(o.teacher, { hold });
  try {
    checkFiniteWeights(model, o.teacher);
  } catch (error) {
    model.dispose();
    throw error;
  }
  const live = new LiveTeacher(model, vocab);
  if (o.cacheTeacher === 0) {
    // The live teacher owns the model from here on.
    return { kind: 'full', output: (r, opts) => live.output(r, opts), dispose: () => (live.dispose(), model.dispose()) };
  }
  try {
    const progress = o.progress ? progressBar('teacher cache', 'rows') : silentProgress;
    progress.start(rows.length, 0);
    const header = buildTeacherCache(spec, live, rows, o.batchSize, (done) => progress.update(done));
    progress.stop();
    return new CachedTeacher(spec.dir, header);
  } finally {
    live.dispose();
    model.dispose();
  }
}

interface LoopInput {
  train: EncodedRow[];
  validation: EncodedRow[];
  accumulation: number;
  settings: Record<string, unknown>;
  resumeFrom?: { dir: string; state: TrainerState };
  metrics: MetricsLog;
  tokenizer: TextTokenizer;
  held: Record<'teacher' | 'student', { dtype: string; hold?: string }>;
  hooks: DistillHooks;
}

async function trainLoop(o: DistillOptions, ctx: StepContext, optimizer: AdamW, input: LoopInput): Promise<DistillResult> {
  const { train, validation, accumulation, metrics, resumeFrom } = input;
  const student = ctx.student;
  const schedule = getSchedule(o.schedule);
  const stepsPerEpoch = Math.ceil(Math.ceil(train.length / o.batchSize) / accumulation);
  const totalSteps = o.maxSteps ?? o.epochs * stepsPerEpoch;
  const scheduleParams = { baseLr: o.lr, warmupSteps: o.warmupSteps, totalSteps };
  const byIndex = new Map(train.map((row) => [row.index, row]));
  const lengthOf: number[] = [];
  for (const row of train) lengthOf[row.index] = row.student.ids.length;
  const checker = o.checker ? getChecker(o.checker) : undefined;

  let state: TrainerState;
  if (resumeFrom) {
    state = resumeFrom.state;
    loadOptimizerState(resumeFrom.dir, optimizer, state.step);
    metrics.truncateAfter(state.step);
    note(`resuming from ${resumeFrom.dir} (step ${state.step} of ${totalSteps})`);
  } else {
    state = { version: 1, step: 0, epoch: 0, stepInEpoch: 0, epochPrng: Prng.fromSeed(o.seed).state(), elapsedS: 0, settings: input.settings };
    metrics.reset();
  }
  const prng = Prng.fromState(state.epochPrng);
  const planFor = () => groupSteps(planEpoch(train.map((row) => row.index), lengthOf, o.batchSize, prng), accumulation);
  let plan = planFor();
  // state.elapsedS holds the time up to the last checkpoint; the clock restarts there.
  let since = performance.now();
  const elapsed = () => state.elapsedS + (performance.now() - since) / 1000;
  const baseElapsed = state.elapsedS;
  const progress: Progress = o.progress ? progressBar('distill') : silentProgress;
  progress.start(totalSteps, state.step);
  let lastLoss: number | undefined;
  let bestDir: string | undefined = state.best ? join(o.out, 'best') : undefined;

  const validate = (): Validation => {
    const ordered = [...validation].sort((a, b) => a.student.ids.length - b.student.ids.length);
    const terms: Record<string, number> = {};
    let total = 0;
    for (let start = 0; start < ordered.length; start += o.batchSize) {
      const result = evaluateMicroBatch(ctx, ordered.slice(start, start + o.batchSize), ordered.length);
      total += result.total;
      for (const [name, value] of Object.entries(result.terms)) terms[name] = (terms[name] ?? 0) + value;
    }
    const result: Validation = { loss: total, terms };
    if (checker) {
      const items = validation.filter((row) => row.row.kind === 'original' && row.row.answer !== '').map(({ row }) => row);
      const predictions = answerAccuracy(student, input.tokenizer, items, checker, { maxNewTokens: o.maxNewTokens, batchSize: o.batchSize });
      result.accuracy = predictions.filter((p) => p.correct).length / predictions.length;
    }
    return result;
  };

  const recordValidation = () => {
    const v = validate();
    const metric = v.accuracy !== undefined ? 'val_accuracy' : 'val_loss';
    const value = v.accuracy ?? v.loss;
    const best = state.best;
    const improved =
      !best || (metric === 'val_accuracy' ? value > best.value || (value === best.value && v.loss < best.valLoss) : value < best.value);
    if (improved) {
      state.best = { step: state.step, metric, value, valLoss: v.loss };
      bestDir = join(o.out, 'best');
      writeDirectoryAtomic(bestDir, (temp) => saveStudent(student, o.student, temp));
    }
    metrics.append({
      kind: 'validation', step: state.step, epoch: state.epoch, val_loss: v.loss, val_loss_terms: v.terms,
      ...(v.accuracy !== undefined && { val_accuracy: v.accuracy }), best: improved, elapsed_s: elapsed(),
    });
  };

  try {
    while (state.step < totalSteps) {
      if (state.stepInEpoch >= plan.length) {
        state.epoch += 1;
        state.stepInEpoch = 0;
        state.epochPrng = prng.state();
        plan = planFor();
        continue;
      }
      const micro = plan[state.stepInEpoch];
      const rowsInStep = micro.reduce((sum, batch) => sum + batch.length, 0);
      const started = performance.now();
      const accumulated = new Map<string, tf.Tensor>();
      const terms: Record<string, number> = {};
      let total = 0;
      let tokens = 0;
      let gradNorm: number;
      const lr = learningRate(schedule, scheduleParams, state.step);
      try {
        for (const batch of micro) {
          const result = accumulateMicroBatch(ctx, batch.map((index) => byIndex.get(index)!), rowsInStep, student.weights, accumulated);
          total += result.total;
          tokens += result.tokens;
          for (const [name, value] of Object.entries(result.terms)) terms[name] = (terms[name] ?? 0) + value;
        }
        if (!Number.isFinite(total)) {
          const cause = state.step === 0 ? nonFiniteLogits(student, ctx.teacher, micro.flat().map((index) => byIndex.get(index)!)) : undefined;
          throw new Error(`loss became ${total} at step ${state.step + 1}: ${cause ?? 'lower --lr or check the data'}`);
        }
        const clip = globalNormScale(accumulated, o.maxGradNorm);
        gradNorm = clip.norm;
        optimizer.step(accumulated, lr, clip.scale);
      } finally {
        tf.dispose([...accumulated.values()]);
      }
      state.step += 1;
      state.stepInEpoch += 1;
      lastLoss = total;
      const seconds = (performance.now() - started) / 1000;
      const line: TrainMetrics = {
        kind: 'train', step: state.step, epoch: state.epoch, lr, loss: total, loss_terms: terms, grad_norm: gradNorm,
        tokens_per_s: tokens / seconds, elapsed_s: elapsed(),
      };
      metrics.append(line);
      input.hooks.onStep?.(line);
      progress.update(state.step, `loss ${total.toFixed(4)} | lr ${lr.toExponential(2)} | ${Math.round(tokens / seconds)} tok/s`);

      const last = state.step >= totalSteps;
      const epochDone = state.stepInEpoch >= plan.length;
      if (validation.length && (last || (o.evalEvery > 0 ? state.step % o.evalEvery === 0 : epochDone))) recordValidation();
      if (last || (o.saveEvery > 0 && state.step % o.saveEvery === 0)) {
        state.elapsedS = elapsed();
        since = performance.now();
        saveCheckpoint(join(o.out, 'checkpoints', checkpointName(state.step)), student, o.student, optimizer, state);
        pruneCheckpoints(join(o.out, 'checkpoints'), o.keepCheckpoints);
      }
    }
  } finally {
    progress.stop();
  }
  const finalDir = join(o.out, 'final');
  writeDirectoryAtomic(finalDir, (temp) => saveStudent(student, o.student, temp));
  writeFileAtomic(
    join(o.out, RUN_FILE),
    `${JSON.stringify(
      {
        teacher: o.teacher, student: o.student, held_dtype: { teacher: input.held.teacher.dtype, student: input.held.student.dtype }, hold: { teacher: input.held.teacher.hold ?? null, student: input.held.student.hold ?? null }, data: o.data, loss: ctx.settings.loss.name, steps: state.step, total_steps: totalSteps,
        rows: { train: train.length, validation: validation.length, originals: train.filter((r) => r.row.kind === 'original').length, counterfactuals: train.filter((r) => r.row.kind === 'counterfactual').length },
        best: state.best ?? null, final_loss: lastLoss ?? null, settings: input.settings, session_elapsed_s: elapsed() - baseElapsed,
      },
      null,
      2,
    )}\n`,
  );
  return { out: o.out, steps: state.step, finalDir, bestDir, metricsPath: metrics.path, lastLoss };
}

