/**
 * How the LeaF terms and threshold rule of `leaf demo` (the default of reports/planted-confounders.md)
 * were chosen: a grid over the detector's threshold rule, --consistency-loss, --consistency-pull and
 * --focus-target, the focus weight and layers fixed at the demo's,
 * scored on a dev slice of every family's test and clean splits (samples 300–499 by default),
 * disjoint from the samples that report scores (0–299). Writes reports/leaf-terms-grid.md.
 *
 *   npx tsx analyses/leaf-terms-grid.ts [--families shipped,far,multi] [--rules 'R1|R2'] [--weights 4,6,8]
 *       [--pulls mutual,counterfactual] [--targets teacher,zero] [--seeds 2] [--samples 500] [--steps 200] [--dev-from 300]
 *       [--dev-samples 200] [--work DIR]
 *
 * Per family, as the report does: the default detector's analysis and, per rule (`|`-separated;
 * default: the demo's), span counterfactuals of the first --samples train-distill samples; then per
 * seed KD and every grid point. Each point's
 * margin on a family is the smallest of its margins on the three distillation targets of issue 14:
 * gain over KD on the shortcut-broken split − 5 points, clean accuracy − KD's, and the attention
 * on the distractor's reduction from KD's − 30 % (all in points); the point with the largest
 * worst-family margin is the pick.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runAnalyze } from '../lib/analyze/index.ts';
import { CONSISTENCY_PULLS, distill, FOCUS_TARGETS, type ConsistencyPull, type FocusTarget } from '../lib/distill/index.ts';
import { loadModel } from '../lib/models/index.ts';
import { prune } from '../lib/pruning/index.ts';
import { initRuntime } from '../lib/runtime/index.ts';
import { loadTokenizer } from '../lib/text/index.ts';
import { writeFileAtomic } from '../lib/util/atomic.ts';
import { parseRuleSpec } from '../lib/confounders/index.ts';
import { analyzeOptions, demoDefaults, distillOptions, familyData, leafTerms, plantedAttention, pruneOptions, readSynthSplit, splitAccuracy } from '../lib/demo/index.ts';

const { values } = parseArgs({
  options: {
    families: { type: 'string', default: 'shipped,far,multi' },
    rules: { type: 'string', default: demoDefaults.rule },
    weights: { type: 'string', default: '4,6,8' },
    pulls: { type: 'string', default: demoDefaults.consistencyPull },
    targets: { type: 'string', default: FOCUS_TARGETS.join(',') },
    seeds: { type: 'string', default: '2' },
    samples: { type: 'string', default: '500' },
    steps: { type: 'string', default: '200' },
    'dev-from': { type: 'string', default: '300' },
    'dev-samples': { type: 'string', default: '200' },
    work: { type: 'string' },
    out: { type: 'string', default: 'reports/leaf-terms-grid.md' },
  },
});
const list = (raw: string) => raw.split(',').map((x) => x.trim()).filter(Boolean);
const targets = list(values.targets!).map((t) => {
  if (!(FOCUS_TARGETS as readonly string[]).includes(t)) throw new Error(`--targets: unknown focus target "${t}" (known: ${FOCUS_TARGETS.join(', ')})`);
  return t as FocusTarget;
});
const pulls = list(values.pulls!).map((p) => {
  if (!(CONSISTENCY_PULLS as readonly string[]).includes(p)) throw new Error(`--pulls: unknown consistency pull "${p}" (known: ${CONSISTENCY_PULLS.join(', ')})`);
  return p as ConsistencyPull;
});
const rules = values.rules!.split('|').map((r) => r.trim()).filter(Boolean);
for (const rule of rules) parseRuleSpec(rule);
const points = rules.flatMap((rule) => list(values.weights!).flatMap((w) => pulls.flatMap((consistencyPull) => targets.map((focusTarget) => ({ rule, consistencyLoss: Number(w), consistencyPull, focusTarget })))));
const seeds = Array.from({ length: Number(values.seeds) }, (_, i) => i);
const devFrom = Number(values['dev-from']);
const devEnd = devFrom + Number(values['dev-samples']);
const work = values.work ?? join(tmpdir(), `leaf-terms-grid-${process.pid}`);
const label = (p: (typeof points)[number]) => `${rules.length > 1 ? `--rule ${p.rule} ` : ''}--consistency-loss ${p.consistencyLoss} --consistency-pull ${p.consistencyPull} --focus-target ${p.focusTarget}`;
const pct = (x: number) => (100 * x).toFixed(1);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

await initRuntime({ backend: 'native', quiet: true });
interface Scores { test: number; clean: number; attention: number }
const results: { family: string; kd: Scores; grid: Scores[] }[] = [];
for (const family of list(values.families!)) {
  const { teacher, student, corpus } = familyData(family);
  const dir = join(work, family);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const read = (split: string) => readSynthSplit(corpus, split);
  const train = join(dir, 'train-distill.jsonl');
  writeFileAtomic(train, read('train-distill').slice(0, Number(values.samples)).map((s) => JSON.stringify(s) + '\n').join(''));
  const dev = { test: read('test').slice(devFrom, devEnd), clean: read('clean').slice(devFrom, devEnd) };
  if (dev.test.length < devEnd - devFrom) throw new Error(`${corpus}/test.jsonl: ${dev.test.length} samples from ${devFrom}, --dev-samples asks for ${devEnd - devFrom}`);
  const base = { ...demoDefaults, teacher, student, steps: Number(values.steps), backend: 'native' as const, progress: false };
  const prunedFor = new Map<string, string>();
  for (const [k, rule] of rules.entries()) {
    const analysis = join(dir, `analyze-${k}`);
    await runAnalyze(analyzeOptions({ ...base, rule }, train, analysis), { command: ['leaf-terms-grid', family] });
    prunedFor.set(rule, join(dir, `prune-${k}`, 'pruned.arrow'));
    await prune(pruneOptions(base, analysis, train, prunedFor.get(rule)!));
  }
  const score = async (extra: Record<string, unknown>, seed: number, pruned = prunedFor.get(rules[0])!): Promise<Scores> => {
    const out = join(dir, `distill-${seed}`);
    rmSync(out, { recursive: true, force: true });
    await distill({ ...distillOptions({ ...base, seed }, pruned, out), ...extra });
    const model = await loadModel(join(out, 'final'));
    try {
      const tokenizer = await loadTokenizer(join(out, 'final'));
      const attention = plantedAttention(model, tokenizer, dev.test).ratio;
      if (attention === null) throw new Error(`${corpus}/test.jsonl: no planted distractor in samples ${devFrom}–${devEnd - 1}`);
      return { test: splitAccuracy(model, tokenizer, dev.test).accuracy, clean: splitAccuracy(model, tokenizer, dev.clean).accuracy, attention };
    } finally {
      model.dispose();
    }
  };
  const averaged = async (extra: Record<string, unknown>, pruned?: string): Promise<Scores> => {
    const runs: Scores[] = [];
    for (const seed of seeds) runs.push(await score(extra, seed, pruned));
    return { test: mean(runs.map((r) => r.test)), clean: mean(runs.map((r) => r.clean)), attention: mean(runs.map((r) => r.attention)) };
  };
  const kd = await averaged({ kdOnly: true });
  const grid: Scores[] = [];
  for (const point of points) {
    grid.push(await averaged(leafTerms({ ...demoDefaults, ...point }), prunedFor.get(point.rule)));
    process.stdout.write(`${family} ${label(point)}: test ${pct(grid.at(-1)!.test)} %, clean ${pct(grid.at(-1)!.clean)} %, attention on the distractor ${pct(grid.at(-1)!.attention)} % (KD ${pct(kd.test)} / ${pct(kd.clean)} / ${pct(kd.attention)})\n`);
  }
  results.push({ family, kd, grid });
}

const margin = (r: (typeof results)[number], k: number) =>
  Math.min(r.grid[k].test - r.kd.test - 0.05, r.grid[k].clean - r.kd.clean, 1 - r.grid[k].attention / r.kd.attention - 0.3);
const worst = points.map((_, k) => Math.min(...results.map((r) => margin(r, k))));
const pick = worst.indexOf(Math.max(...worst));
const lines = [
  '# Choosing the LeaF terms of the default',
  '',
  `Command: \`npx tsx analyses/leaf-terms-grid.ts --families ${results.map((r) => r.family).join(',')} --rules '${rules.join('|')}' --weights ${values.weights} --pulls ${pulls.join(',')} --targets ${targets.join(',')} --seeds ${seeds.length} --samples ${values.samples} --steps ${values.steps} --dev-from ${devFrom} --dev-samples ${devEnd - devFrom}\`.`,
  `Dev slice: test and clean samples ${devFrom}–${devEnd - 1} of each family (reports/planted-confounders.md scores samples from 0 on, fewer than ${devFrom}). `
    + `Detector: ${demoDefaults.method}${rules.length > 1 ? '' : `, rule ${rules[0]}`}; KD trains on the originals only, so its row does not depend on the rule. Focus term fixed at the demo's (--focus-loss ${demoDefaults.focusLoss}, --attention-layers ${demoDefaults.attentionLayers}); ${seeds.length} seeds, means in %; attention = share of the instruction's attention on the planted distractors (test slice); `
    + 'margin = min(gain over KD − 5 points, clean − KD clean, attention reduction from KD − 30 %), in points.',
  '',
  `| point | ${results.map((r) => `${r.family}: test / clean / attention (KD ${pct(r.kd.test)} / ${pct(r.kd.clean)} / ${pct(r.kd.attention)}) | ${r.family} margin`).join(' | ')} | worst margin |`,
  `|---|${results.map(() => '---|---|').join('')}---|`,
  ...points.map((p, k) => `| ${k === pick ? `**${label(p)}**` : label(p)} | ${results.map((r) => `${pct(r.grid[k].test)} / ${pct(r.grid[k].clean)} / ${pct(r.grid[k].attention)} | ${pct(margin(r, k))}`).join(' | ')} | ${pct(worst[k])} |`),
  '',
  `Pick (largest worst-family margin): ${label(points[pick])}.`,
  '',
];
writeFileAtomic(values.out!, lines.join('\n'));
process.stdout.write(lines.join('\n'));
