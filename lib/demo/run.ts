import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runAnalyze } from '../analyze/index.ts';
import { readAttributions } from '../corpus/index.ts';
import { distill } from '../distill/index.ts';
import { evaluate, getChecker, type EvalResult } from '../eval/index.ts';
import { loadModel } from '../models/index.ts';
import { prune, type PruneSummary } from '../pruning/index.ts';
import { buildReport, loadReportInput } from '../report/index.ts';
import { initRuntime } from '../runtime/index.ts';
import type { SynthSample } from '../synth/index.ts';
import { loadTokenizer } from '../text/index.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { detectionQuality, type DetectionQuality } from './quality.ts';
import type { DemoOptions } from './options.ts';
import { plantedAttention, type PlantedAttention } from './planted-attention.ts';
import { readSynthSplit, SHIPPED } from './paths.ts';
import { resultsMarkdown, resultsTable } from './table.ts';
import { analyzeOptions, distillOptions, EVAL_BATCH, ID_MAPPING, MAX_NEW_TOKENS, leafTerms, pruneOptions } from './stages.ts';

const SPLITS = ['train-distill', 'test', 'clean'] as const;
type Split = (typeof SPLITS)[number];

export type ModelName = 'student' | 'kd' | 'leaf' | 'teacher';

export interface ModelResult {
  name: ModelName;
  dir: string;
  test: { accuracy: number; copiesDistractor: number | null; n: number };
  clean: { accuracy: number; n: number };
  /** Share of the instruction's attention on the planted distractor (test split). */
  plantedAttention: PlantedAttention;
  /** `leaf eval`'s attention mass on the flagged spans of the analysed samples (distilled models only). */
  flaggedAttention: number | null;
}

export interface DemoResult {
  out: string;
  outputs: Record<string, string>;
  detection: DetectionQuality;
  prune: Pick<PruneSummary, 'samples_analysed' | 'spans' | 'counterfactuals_written'> & {
    /** Counterfactuals both models answer right. */
    verified: number | null;
    pass_rate: number | null;
    flip_rate: number | null;
  };
  models: ModelResult[];
  /** Wall-clock seconds per stage. */
  timings: Record<string, number>;
  /** CPU seconds of this process (user + system): the demo's cost, whatever else the machine runs. */
  cpuSeconds: number;
  settings: Omit<DemoOptions, 'progress'>;
}

/** The first n samples of each split, written under out/data so every stage reads the same files. */
function prepareData(options: DemoOptions & { corpus: string }, dir: string): Record<Split, { path: string; samples: SynthSample[] }> {
  const sizes: Record<Split, number> = { 'train-distill': options.samples, test: options.evalSamples, clean: options.evalSamples };
  const data = {} as Record<Split, { path: string; samples: SynthSample[] }>;
  for (const split of SPLITS) {
    const source = join(options.corpus, `${split}.jsonl`);
    const samples = readSynthSplit(options.corpus, split).slice(0, sizes[split]);
    if (samples.length < sizes[split]) throw new Error(`${source}: ${samples.length} samples, the demo asks for ${sizes[split]}`);
    const path = join(dir, `${split}.jsonl`);
    writeFileAtomic(path, samples.map((s) => JSON.stringify(s) + '\n').join(''));
    data[split] = { path, samples };
  }
  return data;
}

/** Copies of the distractor's number among a model's answers (the shortcut taken), from `leaf eval --details`. */
function copyRate(detailsPath: string, samples: readonly SynthSample[]): number | null {
  const numeric = getChecker('numeric');
  const byId = new Map(samples.map((s) => [s.id, s]));
  let copies = 0;
  let total = 0;
  for (const line of readFileSync(detailsPath, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const record = JSON.parse(line) as { type: string; id: string; prediction?: string };
    const sample = byId.get(record.id);
    if (record.type !== 'prediction' || !sample || sample.distractor_value === '') continue;
    total++;
    if (numeric.check(record.prediction ?? '', sample.distractor_value)) copies++;
  }
  return total ? copies / total : null;
}

type Log = (line: string) => void;

/**
 * `leaf demo`: on the shipped planted-confounder task, analyze → prune (span, verified) → distil
 * twice from the same student (plain KD on originals; LeaF on originals + counterfactuals; same
 * steps and seed) → evaluate student, KD, LeaF and teacher → report. Returns the measured results
 * (also written to out/results.json and out/results.md).
 */
export async function runDemo(input: DemoOptions, log: Log = (line) => process.stdout.write(line + '\n')): Promise<DemoResult> {
  const options = { ...input, teacher: input.teacher ?? SHIPPED.teacher, student: input.student ?? SHIPPED.student, corpus: input.corpus ?? SHIPPED.corpus };
  const cpuStart = process.cpuUsage();
  const timings: Record<string, number> = {};
  const out = options.out;
  const paths = {
    data: join(out, 'data'),
    analyze: join(out, 'analyze'),
    /** Analyses of the test and clean splits: only for the attention mass of every model on them. */
    analyzeEval: join(out, 'analyze-eval'),
    pruned: join(out, 'prune', 'pruned.arrow'),
    kd: join(out, 'distill-kd'),
    leaf: join(out, 'distill-leaf'),
    eval: join(out, 'eval'),
    report: join(out, 'report.html'),
    resultsJson: join(out, 'results.json'),
    resultsMd: join(out, 'results.md'),
  };
  for (const name of ['student', 'teacher'] as const) {
    if (!existsSync(join(options[name], 'config.json'))) throw new Error(`${options[name]}: no config.json; the demo needs the shipped ${name} (analyses/train-base.ts makes it)`);
  }
  // A demo run replaces its previous outputs (and nothing else under out).
  for (const path of [paths.data, paths.analyze, paths.analyzeEval, join(out, 'prune'), paths.kd, paths.leaf, paths.eval, paths.report, paths.resultsJson, paths.resultsMd])
    rmSync(path, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  await initRuntime({ backend: options.backend, quiet: !options.progress });

  const stage = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    log(`leaf demo: ${name} ...`);
    const started = performance.now();
    const result = await work();
    timings[name] = Math.round((performance.now() - started) / 10) / 100;
    return result;
  };
  const { teacher, student, backend } = options;
  const data = prepareData(options, paths.data);

  await stage('analyze', () => runAnalyze(analyzeOptions(options, data['train-distill'].path, paths.analyze), { command: ['demo'] }));
  const evalAttributions = { test: join(paths.analyzeEval, 'test'), clean: join(paths.analyzeEval, 'clean') };
  await stage('analyze test and clean', async () => {
    for (const split of ['test', 'clean'] as const) await runAnalyze(analyzeOptions(options, data[split].path, evalAttributions[split]), { command: ['demo'] });
  });
  const { summary } = await stage('prune', () => prune(pruneOptions(options, paths.analyze, data['train-distill'].path, paths.pruned)));
  await stage('distill KD', () => distill({ ...distillOptions(options, paths.pruned, paths.kd), kdOnly: true }));
  await stage('distill LeaF', () => distill({ ...distillOptions(options, paths.pruned, paths.leaf), ...leafTerms(options) }));

  const models: { name: ModelName; dir: string; evalDir: string }[] = [
    { name: 'student', dir: student, evalDir: join(paths.eval, 'student') },
    { name: 'kd', dir: join(paths.kd, 'final'), evalDir: paths.kd },
    { name: 'leaf', dir: join(paths.leaf, 'final'), evalDir: paths.leaf },
    { name: 'teacher', dir: teacher, evalDir: join(paths.eval, 'teacher') },
  ];
  const results = await stage('evaluate', async () => {
    const evaluated: ModelResult[] = [];
    for (const model of models) {
      mkdirSync(model.evalDir, { recursive: true });
      const run = (split: Split, file: string, extra: { attributions?: string } = {}): Promise<EvalResult> =>
        evaluate({
          model: model.dir, data: data[split].path, checker: 'numeric', maxNewTokens: MAX_NEW_TOKENS, batchSize: EVAL_BATCH, mapping: ID_MAPPING,
          out: join(model.evalDir, `${file}.json`), details: join(model.evalDir, `${file}.details.jsonl`), backend, quiet: true, ...extra,
        });
      const test = await run('test', 'eval-test', { attributions: evalAttributions.test });
      const clean = await run('clean', 'eval-clean', { attributions: evalAttributions.clean });
      const distilled = model.name === 'kd' || model.name === 'leaf';
      const train = distilled ? await run('train-distill', 'eval-train', { attributions: paths.analyze }) : undefined;
      const lm = await loadModel(model.dir);
      let planted: PlantedAttention;
      try {
        planted = plantedAttention(lm, await loadTokenizer(model.dir), data.test.samples);
      } finally {
        lm.dispose();
      }
      evaluated.push({
        name: model.name,
        dir: model.dir,
        test: { accuracy: test.accuracy!, copiesDistractor: copyRate(join(model.evalDir, 'eval-test.details.jsonl'), data.test.samples), n: test.n },
        clean: { accuracy: clean.accuracy!, n: clean.n },
        plantedAttention: planted,
        flaggedAttention: train?.attention_mass ?? null,
      });
    }
    return evaluated;
  });

  const detection = detectionQuality(await readAttributions(join(paths.analyze, 'attributions.arrow')), data['train-distill'].samples);
  const outputs: Record<string, string> = {
    attributions: join(paths.analyze, 'attributions.arrow'),
    pruned: paths.pruned,
    'prune summary': join(out, 'prune', 'summary.json'),
    'KD student': join(paths.kd, 'final'),
    'LeaF student': join(paths.leaf, 'final'),
  };
  if (options.report) {
    await stage('report', async () => {
      const input = await loadReportInput({ attributions: paths.analyze, pruned: paths.pruned, runs: [paths.kd, paths.leaf], title: 'leaf demo: planted-confounder task' });
      input.generatedAt = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      writeFileAtomic(paths.report, buildReport(input));
    });
    outputs.report = paths.report;
  }
  const cpu = process.cpuUsage(cpuStart);
  const { progress: _progress, ...settings } = options;
  const result: DemoResult = {
    out,
    outputs: { ...outputs, results: paths.resultsJson, 'results (Markdown)': paths.resultsMd },
    detection,
    prune: {
      samples_analysed: summary.samples_analysed,
      spans: summary.spans,
      counterfactuals_written: summary.counterfactuals_written,
      verified: summary.verification?.passed ?? null,
      pass_rate: summary.verification?.pass_rate ?? null,
      flip_rate: summary.verification?.flip_rate ?? null,
    },
    models: results,
    timings,
    cpuSeconds: Math.round((cpu.user + cpu.system) / 1e4) / 100,
    settings,
  };
  writeFileAtomic(paths.resultsJson, JSON.stringify(result, null, 2) + '\n');
  writeFileAtomic(paths.resultsMd, resultsMarkdown(result));
  log('');
  log(resultsTable(result));
  log('');
  for (const [name, path] of Object.entries(result.outputs)) log(`  ${name.padEnd(20)} ${path}${existsSync(path) && statSync(path).isFile() ? ` (${(statSync(path).size / 1024).toFixed(0)} KB)` : ''}`);
  return result;
}
