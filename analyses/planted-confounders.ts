/**
 * Planted-confounder benchmark over every task family of lib/synth: does the detector find the
 * distractor it did not plant, and does LeaF move the student off it — the paper's configuration
 * beside leaf's defaults. Writes reports/planted-confounders/<family>.json per family and
 * reports/planted-confounders.md (+ .json) over all of them.
 *
 *   npx tsx analyses/planted-confounders.ts            (every family, 3 seeds; one command)
 *   npx tsx analyses/planted-confounders.ts --families far --seeds 3 [--samples 1000] [--eval-samples 500]
 *       [--steps 600] [--work DIR] [--render-only]
 *
 * Models and data per family: data/ for `shipped`, data/families/<name>/ for the others (made by
 * `analyses/train-base.ts --family NAME`; same layout: models/{teacher,student}, synth/).
 *
 * 1. Detection on the first --samples train-distill samples: the paper's pipeline (grad-l2, rule
 *    percentile:p=0.05,cap=0.5) and the default (contrastive, same rule), each through
 *    `leaf analyze`; a random baseline. Token AUROC of "low Δ" for "token on a planted distractor";
 *    top flagged span on a distractor over all samples and over teacher-right/student-wrong (TCSW)
 *    samples; analyse time of both in the same run (ratio) and passes per sample.
 * 2. Distillation per seed: KD (originals only) and the LeaF configurations of LEAF_RUNS: as in the
 *    paper (grad-l2 span counterfactuals, plain KL), with leaf's defaults (contrastive span
 *    counterfactuals + the focus and consistency terms of `leaf demo`), an option and ablations of
 *    the default. Accuracy on the shortcut-broken test split and the clean control, answers copying
 *    the distractor, attention share on the distractor (test split).
 */
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runAnalyze } from '../lib/analyze/index.ts';
import type { SpanCut } from '../lib/confounders/index.ts';
import { readAttributions } from '../lib/corpus/index.ts';
import type { AttributionRow } from '../lib/corpus/types.ts';
import { Prng } from '../lib/distill/data/prng.ts';
import { distill } from '../lib/distill/index.ts';
import { answerAccuracy, getChecker } from '../lib/eval/index.ts';
import { loadModel } from '../lib/models/index.ts';
import { prune } from '../lib/pruning/index.ts';
import { initRuntime, type BackendChoice } from '../lib/runtime/index.ts';
import { getFamily, listFamilies } from '../lib/synth/index.ts';
import { loadTokenizer } from '../lib/text/index.ts';
import { writeFileAtomic } from '../lib/util/atomic.ts';
import {
  analyzeOptions,
  auroc,
  demoDefaults,
  distillOptions,
  EVAL_BATCH,
  familyData,
  leafTerms,
  MAX_NEW_TOKENS,
  plantedAttention,
  plantedPairs,
  plantedTokenLabels,
  pruneOptions,
  readSynthSplit,
  reflag,
  spanOnPlanted,
  spansByDelta,
  splitAccuracy,
  type DemoOptions,
} from '../lib/demo/index.ts';

const { values } = parseArgs({
  options: {
    families: { type: 'string', default: listFamilies().map((f) => f.name).join(',') },
    seeds: { type: 'string', default: '3' },
    samples: { type: 'string', default: String(demoDefaults.samples) },
    'eval-samples': { type: 'string', default: '500' },
    steps: { type: 'string', default: String(demoDefaults.steps) },
    work: { type: 'string' },
    out: { type: 'string', default: 'reports/planted-confounders' },
    backend: { type: 'string', default: 'native' },
    'render-only': { type: 'boolean', default: false },
  },
});

/** The paper's detection pipeline, and the default of `leaf analyze` / `leaf demo`. */
const PAPER = { method: 'grad-l2', rule: 'percentile:p=0.05,cap=0.5' };
const DEFAULT = { method: demoDefaults.method, rule: demoDefaults.rule };
/** Each detector's analysis runs this many times, alternating with the other; its fastest run is the time reported. */
const TIMING_ROUNDS = 3;
/** The default's LeaF terms (`leaf demo`'s). */
const DEFAULT_TERMS = leafTerms(demoDefaults);
/**
 * LeaF configurations distilled beside KD on the same steps and seeds. `data`: whose detector's
 * counterfactuals it trains on; `role`: what the targets table says of it.
 */
const LEAF_RUNS = [
  { key: 'paper', label: 'LeaF (paper)', data: 'paper', role: 'paper', terms: { focusLoss: 0, consistencyLoss: 0 },
    about: "originals + all span counterfactuals of the paper's detector (λ = 0.5, plain KL)" },
  { key: 'default', label: 'LeaF (default)', data: 'default', role: 'default', terms: DEFAULT_TERMS,
    about: `originals + all span counterfactuals of the default detector, the focus term (--focus-loss ${DEFAULT_TERMS.focusLoss}, --attention-layers ${DEFAULT_TERMS.attentionLayers}, --focus-target ${DEFAULT_TERMS.focusTarget}: the student's attention share on the flagged spans pulled toward ${DEFAULT_TERMS.focusTarget === 'zero' ? '0' : "the teacher's"}) and the consistency term (--consistency-loss ${DEFAULT_TERMS.consistencyLoss} --consistency-pull ${DEFAULT_TERMS.consistencyPull}: the student's outputs on each original and with every flagged span removed pulled toward each other)` },
  { key: 'teacherTarget', label: "LeaF (focus toward the teacher's share)", data: 'default', role: 'option --focus-target teacher', terms: { ...DEFAULT_TERMS, focusTarget: 'teacher' },
    about: "the default with the attention share pulled toward the teacher's share on the same spans" },
  { key: 'noConsistency', label: 'LeaF (no consistency term)', data: 'default', role: 'ablation --consistency-loss 0', terms: { ...DEFAULT_TERMS, consistencyLoss: 0 },
    about: 'the default without the consistency term' },
  { key: 'noFocus', label: 'LeaF (no focus term)', data: 'default', role: 'ablation --focus-loss 0', terms: { ...DEFAULT_TERMS, focusLoss: 0 },
    about: 'the default without the focus term' },
  { key: 'pullCounterfactual', label: 'LeaF (consistency toward the counterfactual only)', data: 'default', role: 'option --consistency-pull counterfactual', terms: { ...DEFAULT_TERMS, consistencyPull: 'counterfactual' },
    about: "the default with the consistency term pulling only the original's output toward the counterfactual's (the default until the seventh session)" },
] as const;
type LeafRunKey = (typeof LEAF_RUNS)[number]['key'];
/** Passes per sample and model (forward-equivalents: a backward ≈ 2 forwards). */
const PASSES: Record<string, string> = {
  'grad-l2': '1 forward + 1 backward (≈ 3 forward-equivalents)',
  contrastive: 'student: 1 forward + 1 backward (its forward of the sample too); teacher: 1 forward of the sample; each model: ≤ 10 shortened samples (≤ 3 candidates + ≤ 4 with a repeated word\'s copies removed all but one + ≤ 3 redundancy checks, a removal that two rounds share measured once), each computed from its first token that differs from the sample; the teacher skips those that cannot raise a score',
};

const started = performance.now();
const log = (line: string) => process.stdout.write(`[${((performance.now() - started) / 1000).toFixed(0)} s] ${line}\n`);
const families = values.families!.split(',').map((name) => getFamily(name).name);
const partsDir = values.out!;
mkdirSync(partsDir, { recursive: true });
// Where a run keeps its scratch files and parts is not part of the command that reproduces it.
const placeFlags = ['--work', '--out'];
const args = process.argv.slice(2).filter((arg, i, all) => !placeFlags.includes(arg) && !placeFlags.includes(all[i - 1]) && !placeFlags.some((f) => arg.startsWith(`${f}=`)) && arg !== '--render-only');

if (!values['render-only']) {
  const runtime = await initRuntime({ backend: values.backend as BackendChoice, quiet: true });
  for (const family of families) {
    const result = await runFamily(family, runtime.backend);
    writeFileAtomic(join(partsDir, `${family}.json`), JSON.stringify(result, null, 2) + '\n');
    log(`${family}: wrote ${join(partsDir, `${family}.json`)}`);
  }
}
render();

type Stats = { mean: number | null; std: number | null; n: number };
function stats(xs: (number | null)[]): Stats {
  const v = xs.filter((x): x is number => x !== null);
  if (v.length === 0) return { mean: null, std: null, n: 0 };
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const std = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1)) : 0;
  return { mean, std, n: v.length };
}

interface ModelEval {
  test: number;
  clean: number;
  copiesDistractor: number | null;
  attentionOnDistractor: number | null;
}

async function runFamily(family: string, backend: string) {
  const { teacher, student, corpus } = familyData(family);
  const work = join(values.work ?? join(tmpdir(), `leaf-planted-${process.pid}`), family);
  mkdirSync(work, { recursive: true });
  const fresh = (dir: string) => (rmSync(dir, { recursive: true, force: true }), dir);
  const base: DemoOptions & { teacher: string; student: string } = {
    ...demoDefaults, teacher, student, corpus, out: work,
    samples: Number(values.samples), evalSamples: Number(values['eval-samples']), steps: Number(values.steps), backend: values.backend as BackendChoice, progress: false,
  };
  const readSplit = (split: string, n: number) => {
    const samples = readSynthSplit(corpus, split).slice(0, n);
    const path = join(work, `${split}.jsonl`);
    writeFileAtomic(path, samples.map((s) => JSON.stringify(s) + '\n').join(''));
    return { path, samples };
  };
  const analysis = readSplit('train-distill', base.samples);
  const test = readSplit('test', base.evalSamples);
  const clean = readSplit('clean', base.evalSamples);

  const answers = async (dir: string) => {
    const model = await loadModel(dir);
    try {
      const items = analysis.samples.map((s) => ({ id: s.id, instruction: s.instruction, input: '', answer: s.answer }));
      return new Map(answerAccuracy(model, await loadTokenizer(dir), items, getChecker('numeric'), { maxNewTokens: MAX_NEW_TOKENS, batchSize: EVAL_BATCH }).map((p) => [p.id, p.correct]));
    } finally {
      model.dispose();
    }
  };
  const teacherRight = await answers(base.teacher);
  const studentRight = await answers(base.student);
  const tcsw = new Set(analysis.samples.filter((s) => teacherRight.get(s.id) && !studentRight.get(s.id)).map((s) => s.id));
  log(`${family}: ${analysis.samples.length} samples, teacher right ${[...teacherRight.values()].filter(Boolean).length}, student right ${[...studentRight.values()].filter(Boolean).length}, TCSW ${tcsw.size}`);

  // spanCut: the analysis's own (its manifest's), so re-flagging rebuilds the spans it wrote.
  const detection = (rows: AttributionRow[], rule: string, spanCut: SpanCut) => {
    const pairs = plantedPairs(rows, analysis.samples);
    const scores: number[] = [];
    const labels: boolean[] = [];
    let hits = 0;
    let tcswHits = 0;
    let flagged = 0;
    for (const { row: raw, sample } of pairs) {
      const row = reflag(raw, rule, { spanCut });
      const truth = plantedTokenLabels(row, sample.distractor_spans);
      row.delta.forEach((d, i) => {
        scores.push(-d);
        labels.push(truth[i]);
      });
      flagged += row.flagged.filter(Boolean).length;
      const top = spansByDelta(row)[0];
      const hit = top !== undefined && spanOnPlanted(row.text, top.span, sample.distractor_spans);
      if (hit) hits++;
      if (hit && tcsw.has(row.id)) tcswHits++;
    }
    return {
      tokenAuroc: auroc(scores, labels),
      topSpanOnDistractor: pairs.length ? hits / pairs.length : null,
      topSpanOnDistractorTcsw: tcsw.size ? tcswHits / tcsw.size : null,
      flaggedPerSample: pairs.length ? flagged / pairs.length : 0,
      samples: pairs.length,
    };
  };

  // 1. Detection: the paper's pipeline and the default, timed in the same run, alternating, each
  // TIMING_ROUNDS times; the fastest round of each counts (other jobs on a shared machine only add time).
  const analysed: Record<string, { dir: string; rows: AttributionRow[]; spanCut: SpanCut }> = {};
  const timing = { paper: { seconds: Infinity, cpuSeconds: Infinity }, default: { seconds: Infinity, cpuSeconds: Infinity } };
  for (let round = 0; round < TIMING_ROUNDS; round++)
    for (const [name, { method, rule }] of [['paper', PAPER], ['default', DEFAULT]] as const) {
      const dir = fresh(join(work, `analyze-${name}`));
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      const { manifest } = await runAnalyze(analyzeOptions({ ...base, method, rule }, analysis.path, dir), { command: ['planted-confounders', family, name] });
      const cpu = process.cpuUsage(cpu0);
      timing[name].seconds = Math.min(timing[name].seconds, (performance.now() - t0) / 1000);
      timing[name].cpuSeconds = Math.min(timing[name].cpuSeconds, (cpu.user + cpu.system) / 1e6);
      analysed[name] = { dir, rows: await readAttributions(join(dir, 'attributions.arrow')), spanCut: manifest.options.spanCut as SpanCut };
    }
  const detectors = {} as Record<'paper' | 'default', ReturnType<typeof detection> & { method: string; rule: string; seconds: number; cpuSeconds: number; passes: string }>;
  for (const [name, { method, rule }] of [['paper', PAPER], ['default', DEFAULT]] as const) {
    detectors[name] = { ...detection(analysed[name].rows, rule, analysed[name].spanCut), method, rule, ...timing[name], passes: PASSES[method] ?? '' };
    log(`${family} ${name} (${method}): AUROC ${detectors[name].tokenAuroc?.toFixed(3)}, top span ${detectors[name].topSpanOnDistractor?.toFixed(3)}, ${timing[name].seconds.toFixed(1)} s (CPU ${timing[name].cpuSeconds.toFixed(1)} s)`);
  }
  const prng = Prng.fromSeed(1234);
  const random = detection(analysed.paper.rows.map((row) => ({ ...row, delta: row.delta.map(() => prng.nextUint32() / 2 ** 32) })), PAPER.rule, analysed.paper.spanCut);

  // 2. Distillation.
  const evaluate = async (dir: string): Promise<ModelEval> => {
    const model = await loadModel(dir);
    try {
      const tokenizer = await loadTokenizer(dir);
      const t = splitAccuracy(model, tokenizer, test.samples);
      const c = splitAccuracy(model, tokenizer, clean.samples);
      return { test: t.accuracy, clean: c.accuracy, copiesDistractor: t.copiesDistractor, attentionOnDistractor: plantedAttention(model, tokenizer, test.samples).ratio };
    } finally {
      model.dispose();
    }
  };
  const prunedFor = async (name: string) => {
    const out = join(fresh(join(work, `prune-${name}`)), 'pruned.arrow');
    await prune(pruneOptions(base, analysed[name].dir, analysis.path, out));
    return out;
  };
  const data = { paper: await prunedFor('paper'), default: await prunedFor('default') };
  const runs = Object.fromEntries(['kd', ...LEAF_RUNS.map((r) => r.key)].map((key) => [key, [] as ModelEval[]])) as Record<'kd' | LeafRunKey, ModelEval[]>;
  const seeds = Array.from({ length: Number(values.seeds) }, (_, i) => i);
  for (const seed of seeds) {
    const run = async (name: keyof typeof runs, path: string, extra: Record<string, unknown>) => {
      const out = fresh(join(work, `distill-${name}-seed${seed}`));
      await distill({ ...distillOptions({ ...base, seed }, path, out), ...extra });
      runs[name].push(await evaluate(join(out, 'final')));
    };
    await run('kd', data.paper, { kdOnly: true, focusLoss: 0 });
    for (const config of LEAF_RUNS) await run(config.key, data[config.data], { ...config.terms });
    log(`${family} seed ${seed}: test accuracy KD ${runs.kd.at(-1)!.test.toFixed(3)}, ${LEAF_RUNS.map((c) => `${c.label} ${runs[c.key].at(-1)!.test.toFixed(3)}`).join(', ')}`);
  }
  const summarise = (evals: ModelEval[]) => ({
    test: stats(evals.map((e) => e.test)),
    clean: stats(evals.map((e) => e.clean)),
    copiesDistractor: stats(evals.map((e) => e.copiesDistractor)),
    attentionOnDistractor: stats(evals.map((e) => e.attentionOnDistractor)),
    perSeed: evals,
  });
  const reference = { student: await evaluate(base.student), teacher: await evaluate(base.teacher) };
  return {
    family,
    description: getFamily(family).description,
    command: `npx tsx analyses/planted-confounders.ts ${args.join(' ')}`.trim(),
    created: new Date().toISOString(),
    backend,
    elapsed_s: Math.round((performance.now() - started) / 1000),
    settings: { samples: base.samples, evalSamples: base.evalSamples, seeds, steps: base.steps, batchSize: base.batchSize, lr: base.lr, leafRuns: LEAF_RUNS },
    selection: { samples: analysis.samples.length, teacherRight: [...teacherRight.values()].filter(Boolean).length, studentRight: [...studentRight.values()].filter(Boolean).length, teacherRightStudentWrong: tcsw.size },
    detection: { ...detectors, random },
    distillation: { ...(Object.fromEntries(Object.entries(runs).map(([key, evals]) => [key, summarise(evals)])) as Record<'kd' | LeafRunKey, ReturnType<typeof summarise>>), reference },
  };
}

type FamilyResult = Awaited<ReturnType<typeof runFamily>>;

function render(): void {
  const order = listFamilies().map((f) => f.name);
  const parts: FamilyResult[] = readdirSync(partsDir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(partsDir, f), 'utf8')) as FamilyResult)
    .sort((a, b) => order.indexOf(a.family) - order.indexOf(b.family));
  if (parts.length === 0) throw new Error(`${partsDir}: no family results to render`);
  writeFileAtomic(`${partsDir}.json`, JSON.stringify({ families: parts }, null, 2) + '\n');
  writeFileAtomic(`${partsDir}.md`, markdown(parts));
  log(`wrote ${partsDir}.md and ${partsDir}.json (${parts.map((p) => p.family).join(', ')})`);
}

function markdown(parts: FamilyResult[]): string {
  const f3 = (x: number | null | undefined) => (x === null || x === undefined ? 'n/a' : x.toFixed(3));
  const pct = (x: number | null | undefined) => (x === null || x === undefined ? 'n/a' : `${(100 * x).toFixed(1)} %`);
  const ms = (s: Stats) => (s.mean === null ? 'n/a' : `${(100 * s.mean).toFixed(1)} ± ${(100 * (s.std ?? 0)).toFixed(1)}`);
  const meanPct = (s: Stats) => (s.mean === null ? 'n/a' : `${(100 * s.mean).toFixed(1)} %`);
  const copyAndAttention = (s: { copiesDistractor: Stats; attentionOnDistractor: Stats }) => `${meanPct(s.copiesDistractor)} / ${meanPct(s.attentionOnDistractor)}`;
  const missesOn = (family: string) => {
    const d = parts.find((p) => p.family === family)?.detection.default;
    return d?.topSpanOnDistractor == null ? 'n/a' : `${Math.round((1 - d.topSpanOnDistractor) * d.samples)} of ${d.samples}`;
  };
  const ratios = parts.map((p) => p.detection.default.seconds / p.detection.paper.seconds);
  const gradSeconds = parts.map((p) => p.detection.paper.seconds);
  const range = (xs: number[], digits: number) => `${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}`;
  const lines: string[] = [
    '# Planted-confounder benchmark: every task family',
    '',
    `Regenerate, one command (every family in sequence): \`npx tsx analyses/planted-confounders.ts --samples ${parts[0].settings.samples} --eval-samples ${parts[0].settings.evalSamples} --steps ${parts[0].settings.steps} --seeds ${parts[0].settings.seeds.length}\`. `
      + `This report's parts came from: ${[...new Set(parts.map((p) => `\`${p.command}\``))].join(', ')} (each family done ${parts.map((p) => `${p.family} ${p.elapsed_s} s`).join(', ')} after its command started, on this machine, backend ${parts[0].backend}, 2 shared cores).`,
    'Per family: models and data in `data/` (shipped) or `data/families/<name>/`, made by `analyses/train-base.ts --family NAME` (the new families\' teachers: the shipped teacher fine-tuned on the family\'s own train-teacher split).',
    '',
    '| family | distractors | analysis samples | teacher right | student right | TCSW |',
    '|---|---|---|---|---|---|',
    ...parts.map((p) => `| ${p.family} | ${p.description} | ${p.selection.samples} | ${p.selection.teacherRight} | ${p.selection.studentRight} | ${p.selection.teacherRightStudentWrong} |`),
    '',
    '## Detection against the planted spans',
    '',
    `Paper: \`--method ${PAPER.method} --rule ${PAPER.rule}\` (the authors' pipeline). Default: \`--method ${DEFAULT.method} --rule ${DEFAULT.rule}\` (leaf analyze's default; its flagged spans cut at phrase edges, \`--span-cut auto\`). `
      + 'Token AUROC: −Δ against "the token lies on a planted distractor", pooled over every analysed instruction token. Top span: the flagged span with the lowest mean Δ lies on a distractor (no span = miss), over all analysis samples and over TCSW samples. '
      + `Time: \`leaf analyze\` in the same process, the two detectors alternating, the fastest of ${TIMING_ROUNDS} runs each (wall clock, and the process's CPU time, which other jobs on the shared machine disturb less).`,
    '',
    '| family | detector | token AUROC | top span on distractor (all) | top span on distractor (TCSW) | flagged tokens per sample | analyse time (wall / CPU) | time vs paper (wall / CPU) | passes per sample and model |',
    '|---|---|---|---|---|---|---|---|---|',
    ...parts.flatMap((p) => [
      ...(['paper', 'default'] as const).map((name) => {
        const d = p.detection[name];
        return `| ${p.family} | ${name} (${d.method}) | ${f3(d.tokenAuroc)} | ${pct(d.topSpanOnDistractor)} | ${pct(d.topSpanOnDistractorTcsw)} | ${d.flaggedPerSample.toFixed(2)} | ${d.seconds.toFixed(1)} s / ${d.cpuSeconds.toFixed(1)} s | ${(d.seconds / p.detection.paper.seconds).toFixed(2)}× / ${(d.cpuSeconds / p.detection.paper.cpuSeconds).toFixed(2)}× | ${d.passes} |`;
      }),
      `| ${p.family} | baseline: random | ${f3(p.detection.random.tokenAuroc)} | ${pct(p.detection.random.topSpanOnDistractor)} | ${pct(p.detection.random.topSpanOnDistractorTcsw)} | ${p.detection.random.flaggedPerSample.toFixed(2)} | — | — | — |`,
    ]),
    '',
    '## KD vs LeaF',
    '',
    `Each family: the family's teacher distilled into its student on the same ${parts[0].settings.samples} train-distill samples, ${parts[0].settings.steps} steps of ${parts[0].settings.batchSize} rows, lr ${parts[0].settings.lr}, cosine, forward KL, vocabulary intersection; seeds ${parts[0].settings.seeds.join(', ')} (mean ± sample std over seeds, in %). `
      + `KD: originals only. ${parts[0].settings.leafRuns.map((r) => `${r.label}: ${r.about}.`).join(' ')} `
      + `Test = shortcut broken (distractor always wrong, ${parts[0].settings.evalSamples} samples); clean = no distractor (control). Attention on distractor = share of the instruction's attention (response positions, mean over layers and heads) on the planted distractors, test split.`,
    '',
    '| family | model | test accuracy | clean accuracy | answers copying the distractor (test) | attention on distractor |',
    '|---|---|---|---|---|---|',
    ...parts.flatMap((p) => {
      const d = p.distillation;
      const one = (e: ModelEval) => `${pct(e.test)} | ${pct(e.clean)} | ${pct(e.copiesDistractor)} | ${pct(e.attentionOnDistractor)}`;
      const many = (s: ReturnType<typeof Object> & { test: Stats; clean: Stats; copiesDistractor: Stats; attentionOnDistractor: Stats }) =>
        `${ms(s.test)} | ${ms(s.clean)} | ${ms(s.copiesDistractor)} | ${ms(s.attentionOnDistractor)}`;
      return [
        `| ${p.family} | student before distillation | ${one(d.reference.student)} |`,
        `| ${p.family} | KD | ${many(d.kd)} |`,
        ...p.settings.leafRuns.map((r) => `| ${p.family} | ${r.label} | ${many(d[r.key])} |`),
        `| ${p.family} | teacher | ${one(d.reference.teacher)} |`,
      ];
    }),
    '',
    '## Targets of the issue, as measured',
    '',
    'Default configuration (detector and LeaF), per family, means over seeds.',
    '',
    '| family | target | measured | met |',
    '|---|---|---|---|',
    ...parts.flatMap((p) => targets(p).map(([target, measured, met]) => `| ${p.family} | ${target} | ${measured} | ${met === null ? 'n/a' : met ? 'met' : '**NOT met**'} |`)),
    '',
    '## Notes',
    '',
    `- The LeaF terms and threshold rule of the default. The focus weight (${DEFAULT_TERMS.focusLoss}, last 3 layers): an earlier session chose 4 on a dev split of the shipped family only (test-policy samples 500–799; KD 5.3 % dev-test / 51.2 % attention on the distractor, focus 2: 7.3 % / 37.3 %; 4 picked to clear the 30 % attention target, then without the consistency term); the sixth session lowered it to 2 (end of this note). The focus target (zero) was chosen in the fifth session, the consistency weight (${DEFAULT_TERMS.consistencyLoss}) in the sixth (end of this note), by \`analyses/leaf-terms-grid.ts\` (reports/leaf-terms-grid.md) with this report\'s default detector: weights 4, 6, 8 × targets teacher, zero, 2 seeds, scored on test and clean samples 300–499 of every family — held out from the samples scored here (0–299), not from the families: the choice saw all three. With the demo\'s former rule (percentile:p=0.1) no point met every target on that slice: on multi that rule flags a token of only 63 % of the planted distractor spans (30 % of samples have all of theirs flagged), since a sample holding 2–3 distractors has more confounder tokens than its 10 % quantile admits; \`absolute:tau=0.1\` on the per-sample normalised Δ (the paper\'s rule family: it studied τ = 0.05–0.15) flags 79 % (56 %) at a precision of 91 % (shipped 92 %, far 90 %). A second grid (rules percentile:p=0.1 and absolute:tau=0.1 × weights 4, 6, target zero; reports/leaf-terms-grid-rules.md) picked absolute:tau=0.1 with weight 6, which met every target on the dev slice (worst margin +1.0 point). The sixth session\'s detector (fewer candidates, spans cut at phrase edges) changed the counterfactuals, and with weight 6 far\'s clean accuracy fell 2.4 points below KD\'s on the scored samples; a third grid on the same dev slice (weights 2, 4, 6, target zero, 2 seeds; reports/leaf-terms-grid-consistency.md) picked weight 4, whose worst margin is −0.0 points (multi\'s gain over KD exactly 5 points; weight 6: −1.0, far\'s clean 1 point below KD\'s; weight 2: −1.8, multi\'s gain 3.3): with focus weight 4 no consistency weight clears every target on the dev slice with room. Consistency weight 4 with focus weight 2 (reports/leaf-terms-grid-focus.md, same slice and seeds) has a worst margin of +0.7 points (shipped 16.5, far 2.5 with clean 18.5 % vs KD\'s 16.0 %, multi 0.7), so the default uses focus weight 2. `
      + 'Seventh session, the consistency term\'s pull: until then it pulled only the original\'s output toward the counterfactual\'s, KL(p(y | X∖A) ‖ p(y | X)). In the training data the distractor states the answer 90 % of the time, so the original\'s output is mostly right by copying, while the counterfactual\'s is the weak student\'s without its shortcut: that pull also drags right answers toward worse ones. The default now pulls both ways (`--consistency-pull mutual`: plus KL(p(y | X) ‖ p(y | X∖A)), each target held constant), so the student also learns to give without the spans what it gives with them. A fourth grid on the same dev slice and seeds (weights 2, 4, 6 × pulls mutual, counterfactual, focus 2 toward zero; reports/leaf-terms-grid-pull.md) picked mutual with weight 4: worst margin +4.0 points against +0.7 for the former pull (clean accuracy, mutual vs counterfactual at weight 4: shipped 49.5 vs 45.3 %, far 21.0 vs 18.5 %, multi 45.5 vs 34.3 %; test 39.3 vs 37.8, 16.8 vs 17.8, 16.0 vs 12.8 %). The weights did not change. The row "consistency toward the counterfactual only" above is the former default on the scored samples.',
    '- The detector\'s changes in this report (redundancy set = the 4 measured units with the smallest |Δℓ_T| instead of the 3 most contrastive; candidates ranked by the student\'s gradient alone, the teacher\'s backward pass dropped) were compared on the first 300 analysis samples of each family — a subset of the samples reported here, so these detection figures are not held out from those choices. What was tried and measured (300 samples, AUROC / top span): redundancy set by teacher need, 4 units: shipped 0.976 / 98.3 %, far 0.972 / 96.3 %, multi 0.748 / 85.3 % (2.5–4.1× grad-l2\'s wall time, fastest of 2 runs); then student-only candidates: 0.979 / 97.3 %, 0.977 / 96.3 %, 0.723 / 82.3 % at 2.1–2.3× — chosen for the cost target at a loss on multi. Without word candidates multi rose to 0.816 / 82.5 % but shipped fell to 93.7 % top span, so words stay. Forward batches 4× wider than the gradient pass\'s were slower (CPU 12–13 s vs 8 s on 300 shipped samples), so occlusion keeps the analysis batch size. The joint removal of a repeated word\'s copies (all but one, each kept in turn; added in the fourth session) was compared on the first 200 and then on all 500 reported analysis samples of each family, again not held out: shipped and far give byte-identical Δ with and without it (AUROC 0.974 / 0.975, top span 96.6 % / 96.4 %), multi rose from 0.722 / 81.0 % to 0.885 / 90.4 %. Also removing every copy at once (one more variant) was tried and dropped: shipped fell to 0.941 / 85.0 % and multi to 88.6 % top span, since the copies include the fact the teacher reads; a second repeated word per sample added one multi sample in 200 (92.5 % vs 91.5 % top span) for up to 4 more forwards, so one is kept. '
      + 'Fifth session, two changes, chosen on the same 500 reported samples (not held out): (1) a unit put back in round 2 is no longer credited with what the student misses of S ∖ u while u stays (most of multi\'s misses: with everything but a fact value "0" removed the student\'s loss moved by 1.97 nats, all of it credited to "0"); (2) a unit credited through a joint removal, and a word, keep at least the teacher\'s |Δℓ_T| of removing it alone (a word: of the phrase holding it). Top span all / TCSW / AUROC on these samples with (1) only: shipped 98.2 % / 91.8 % / 0.982, far 98.2 % / 97.6 % / 0.981, multi 96.0 % / 81.8 % / 0.913; with (2) only: 99.4 % / 100 % / 0.984, 98.4 % / 100 % / 0.981, 92.8 % / 100 % / 0.899 — both are kept. On train-distill samples 500–999 (used once to choose between two earlier variants, so only partly held out), before → after: AUROC 0.976 → 0.984, 0.980 → 0.989, 0.907 → 0.937; top span all 97.8 → 99.6 %, 97.4 → 99.8 %, 92.8 → 98.4 %; TCSW 90.2 → 100 %, 93.8 → 100 %, 85.7 → 94.3 %. Rejected: raising a phrase\'s teacher need from the words inside it (multi 95.6 %, shipped 94.2–97.2 %), capping the put-back at the joint effect (multi 95.0 %, shipped TCSW 93.4 %). The passes per sample are unchanged.',
    `- multi, what the detector meets: the student uses pairs of copies, not single ones — removing "hint : 9 ." and "i guess 9 ." together raises its loss by 1.0 nats while each alone moves it < 0.03. The copies share one word (the value), so the detector removes the phrases holding that word\'s copies all but one, each kept in turn; with the phrase of the fact kept, the teacher keeps its answer and the student loses its shortcut, and that joint effect counts for every distractor phrase removed (also a tag the student does not read alone). With the fifth-session changes, the remaining top-span misses on multi (${missesOn('multi')}) are mostly a facts clause or the question phrase: text whose removal moves the student\'s loss far more than the teacher\'s.`,
    `- What each LeaF term does, from the ablation rows (answers copying the distractor on the test split / attention on it): ${parts.map((p) => `${p.family}: KD ${copyAndAttention(p.distillation.kd)}, focus term only ${copyAndAttention(p.distillation.noConsistency)}, consistency term only ${copyAndAttention(p.distillation.noFocus)}, both ${copyAndAttention(p.distillation.default)}`).join('; ')}. `
      + 'The focus term moves the attention of the response positions off the flagged spans, yet alone it can leave the copying in place (compare far and multi): the value still reaches the answer, through other positions (not traced). The consistency term acts on the output (the answer with and without the flagged spans): in this run, alone it lowers the copying on every family, least on multi, and moves the attention less; with both terms the student copies least on every family. '
      + `The consistency term's pull, mutual (the default) vs toward the counterfactual only, test / clean accuracy: ${parts.map((p) => `${p.family} ${ms(p.distillation.default.test)} / ${ms(p.distillation.default.clean)} vs ${ms(p.distillation.pullCounterfactual.test)} / ${ms(p.distillation.pullCounterfactual.clean)}`).join(', ')}. `
      + `The teacher's own attention on the distractors: ${parts.map((p) => `${p.family} ${pct(p.distillation.reference.teacher.attentionOnDistractor)}`).join(', ')}. A teacher may look at text it does not use, and pulling the student toward its share cannot take the student below it: hence the default pulls toward zero. `
      + `Clean accuracy against the paper's LeaF: ${parts.map((p) => `${p.family} ${ms(p.distillation.default.clean)} vs ${ms(p.distillation.paper.clean)}`).join(', ')} (${costsClean(parts)}), ${parts.every((p) => (p.distillation.default.clean.mean ?? 0) >= (p.distillation.kd.clean.mean ?? 0)) ? "while the default stays above KD's on every family" : "and on some family the default falls below KD's"}.`,
    '- The consistency term compared the student\'s two outputs over its whole vocabulary until the fifth session, while the KD term compares outputs over the vocabulary shared with the teacher (`--vocab-map intersect` masks the rest). It then moved probability onto tokens the KD term never sees, the student\'s own end-of-turn token among them, and on some seeds the student answered with an empty string: the "collapse" of the previous report (shipped, seed 1, `--consistency-loss 4`: 2.7 % test, 8.0 % clean). It now uses the KD term\'s vocabulary; the same run gives 39.7 % / 40.0 %.',
    `- Reduced configuration (compute: 2 cores; 1-minute load average 1.2–2.8 while it ran (0.7 at its start), sampled each minute): 500 analysis samples, 300 test and 300 clean samples, 200 distillation steps per run. The paper\'s LeaF counterfactuals come from its own rule (${PAPER.rule}), the default\'s from the demo rule (${DEFAULT.rule}).`,
    `- Detector time: grad-l2 analyses ${parts[0].detection.default.samples} samples in ${range(gradSeconds, 1)} s here, and the default takes ${range(ratios, 1)}× that (wall). Sixth session, three changes for time: (1) a shortened sample is computed from its first token that differs from the sample, reusing the keys and values of the sample\'s own forward (same losses up to float rounding: on multi\'s 500 samples the flags were identical, the normalised Δ within 1.6e-4); (2) the teacher skips a joint removal or put-back when the student\'s side alone bounds the unit\'s contrast below what it already has (scores unchanged; on multi the teacher ran 11.3 shortened samples per sample instead of 14); (3) fewer candidates: 3 phrases and 1 word in round 1 (were 4 and 2) and a redundancy set of 3 (was 4). These ratios move with grad-l2\'s short runs: on the same tree, in a fresh process per family (grad-l2 and the default alternating, fastest of 2, idle), multi measured 4.2–4.4× (grad-l2 1.6 s, the default 6.9–8.2 s), far 2.6× and shipped 3.4×, so multi\'s margin under 4× is not robust. (1) and (2) together took multi from 5.5× to 5.2× there: at these model sizes much of the time is not the forwards but re-rendering and re-tokenising each shortened sample. (3) was chosen by detection alone, on the reported 500 analysis samples and checked on samples 500–999 of each family\'s analysis split, never used for any choice before; token AUROC / top span / TCSW top span there, before → after: shipped 0.984 / 99.6 / 100 % → 0.976 / 99.4 / 100 %, far 0.989 / 99.8 / 100 % → 0.987 / 99.6 / 100 %, multi 0.937 / 98.4 / 94.3 % → 0.964 / 99.6 / 100 % (spans cut at phrases on both sides). Tried and not kept: forward batches 2× and 4× wider (same wall time, more CPU); keeping only the copy-removal that spares the copy the teacher needs most (multi AUROC 0.919 → 0.864); no copy removals (0.766). `
      + 'Seventh session, at a real model size the ratio is higher and over the target: `npx tsx analyses/bench-detector.ts --samples 3 --rounds 2` (random-weight Qwen2.5-0.5B teacher and student, the real Qwen tokenizer, word problems of about 250 tokens with a hint at the start, batch 1, fastest of 2 rounds, load 1.9–2.5) measured the default at 30.4 s and grad-l2 at 6.0 s per sample: 5.06×. There the time is arithmetic: a forward of a 250-token sample takes 1.75 s and the input-gradient pass 3.55 s (2 forwards), so grad-l2 costs 4 forward-equivalents per sample and the default about 23 (the student\'s gradient 2, the two base forwards 2, and about 20 shortened samples, 10 per model, 93 % of whose tokens are recomputed when the hint at the start is removed). The planted families\' models are small enough that per-call overhead, not arithmetic, sets their time, so their ratios above understate the cost at real sizes; meeting 4× there needs about 12 shortened samples per sample in all instead of 20. '
      + 'Eighth session, three changes for that cost: (1) a removal is measured once per model (the rounds repeated some: a put-back from a pair is the other unit\'s single removal); (2) the student\'s gradient pass is also its unmodified forward, its keys and values kept, unless its layers are recomputed (one forward fewer per sample); (1) and (2) leave the scores as they were up to float rounding (with (1), Δ within 2.5e-5 and the same flags on 300 samples of each family; with (2), identical Δ on 500 shipped and 300 multi samples); (3) 2 phrase candidates (were 3) and a redundancy pair (was a set of 3). '
      + '(3) was chosen on the first 300 analysis samples of each family; token AUROC / top span / samples with every distractor flagged / flagged tokens off the distractors, before → after: shipped 0.983 / 99.7 / 99.7 / 6.4 % → 0.993 / 99.7 / 99.7 / 3.0 %, far 0.985 / 99.0 / 99.3 / 9.5 % → 0.996 / 99.7 / 99.7 / 2.6 %, multi 0.952 / 98.7 / 49.0 / 4.1 % → 0.963 / 98.3 / 59.7 / 3.7 %; shortened samples per sample, student + teacher: shipped 8.0 + 6.7 → 4.1 + 3.8, far 8.0 + 5.4 → 4.0 + 3.7, multi 11.0 + 8.9 → 7.6 + 6.8 (counted by instrumenting the detector, not part of this script). '
      + 'The same on a fourth planted family made for a held-out check (1–2 distractors per sample as a preface "i guess V ;" or an aside "( V )", 4–5 facts, sums and ordered keys; scratch, not in lib/synth), never used for a choice before: 0.888 / 94.3 / 69.7 / 18.3 % → 0.965 / 96.3 / 90.3 / 13.3 %, shortened samples 9.0 + 7.6 → 5.2 + 4.9. It also decided between (3) and the cheaper variant without the redundancy round, so it is not held out from this choice. '
      + 'Tried and not kept (AUROC / top span; shipped, far, multi, held-out family): no redundancy round 0.992 / 99.7, 0.990 / 99.7, 0.959 / 97.3, 0.929 / 90.7 %; 2 phrases and no redundancy round 0.996 / 99.7, 0.999 / 100, 0.962 / 98.3, 0.948 / 91.7 %; (3) without the word candidate 0.999 / 99.7, 1.000 / 100, 0.968 / 97.3, 0.970 / 93.0 %; a cap of 7 removals per sample and model (a round dropped whole when it would exceed it) kept the three families\' figures but took the held-out family to 93.3 %, and caps of 6 and 5 took multi to 0.739 and 0.591; removing both phrases of a word with two copies instead of the redundancy round took shipped to 91.3 %; copies in at most 3 phrases (were 4) took multi to 0.751. '
      + 'At the real size, `npx tsx analyses/bench-detector.ts --samples 6 --rounds 2` (the setup above, 6 samples, load 2.0–2.3) measures the default at 20.8 s and grad-l2 at 6.3 s per sample: 3.30× (the seventh session\'s tree on the same 6 samples, one round: 30.5 s against 7.2 s, 4.23×). '
      + 'On the first 3 samples alone (`--samples 3 --rounds 2`, the seventh session\'s command) it measures 23.8 s against 5.5 s: 4.31×, over the target; grad-l2 took 6.4 s there in the other round (3.76× against that), and these three samples cost the default more than the other three (about 24 s against about 18 s). On 12 samples (`--samples 12 --rounds 1`, load 2.3–2.4): 20.9 s against 6.7 s, 3.11×. So at this size the target is met on the mean over samples, not on every subset of them. With a larger teacher than the student, as real runs have (`--teacher-model qwen2.5-1.5b --samples 6 --rounds 1`, a random-weight Qwen2.5-1.5B teacher): 40.9 s against 14.9 s, 2.75×. '
      + 'Distillation on the held-out family with the new flags (3 seeds, test and clean samples 0–299, 200 steps; scratch script): shortcut-broken test 37.7 % (KD 10.2 %; with the seventh session\'s detector 33.9 %), clean 61.8 % (KD 37.8 %), attention on the distractor 8.9 % (KD 48.3 %); detection on its 500 analysis samples: AUROC 0.873 → 0.957, top span 95.0 → 95.6 % (TCSW 95.0 → 100 %).',
    '- Spans of the default are cut at phrase edges (`--span-cut auto`, phrase for `contrastive`; grad-l2 keeps plain maximal runs). The rule absolute:tau=0.1 flags more tokens than a percentile, and with plain maximal runs the flagged tokens of two neighbouring units that touch formed one span, e.g. "[ 1 ] take 1 and 0 ." (a tag and the facts of a sum sharing the value 1): it counted as a top-span miss, and its counterfactual also removed a fact. Sixth session, same 500 samples and Δ of the fifth session\'s detector (4 phrase and 2 word candidates, redundancy set 4), plain runs → cut at phrases: top span (all / TCSW) shipped 95.6 / 93.4 → 99.8 / 100 %, far 97.4 / 97.6 → 98.8 / 100 %, multi 96.0 / 100 → 97.0 / 100 %; counterfactuals 504 → 526, 506 → 513, 866 → 1017, of which removing the distractor and a fact together 22 → 0, 7 → 0, 32 → 0. Every sample loses the same characters over all its counterfactuals (focus spans and the consistency term\'s text are unchanged).',
    '- Generation reads one new token: answers are one digit, one token for both tokenizers.',
    '- Seeds change the distillation batch order; base models, analyses and counterfactuals are the same for every seed.',
    '',
  ];
  return lines.join('\n');
}

/** Where the default's terms cost clean accuracy against the paper's LeaF (means over seeds). */
function costsClean(parts: FamilyResult[]): string {
  const below = parts.filter((p) => (p.distillation.default.clean.mean ?? 0) < (p.distillation.paper.clean.mean ?? 0)).map((p) => p.family);
  return below.length ? `the terms cost clean accuracy on ${below.join(', ')}` : 'no family loses clean accuracy to the terms';
}

function targets(p: FamilyResult): [string, string, boolean | null][] {
  const pct = (x: number | null | undefined) => (x === null || x === undefined ? 'n/a' : `${(100 * x).toFixed(1)} %`);
  const d = p.detection.default;
  const s = p.distillation;
  const leaf = (run: LeafRunKey) => ({
    gain: s[run].test.mean !== null && s.kd.test.mean !== null ? s[run].test.mean - s.kd.test.mean : null,
    attention: s[run].attentionOnDistractor.mean !== null && s.kd.attentionOnDistractor.mean ? 1 - s[run].attentionOnDistractor.mean / s.kd.attentionOnDistractor.mean : null,
    cleanGap: s[run].clean.mean !== null && s.kd.clean.mean !== null ? s[run].clean.mean - s.kd.clean.mean : null,
  });
  const paper = leaf('paper');
  const distillTargets = (run: (typeof LEAF_RUNS)[number]): [string, string, boolean | null][] => {
    const { gain, attention, cleanGap } = leaf(run.key);
    const prefix = run.role === 'default' ? '' : `${run.role}: `;
    const versusPaper = (x: number | null, unit: string) => (run.role === 'default' ? ` (paper LeaF: ${x === null ? 'n/a' : `${(100 * x).toFixed(1)}${unit}`})` : '');
    return [
      [`${prefix}LeaF ≥ KD + 5 points on the shortcut-broken split`, gain === null ? 'n/a' : `${(100 * gain).toFixed(1)} points${versusPaper(paper.gain, '')}`, gain === null ? null : gain >= 0.05],
      [`${prefix}attention on the distractor ≥ 30 % lower than KD`, attention === null ? 'n/a' : `${(100 * attention).toFixed(1)} % lower${versusPaper(paper.attention, ' %')}`, attention === null ? null : attention >= 0.3],
      [`${prefix}no loss on the clean control`, cleanGap === null ? 'n/a' : `LeaF − KD = ${(100 * cleanGap).toFixed(1)} points`, cleanGap === null ? null : cleanGap >= 0],
    ];
  };
  const ratio = d.seconds / p.detection.paper.seconds;
  const cpuRatio = d.cpuSeconds / p.detection.paper.cpuSeconds;
  return [
    ['token AUROC ≥ 0.85', `${d.tokenAuroc?.toFixed(3) ?? 'n/a'} (paper ${p.detection.paper.tokenAuroc?.toFixed(3) ?? 'n/a'})`, d.tokenAuroc === null ? null : d.tokenAuroc >= 0.85],
    ['top span on the distractor in ≥ 95 % of samples', `${pct(d.topSpanOnDistractor)} of all, ${pct(d.topSpanOnDistractorTcsw)} of TCSW (paper ${pct(p.detection.paper.topSpanOnDistractor)} / ${pct(p.detection.paper.topSpanOnDistractorTcsw)})`, d.topSpanOnDistractor === null ? null : d.topSpanOnDistractor >= 0.95 && (d.topSpanOnDistractorTcsw ?? 1) >= 0.95],
    ['detector time within 4× of grad-l2', `${ratio.toFixed(2)}× wall, ${cpuRatio.toFixed(2)}× CPU`, ratio <= 4 && cpuRatio <= 4],
    ...LEAF_RUNS.filter((run) => run.role !== 'paper').flatMap(distillTargets),
  ];
}
