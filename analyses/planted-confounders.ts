/**
 * Planted-confounder benchmark: how well leaf finds distractors it did not plant itself, and what
 * LeaF buys over plain KD, on the shipped task (data/synth, data/models; see analyses/train-base.ts).
 * Writes reports/planted-confounders.json and .md.
 *
 *   npx tsx analyses/planted-confounders.ts [--seeds 3] [--samples 1000] [--eval-samples 500]
 *       [--steps 600] [--rule percentile:p=0.1] [--work DIR] [--out reports/planted-confounders]
 *
 * 1. Detection on the first --samples train-distill samples (every sample analysed): for
 *    grad-l2, grad-x-input, integrated-gradients and occlusion (`leaf analyze` each), and the
 *    baselines random / student-only gradient norm / student attention weight: token AUROC of
 *    "low Δ" for "token lies on the planted distractor", precision and recall of the flags for the
 *    threshold sweep p ∈ {0.05, 0.10, 0.15, 0.2} (percentile rule, cap 0.5), the most-flagged token
 *    and the top flagged span (lowest mean Δ) on the distractor in teacher-right/student-wrong
 *    samples, and, after `leaf prune --verify` (span mode, --rule), the top *verified* span.
 * 2. Distillation, for each seed: KD (originals only) vs LeaF (originals + span counterfactuals of
 *    the --method analysis at --rule, all of them as in the demo, and only the verified ones as in
 *    the paper) with the demo's settings; accuracy on the
 *    shortcut-broken test split and the clean control, answers that copy the distractor, and the
 *    share of attention on the planted distractor. Also LeaF on collective counterfactuals, and
 *    LeaF per threshold p (first seed only).
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runAnalyze } from '../lib/analyze/index.ts';
import { readAttributions, readPruned } from '../lib/corpus/index.ts';
import type { AttributionRow, PrunedRow } from '../lib/corpus/types.ts';
import { Prng } from '../lib/distill/data/prng.ts';
import { distill } from '../lib/distill/index.ts';
import { answerAccuracy, getChecker } from '../lib/eval/index.ts';
import { loadModel } from '../lib/models/index.ts';
import { prune } from '../lib/pruning/index.ts';
import { initRuntime, type BackendChoice } from '../lib/runtime/index.ts';
import type { SynthSample } from '../lib/synth/index.ts';
import { loadTokenizer } from '../lib/text/index.ts';
import { writeFileAtomic } from '../lib/util/atomic.ts';
import {
  analyzeOptions,
  auroc,
  demoDefaults,
  distillOptions,
  MAX_NEW_TOKENS,
  EVAL_BATCH,
  plantedAttention,
  plantedPairs,
  plantedTokenLabels,
  precisionRecall,
  pruneOptions,
  reflag,
  scoreAsDelta,
  SHIPPED,
  spanOnPlanted,
  spansByDelta,
  splitAccuracy,
  tokenAttention,
  type DemoOptions,
} from '../lib/demo/index.ts';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '3' },
    samples: { type: 'string', default: String(demoDefaults.samples) },
    'eval-samples': { type: 'string', default: '500' },
    steps: { type: 'string', default: String(demoDefaults.steps) },
    method: { type: 'string', default: demoDefaults.method },
    rule: { type: 'string', default: demoDefaults.rule },
    'ig-steps': { type: 'string', default: '16' },
    work: { type: 'string' },
    out: { type: 'string', default: 'reports/planted-confounders' },
    backend: { type: 'string', default: 'native' },
  },
});

const started = performance.now();
const SWEEP = [0.05, 0.1, 0.15, 0.2];
const METHODS = ['grad-l2', 'grad-x-input', 'integrated-gradients', 'occlusion'];
const seeds = Array.from({ length: Number(values.seeds) }, (_, i) => i);
const work = values.work ?? join(tmpdir(), `leaf-planted-${process.pid}`);
mkdirSync(work, { recursive: true });
const backend = values.backend as BackendChoice;
const runtime = await initRuntime({ backend, quiet: true });
const base: DemoOptions & { teacher: string; student: string } = {
  ...demoDefaults, teacher: SHIPPED.teacher, student: SHIPPED.student, corpus: SHIPPED.corpus, out: work,
  samples: Number(values.samples), evalSamples: Number(values['eval-samples']), steps: Number(values.steps),
  method: values.method!, rule: values.rule!, backend, progress: false,
};
/** A stage directory of this run, emptied first (a rerun with the same --work starts over). */
const fresh = (dir: string) => {
  rmSync(dir, { recursive: true, force: true });
  return dir;
};
const ruleFor = (p: number) => `percentile:p=${p},cap=0.5`;
const log = (line: string) => process.stdout.write(`[${((performance.now() - started) / 1000).toFixed(0)} s] ${line}\n`);

// ---------------------------------------------------------------------------------------------
// Data: the shipped splits, the first n samples of each, written where every stage reads them.
function readSplit(split: string, n: number): { path: string; samples: SynthSample[] } {
  const samples = readFileSync(join(SHIPPED.corpus, `${split}.jsonl`), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as SynthSample).slice(0, n);
  const path = join(work, `${split}.jsonl`);
  writeFileAtomic(path, samples.map((s) => JSON.stringify(s) + '\n').join(''));
  return { path, samples };
}
const analysis = readSplit('train-distill', base.samples);
const test = readSplit('test', base.evalSamples);
const clean = readSplit('clean', base.evalSamples);
const sampleById = new Map(analysis.samples.map((s) => [s.id, s]));

// Teacher-right / student-wrong samples: the paper's selection, where the top span is judged.
async function answers(dir: string): Promise<Map<string, boolean>> {
  const model = await loadModel(dir);
  try {
    const items = analysis.samples.map((s) => ({ id: s.id, instruction: s.instruction, input: '', answer: s.answer }));
    const predictions = answerAccuracy(model, await loadTokenizer(dir), items, getChecker('numeric'), { maxNewTokens: MAX_NEW_TOKENS, batchSize: EVAL_BATCH });
    return new Map(predictions.map((p) => [p.id, p.correct]));
  } finally {
    model.dispose();
  }
}
const teacherRight = await answers(base.teacher);
const studentRight = await answers(base.student);
const tcsw = new Set(analysis.samples.filter((s) => teacherRight.get(s.id) && !studentRight.get(s.id)).map((s) => s.id));
log(`${analysis.samples.length} analysis samples: teacher right ${[...teacherRight.values()].filter(Boolean).length}, student right ${[...studentRight.values()].filter(Boolean).length}, teacher-right/student-wrong ${tcsw.size}`);

// ---------------------------------------------------------------------------------------------
// Detection metrics of one set of rows (a method's Δ, or a baseline's score turned into a Δ).
interface SweepPoint {
  p: number;
  precision: number | null;
  recall: number | null;
  flaggedPerSample: number;
  /** Teacher-right/student-wrong samples whose top flagged span lies on the distractor (no span = miss). */
  topSpanOnDistractorTcsw: number | null;
}

interface Detection {
  tokenAuroc: number | null;
  /** Share of TCSW samples whose single lowest-Δ token lies inside the distractor. */
  topTokenOnDistractorTcsw: number | null;
  sweep: SweepPoint[];
}

function detection(rows: AttributionRow[]): Detection {
  const pairs = plantedPairs(rows, analysis.samples);
  const scores: number[] = [];
  const labels: boolean[] = [];
  let topTokenHits = 0;
  let tcswCount = 0;
  for (const { row, sample } of pairs) {
    const truth = plantedTokenLabels(row, sample.distractor_spans);
    row.delta.forEach((d, i) => {
      scores.push(-d);
      labels.push(truth[i]);
    });
    if (!tcsw.has(row.id)) continue;
    tcswCount++;
    const candidates = row.delta.map((d, i) => ({ d, i })).filter(({ i }) => row.text.slice(row.char_start[i], row.char_end[i]).trim() !== '');
    const top = candidates.reduce((best, c) => (c.d < best.d ? c : best), candidates[0]);
    if (top && truth[top.i]) topTokenHits++;
  }
  const sweep = SWEEP.map((p) => {
    const flagged = pairs.map(({ row }) => reflag(row, ruleFor(p), row.delta));
    const flags = flagged.flatMap((r) => r.flagged);
    const truth = pairs.flatMap(({ row, sample }) => plantedTokenLabels(row, sample.distractor_spans));
    const { precision, recall } = precisionRecall(flags, truth);
    let hits = 0;
    flagged.forEach((r, k) => {
      if (!tcsw.has(r.id)) return;
      const top = spansByDelta(r)[0];
      if (top && spanOnPlanted(r.text, top.span, pairs[k].sample.distractor_spans)) hits++;
    });
    return { p, precision, recall, flaggedPerSample: flags.filter(Boolean).length / Math.max(1, pairs.length), topSpanOnDistractorTcsw: tcswCount ? hits / tcswCount : null };
  });
  return { tokenAuroc: auroc(scores, labels), topTokenOnDistractorTcsw: tcswCount ? topTokenHits / tcswCount : null, sweep };
}

/** Base rate of the top-token hit: the mean share of an instruction's tokens that lie on the distractor (TCSW samples). */
function baseRate(rows: AttributionRow[]): number | null {
  const shares = plantedPairs(rows, analysis.samples)
    .filter(({ row }) => tcsw.has(row.id))
    .map(({ row, sample }) => {
      const words = row.char_start.map((s, i) => row.text.slice(s, row.char_end[i]).trim() !== '');
      const truth = plantedTokenLabels(row, sample.distractor_spans);
      return truth.filter((t, i) => t && words[i]).length / words.filter(Boolean).length;
    });
  return shares.length ? shares.reduce((a, b) => a + b, 0) / shares.length : null;
}

/** After verification: among each TCSW sample's verified span counterfactuals, the one removing the lowest-mean-Δ text. */
function verifiedTopSpan(rows: AttributionRow[], pruned: PrunedRow[]): { onDistractor: number | null; samplesWithVerified: number; tcsw: number } {
  const byId = new Map(rows.map((r) => [r.id, r]));
  const verified = new Map<string, PrunedRow[]>();
  for (const r of pruned) if (r.kind === 'counterfactual' && r.verified) verified.set(r.source_id, [...(verified.get(r.source_id) ?? []), r]);
  let withVerified = 0;
  let hits = 0;
  for (const id of tcsw) {
    const row = byId.get(id);
    const sample = sampleById.get(id)!;
    const candidates = verified.get(id) ?? [];
    if (!row || candidates.length === 0) continue;
    withVerified++;
    const meanDelta = (span: { start: number; end: number }) => {
      const tokens = row.char_start.map((s, i) => i).filter((i) => row.char_start[i] < span.end && row.char_end[i] > span.start);
      return tokens.reduce((sum, i) => sum + row.delta[i], 0) / Math.max(1, tokens.length);
    };
    const best = candidates
      .map((c) => ({ span: c.removed_spans[0], delta: meanDelta(c.removed_spans[0]) }))
      .reduce((a, b) => (b.delta < a.delta ? b : a));
    if (spanOnPlanted(sample.instruction, best.span, sample.distractor_spans)) hits++;
  }
  return { onDistractor: withVerified ? hits / withVerified : null, samplesWithVerified: withVerified, tcsw: tcsw.size };
}

// ---------------------------------------------------------------------------------------------
// 1. Detection: every method through `leaf analyze` + `leaf prune --verify`; baselines offline.
const methods: Record<string, Detection & { seconds: number; verified: ReturnType<typeof verifiedTopSpan> }> = {};
const analyses: Record<string, { dir: string; rows: AttributionRow[]; pruned: string }> = {};
for (const method of METHODS) {
  const dir = fresh(join(work, `analyze-${method}`));
  const t0 = performance.now();
  await runAnalyze({ ...analyzeOptions({ ...base, method }, analysis.path, dir), igSteps: Number(values['ig-steps']) }, { command: ['planted-confounders', method] });
  const seconds = (performance.now() - t0) / 1000;
  const rows = await readAttributions(join(dir, 'attributions.arrow'));
  const prunedPath = join(fresh(join(work, `prune-${method}`)), 'pruned.arrow');
  await prune({ ...pruneOptions(base, dir, analysis.path, prunedPath), keepUnverified: true });
  analyses[method] = { dir, rows, pruned: prunedPath };
  methods[method] = { ...detection(rows), seconds, verified: verifiedTopSpan(rows, await readPruned(prunedPath)) };
  log(`${method}: AUROC ${methods[method].tokenAuroc?.toFixed(3)}, analyze ${seconds.toFixed(1)} s`);
}

const reference = analyses['grad-l2'].rows;
const prng = Prng.fromSeed(1234);
const studentModel = await loadModel(base.student);
const studentTokenizer = await loadTokenizer(base.student);
const attentionRows = reference.map((row) => ({ ...row, delta: Array.from(scoreAsDelta(tokenAttention(studentModel, studentTokenizer, row, sampleById.get(row.id)!.output))) }));
studentModel.dispose();
const baselines: Record<string, Detection> = {
  random: detection(reference.map((row) => ({ ...row, delta: row.delta.map(() => prng.nextUint32() / 2 ** 32) }))),
  'student gradient norm': detection(reference.map((row) => ({ ...row, delta: Array.from(scoreAsDelta(row.student_score)) }))),
  'student attention weight': detection(attentionRows),
};
const topTokenBaseRate = baseRate(reference);
log('baselines done');

// ---------------------------------------------------------------------------------------------
// 2. Distillation: KD vs LeaF (span, --method/--rule; all / verified counterfactuals) over seeds; collective; threshold sweep.
interface ModelEval {
  test: number;
  clean: number;
  copiesDistractor: number | null;
  attentionOnDistractor: number | null;
}

async function evaluateModel(dir: string): Promise<ModelEval> {
  const model = await loadModel(dir);
  try {
    const tokenizer = await loadTokenizer(dir);
    const t = splitAccuracy(model, tokenizer, test.samples);
    const c = splitAccuracy(model, tokenizer, clean.samples);
    return { test: t.accuracy, clean: c.accuracy, copiesDistractor: t.copiesDistractor, attentionOnDistractor: plantedAttention(model, tokenizer, test.samples).ratio };
  } finally {
    model.dispose();
  }
}

/** Analysis + pruning (verification always runs; verifiedOnly drops what fails) of the distillation data; one analysis per method/rule. */
const analysedFor = new Map<string, string>();
async function prunedData(method: string, rule: string, mode: 'span' | 'collective', verifiedOnly = false): Promise<string> {
  const key = `${method}-${rule.replace(/[^\w.]+/g, '_')}`;
  let dir = analysedFor.get(key);
  if (!dir) {
    dir = fresh(join(work, `analyze-${key}`));
    await runAnalyze(analyzeOptions({ ...base, method, rule }, analysis.path, dir), { command: ['planted-confounders', key] });
    analysedFor.set(key, dir);
  }
  const out = join(fresh(join(work, `train-${key}-${mode}${verifiedOnly ? '-verified' : ''}`)), 'pruned.arrow');
  await prune(pruneOptions({ ...base, verifiedOnly }, dir, analysis.path, out, mode));
  return out;
}

async function distilled(data: string, seed: number, kdOnly: boolean, name: string): Promise<ModelEval> {
  const out = fresh(join(work, `distill-${name}-seed${seed}`));
  await distill({ ...distillOptions({ ...base, seed }, data, out), kdOnly });
  return evaluateModel(join(out, 'final'));
}

const spanData = await prunedData(base.method, base.rule, 'span');
const collectiveData = await prunedData(base.method, base.rule, 'collective');
// The paper's filter: only counterfactuals both models answer right (the demo trains on all of them).
const verifiedData = await prunedData(base.method, base.rule, 'span', true);
const counts = async (path: string) => {
  const rows = await readPruned(path);
  return { originals: rows.filter((r) => r.kind === 'original').length, counterfactuals: rows.filter((r) => r.kind === 'counterfactual').length };
};
/** What verification keeps: counterfactuals that remove the distractor vs those that remove other text. */
async function verificationMix(path: string) {
  const tally = { removesDistractor: { n: 0, verified: 0 }, removesOther: { n: 0, verified: 0 } };
  for (const row of await readPruned(path)) {
    if (row.kind !== 'counterfactual') continue;
    const sample = sampleById.get(row.source_id)!;
    const group = row.removed_spans.some((span) => spanOnPlanted(sample.instruction, span, sample.distractor_spans)) ? tally.removesDistractor : tally.removesOther;
    group.n++;
    if (row.verified) group.verified++;
  }
  return tally;
}
const runs: Record<'kd' | 'leaf' | 'collective' | 'verified', ModelEval[]> = { kd: [], leaf: [], collective: [], verified: [] };
for (const seed of seeds) {
  runs.kd.push(await distilled(spanData, seed, true, 'kd'));
  runs.leaf.push(await distilled(spanData, seed, false, 'leaf'));
  runs.collective.push(await distilled(collectiveData, seed, false, 'collective'));
  runs.verified.push(await distilled(verifiedData, seed, false, 'verified'));
  log(
    `seed ${seed}: KD test ${runs.kd.at(-1)!.test.toFixed(3)}, LeaF test ${runs.leaf.at(-1)!.test.toFixed(3)}, ` +
      `collective ${runs.collective.at(-1)!.test.toFixed(3)}, verified only ${runs.verified.at(-1)!.test.toFixed(3)}`,
  );
}
const sweepRuns: { p: number; counterfactuals: number; leaf: ModelEval }[] = [];
for (const p of SWEEP) {
  const data = await prunedData(base.method, ruleFor(p), 'span');
  sweepRuns.push({ p, counterfactuals: (await counts(data)).counterfactuals, leaf: await distilled(data, seeds[0], false, `sweep-p${p}`) });
  log(`sweep p=${p}: LeaF test ${sweepRuns.at(-1)!.leaf.test.toFixed(3)}`);
}
const reference_models = { student: await evaluateModel(base.student), teacher: await evaluateModel(base.teacher) };

// ---------------------------------------------------------------------------------------------
// Report.
const stats = (xs: (number | null)[]) => {
  const v = xs.filter((x): x is number => x !== null);
  if (v.length === 0) return { mean: null, std: null, n: 0 };
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const std = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1)) : 0;
  return { mean, std, n: v.length };
};
const summarise = (evals: ModelEval[]) => ({
  test: stats(evals.map((e) => e.test)),
  clean: stats(evals.map((e) => e.clean)),
  copiesDistractor: stats(evals.map((e) => e.copiesDistractor)),
  attentionOnDistractor: stats(evals.map((e) => e.attentionOnDistractor)),
  perSeed: evals,
});
// --work only says where intermediate files go: it is left out of the command that regenerates the results.
const args = process.argv.slice(2).filter((arg, i, all) => arg !== '--work' && all[i - 1] !== '--work' && !arg.startsWith('--work='));
const command = `npx tsx analyses/planted-confounders.ts ${args.join(' ')}`.trim();
const result = {
  command,
  created: new Date().toISOString(),
  backend: runtime.backend,
  elapsed_s: Math.round((performance.now() - started) / 1000),
  settings: { samples: base.samples, evalSamples: base.evalSamples, seeds, steps: base.steps, batchSize: base.batchSize, lr: base.lr, method: base.method, rule: base.rule, igSteps: Number(values['ig-steps']), sweep: SWEEP },
  selection: { samples: analysis.samples.length, teacherRight: [...teacherRight.values()].filter(Boolean).length, studentRight: [...studentRight.values()].filter(Boolean).length, teacherRightStudentWrong: tcsw.size },
  detection: { methods, baselines, topTokenBaseRate },
  distillation: {
    data: { span: await counts(spanData), collective: await counts(collectiveData), verified: await counts(verifiedData) },
    verification: await verificationMix(spanData),
    kd: summarise(runs.kd),
    leaf: summarise(runs.leaf),
    collective: summarise(runs.collective),
    verified: summarise(runs.verified),
    sweep: sweepRuns,
    reference: reference_models,
  },
};
writeFileAtomic(`${values.out}.json`, JSON.stringify(result, null, 2) + '\n');
writeFileAtomic(`${values.out}.md`, markdown(result));
log(`wrote ${values.out}.json and ${values.out}.md`);

function share(group: { n: number; verified: number }): number | null {
  return group.n ? group.verified / group.n : null;
}

/** Each target of issue 7 with the measured value; met = null when it cannot be measured. */
function targets(r: typeof result): [string, string, boolean | null][] {
  const pct = (x: number | null | undefined) => (x === null || x === undefined ? 'n/a' : `${(100 * x).toFixed(1)} %`);
  const methods = Object.entries(r.detection.methods);
  const bestBy = (value: (d: (typeof methods)[number][1]) => number | null) =>
    methods.reduce<[string, number | null]>((best, [name, d]) => ((value(d) ?? -1) > (best[1] ?? -1) ? [name, value(d)] : best), ['', null]);
  const [aurocName, auroc] = bestBy((d) => d.tokenAuroc);
  const [spanName, span] = bestBy((d) => d.verified.onDistractor);
  const spanSamples = r.detection.methods[spanName]?.verified;
  const paper = r.detection.methods['grad-l2'];
  const paperTop = paper?.sweep.find((s) => s.p === 0.05);
  const d = r.distillation;
  const gain = d.leaf.test.mean !== null && d.kd.test.mean !== null ? d.leaf.test.mean - d.kd.test.mean : null;
  const attention = d.leaf.attentionOnDistractor.mean !== null && d.kd.attentionOnDistractor.mean ? 1 - d.leaf.attentionOnDistractor.mean / d.kd.attentionOnDistractor.mean : null;
  const cleanGap = d.leaf.clean.mean !== null && d.kd.clean.mean !== null ? d.leaf.clean.mean - d.kd.clean.mean : null;
  return [
    [
      'top flagged span on the distractor in ≥ 90 % of TCSW samples after verification',
      `${pct(span)} with ${spanName} (${spanSamples?.samplesWithVerified ?? 0} of ${spanSamples?.tcsw ?? 0} TCSW samples keep a verified counterfactual); before verification, grad-l2 at p = 0.05 (the paper's raw rule): top span ${pct(paperTop?.topSpanOnDistractorTcsw)}, top token ${pct(paper?.topTokenOnDistractorTcsw)} (paper: ≈ 62 %, base rate here ${pct(r.detection.topTokenBaseRate)})`,
      span === null ? null : span >= 0.9,
    ],
    ['token AUROC ≥ 0.85 for the best method', `${auroc?.toFixed(3) ?? 'n/a'} (${aurocName}); grad-l2 (the paper's) ${paper?.tokenAuroc?.toFixed(3) ?? 'n/a'}`, auroc === null ? null : auroc >= 0.85],
    ['LeaF ≥ KD + 5 points on the shortcut-broken test split', gain === null ? 'n/a' : `${(100 * gain).toFixed(1)} points (mean over ${d.leaf.test.n} seeds)`, gain === null ? null : gain >= 0.05],
    ['attention mass on distractors ≥ 30 % lower for LeaF than KD', attention === null ? 'n/a' : `${(100 * attention).toFixed(1)} % lower`, attention === null ? null : attention >= 0.3],
    ['no loss on the clean control', cleanGap === null ? 'n/a' : `LeaF − KD = ${(100 * cleanGap).toFixed(1)} points`, cleanGap === null ? null : cleanGap >= 0],
  ];
}

function markdown(r: typeof result): string {
  const f = (x: number | null | undefined, d = 3) => (x === null || x === undefined ? 'n/a' : x.toFixed(d));
  const pct = (x: number | null | undefined) => (x === null || x === undefined ? 'n/a' : `${(100 * x).toFixed(1)} %`);
  const ms = (s: { mean: number | null; std: number | null }) => (s.mean === null ? 'n/a' : `${(100 * s.mean).toFixed(1)} ± ${(100 * (s.std ?? 0)).toFixed(1)}`);
  const chosenP = Number(/p=([\d.]+)/.exec(r.settings.rule)?.[1] ?? NaN);
  const at = (d: Detection) => d.sweep.find((s) => s.p === chosenP);
  const detectionRows = [
    ...Object.entries(r.detection.methods).map(([name, d]) => [name, d]),
    ...Object.entries(r.detection.baselines).map(([name, d]) => [`baseline: ${name}`, d]),
  ] as [string, Detection & { verified?: ReturnType<typeof verifiedTopSpan> }][];
  const d = r.distillation;
  return [
    '# Planted-confounder benchmark',
    '',
    `Regenerate: \`${r.command}\` (${r.elapsed_s} s on this machine, backend ${r.backend}).`,
    `Models and data: the shipped \`data/models/{teacher,student}\` and \`data/synth\` (made by \`analyses/train-base.ts\`).`,
    '',
    `Analysis set: the first ${r.selection.samples} \`train-distill\` samples (distractor shows the answer 90 % of the time).`,
    `Teacher right on ${r.selection.teacherRight}, student right on ${r.selection.studentRight}; teacher-right/student-wrong (TCSW): ${r.selection.teacherRightStudentWrong}.`,
    '',
    '## Detection against the planted spans',
    '',
    `Token AUROC: score −Δ (low Δ = confounder) against "the token lies on the planted distractor", pooled over the analysed instruction tokens of every sample with a distractor. `
      + `Precision/recall at the chosen rule (${r.settings.rule}, cap 0.5). Top token / top span: share of TCSW samples whose lowest-Δ token / lowest-mean-Δ flagged span lies on the distractor `
      + `(a sample without a flagged span counts as a miss); base rate of the top token = mean share of a TCSW instruction's tokens on the distractor = ${pct(r.detection.topTokenBaseRate)}. `
      + `"After verification": among the TCSW samples that keep ≥ 1 verified span counterfactual (both models right on it), the kept counterfactual with the lowest mean Δ removes the distractor.`,
    '',
    '| detector | token AUROC | precision | recall | top token on distractor (TCSW) | top span on distractor (TCSW) | top verified span on distractor | analyse time |',
    '|---|---|---|---|---|---|---|---|',
    ...detectionRows.map(([name, det]) => {
      const s = at(det);
      const v = det.verified;
      return `| ${name} | ${f(det.tokenAuroc)} | ${pct(s?.precision)} | ${pct(s?.recall)} | ${pct(det.topTokenOnDistractorTcsw)} | ${pct(s?.topSpanOnDistractorTcsw)} | ${v ? `${pct(v.onDistractor)} (${v.samplesWithVerified} of ${v.tcsw})` : '—'} | ${'seconds' in det ? `${f((det as { seconds: number }).seconds, 1)} s` : '—'} |`;
    }),
    '',
    'Baselines use the same percentile rule on 1 − min-max(score) (higher score = more confounder-like). Baselines are not verified (no pruning run).',
    '',
    '### Threshold sweep (percentile rule, cap 0.5)',
    '',
    `| detector | ${SWEEP.map((p) => `p = ${p}: P / R / flagged per sample / top span (TCSW)`).join(' | ')} |`,
    `|---|${SWEEP.map(() => '---').join('|')}|`,
    ...detectionRows.map(([name, det]) => `| ${name} | ${det.sweep.map((s) => `${pct(s.precision)} / ${pct(s.recall)} / ${f(s.flaggedPerSample, 2)} / ${pct(s.topSpanOnDistractorTcsw)}`).join(' | ')} |`),
    '',
    '## KD vs LeaF',
    '',
    `Both distil the shipped teacher into the same shipped student on the same ${r.selection.samples} samples, ${r.settings.steps} steps of ${r.settings.batchSize} rows, lr ${r.settings.lr}, cosine, forward KL, vocabulary intersection; seeds ${r.settings.seeds.join(', ')} (mean ± sample std over seeds, in %). `
      + `KD: the ${d.data.span.originals} originals only. LeaF (span): originals + all ${d.data.span.counterfactuals} span counterfactuals of ${r.settings.method} at ${r.settings.rule} (λ = 0.5; the demo's default). `
      + `LeaF (span, verified only): originals + the ${d.data.verified.counterfactuals} of them both models answer right (the paper's filter). `
      + `Collective: originals + all ${d.data.collective.counterfactuals} collective counterfactuals. Test = shortcut broken (distractor always wrong, ${r.settings.evalSamples} samples); clean = no distractor (control). `
      + `Attention on distractor = share of the instruction's attention (response positions, mean over layers and heads) on the planted distractor, test split.`,
    '',
    '| model | test accuracy | clean accuracy | answers copying the distractor (test) | attention on distractor |',
    '|---|---|---|---|---|',
    `| student before distillation | ${pct(d.reference.student.test)} | ${pct(d.reference.student.clean)} | ${pct(d.reference.student.copiesDistractor)} | ${pct(d.reference.student.attentionOnDistractor)} |`,
    `| KD | ${ms(d.kd.test)} | ${ms(d.kd.clean)} | ${ms(d.kd.copiesDistractor)} | ${ms(d.kd.attentionOnDistractor)} |`,
    `| LeaF (span) | ${ms(d.leaf.test)} | ${ms(d.leaf.clean)} | ${ms(d.leaf.copiesDistractor)} | ${ms(d.leaf.attentionOnDistractor)} |`,
    `| LeaF (collective) | ${ms(d.collective.test)} | ${ms(d.collective.clean)} | ${ms(d.collective.copiesDistractor)} | ${ms(d.collective.attentionOnDistractor)} |`,
    `| LeaF (span, verified only) | ${ms(d.verified.test)} | ${ms(d.verified.clean)} | ${ms(d.verified.copiesDistractor)} | ${ms(d.verified.attentionOnDistractor)} |`,
    `| teacher | ${pct(d.reference.teacher.test)} | ${pct(d.reference.teacher.clean)} | ${pct(d.reference.teacher.copiesDistractor)} | ${pct(d.reference.teacher.attentionOnDistractor)} |`,
    '',
    `LeaF − KD on the test split: ${d.leaf.test.mean !== null && d.kd.test.mean !== null ? `${(100 * (d.leaf.test.mean - d.kd.test.mean)).toFixed(1)} points` : 'n/a'}; `
      + `attention on the distractor, LeaF relative to KD: ${d.leaf.attentionOnDistractor.mean !== null && d.kd.attentionOnDistractor.mean ? `${(100 * (d.leaf.attentionOnDistractor.mean / d.kd.attentionOnDistractor.mean - 1)).toFixed(1)} %` : 'n/a'}.`,
    '',
    `Verification (both models right on the counterfactual) kept ${pct(share(d.verification.removesDistractor))} of the ${d.verification.removesDistractor.n} span counterfactuals that remove the distractor `
      + `and ${pct(share(d.verification.removesOther))} of the ${d.verification.removesOther.n} that remove other text` +
      ((share(d.verification.removesDistractor) ?? 0) < (share(d.verification.removesOther) ?? 0)
        ? ': the shortcut student answers right when the distractor is still there (it shows the answer 90 % of the time) and mostly wrong without it, so the filter keeps the counterfactuals that do not teach the rule.'
        : '.'),
    '',
    `### LeaF per threshold (span, all counterfactuals; seed ${r.settings.seeds[0]} only)`,
    '',
    '| p | counterfactuals | test accuracy | clean accuracy | attention on distractor |',
    '|---|---|---|---|---|',
    ...d.sweep.map((s) => `| ${s.p} | ${s.counterfactuals} | ${pct(s.leaf.test)} | ${pct(s.leaf.clean)} | ${pct(s.leaf.attentionOnDistractor)} |`),
    '',
    '## Targets of the issue, as measured',
    '',
    '| target | measured | met |',
    '|---|---|---|',
    ...targets(r).map(([target, measured, met]) => `| ${target} | ${measured} | ${met === null ? 'n/a' : met ? 'yes' : 'no'} |`),
    '',
    '## Notes',
    '',
    '- Generation reads one new token: answers are one digit, one token for both tokenizers. The teacher closes its turn with `<|im_end|>`, the student with `<eos>`; '
      + '`leaf distill` cannot pair those, so it does not supervise the student\'s end-of-turn token, and distilled students stop ending their turn (while this benchmark '
      + 'was built, 250 of 500 test answers of a 600-step KD student with 4 new tokens ran on, e.g. "4 5"), which a last-number checker would score by the run-on digit.',
    '- Precision/recall of the baselines use the same percentile rule with its cap 0.5 on 1 − min-max(score), so a baseline whose score has one dominant token flags one token per sample.',
    '- Seeds change the distillation batch order; the base models, analysis and counterfactuals are the same for every seed.',
    '',
  ].join('\n');
}
