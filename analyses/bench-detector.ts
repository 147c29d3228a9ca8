/**
 * The default detector's time against the paper's (grad-l2) at a real model size, in one run:
 * `leaf analyze` with each, alternating, the fastest of --rounds each, on the same prose samples.
 *
 *   npx tsx analyses/bench-detector.ts [--model qwen2.5-0.5b] [--teacher-model M] [--samples 6] [--rounds 2] [--cache DIR]
 *
 * Checkpoints: the random-weight ones analyses/bench-scale.ts writes (teacher seed 1, student seed 2,
 * the published config, BF16, the real Qwen tokenizer) in --cache (default $LEAF_BENCH_MODELS or
 * /work/scratch/bench-models); run `npx tsx analyses/bench-scale.ts --model M --stage analyze
 * --skip-torch` once to write them. Run under `flock /work/locks/mem.lock` on shared machines.
 *
 * Samples: word problems of six sentences (clauses, commas, repeated names and nouns: the units
 * the contrastive detector measures) after a hint stating a number, so every shortened sample that
 * drops the hint is recomputed from its start; about 250 tokens each with the response. The
 * planted task families' samples are ten times shorter, and with models of a few hundred
 * thousand parameters their time is mostly per-call overhead rather than arithmetic, so the ratio
 * there says little about a real run.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { analyzeDefaults, paperMethod, runAnalyze } from '../lib/analyze/index.ts';
import { initRuntime } from '../lib/runtime/index.ts';
import { demoDefaults } from '../lib/demo/index.ts';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'qwen2.5-0.5b' },
    /** A larger teacher than the student, as real runs have (default: --model). */
    'teacher-model': { type: 'string' },
    samples: { type: 'string', default: '6' },
    rounds: { type: 'string', default: '2' },
    cache: { type: 'string', default: process.env.LEAF_BENCH_MODELS ?? '/work/scratch/bench-models' },
  },
});
const samples = Number(values.samples);
const rounds = Number(values.rounds);
if (!(samples >= 1 && rounds >= 1)) throw new Error('--samples and --rounds must be at least 1');
const teacherModel = values['teacher-model'] ?? values.model!;
const teacher = join(values.cache!, `${teacherModel}-bf16-seed1`);
const student = join(values.cache!, `${values.model}-bf16-seed2`);
for (const [dir, model] of [[teacher, teacherModel], [student, values.model]])
  if (!existsSync(join(dir, 'complete'))) throw new Error(`${dir} is missing: run \`npx tsx analyses/bench-scale.ts --model ${model} --stage analyze --skip-torch --cache ${values.cache}\` first`);

// A fixed linear congruential stream: the same samples on every run.
let state = 1;
const pick = <T>(items: readonly T[]): T => items[(state = (state * 48271) % 2147483647) % items.length];
const count = (n: number) => String(1 + ((state = (state * 48271) % 2147483647) % n));
const names = ['Ana', 'Ben', 'Carla', 'Dev', 'Eli'];
const things = ['apples', 'books', 'coins', 'stamps', 'shells'];
const sentence = () => `${pick(names)} has ${count(20)} ${pick(things)}, and ${pick(names)} buys ${count(9)} more at the market on ${pick(['Monday', 'Friday', 'Sunday'])}.`;
const rows = Array.from({ length: samples + 1 }, (_, i) => ({
  id: `sample-${i}`,
  instruction: `Hint: the answer is ${count(30)}. ${Array.from({ length: 6 }, sentence).join(' ')} How many ${pick(things)} are there in total?`,
  output: `${Array.from({ length: 3 }, sentence).join(' ')} So the answer is ${count(40)}.`,
}));

const root = mkdtempSync(join(tmpdir(), 'leaf-bench-detector-'));
try {
  const corpus = (name: string, part: typeof rows) => {
    const path = join(root, name);
    writeFileSync(path, part.map((r) => JSON.stringify(r)).join('\n') + '\n');
    return path;
  };
  const warmUp = corpus('warm-up.jsonl', rows.slice(0, 1));
  const data = corpus('timed.jsonl', rows.slice(1));
  const runtime = await initRuntime({ backend: 'native', quiet: true });
  const detectors = { paper: paperMethod, default: { method: demoDefaults.method, rule: demoDefaults.rule } };
  const best = { paper: Infinity, default: Infinity };
  const loads: number[] = [];
  for (let round = 0; round < rounds; round++)
    for (const [name, detector] of Object.entries(detectors) as [keyof typeof detectors, (typeof detectors)[keyof typeof detectors]][]) {
      const options = { ...analyzeDefaults, ...detector, teacher, student, data, idField: 'id', batchSize: 1, progress: false, backend: 'native' as const };
      // A sample of its own warms each detector's paths up, untimed.
      if (round === 0) await runAnalyze({ ...options, data: warmUp, out: join(root, `warm-up-${name}`) });
      const result = await runAnalyze({ ...options, out: join(root, `${name}-${round}`) });
      const perSample = result.manifest.timings.score / samples;
      best[name] = Math.min(best[name], perSample);
      loads.push(loadavg()[0]);
      console.log(`round ${round + 1} ${name} (${detector.method}): ${perSample.toFixed(1)} s per sample`);
    }
  console.log(
    `teacher ${teacherModel}, student ${values.model}, ${samples} samples, backend ${runtime.backend} (${runtime.threads} threads), fastest of ${rounds} rounds: ` +
      `default ${best.default.toFixed(1)} s, paper ${best.paper.toFixed(1)} s per sample: ${(best.default / best.paper).toFixed(2)}× grad-l2 (target ≤ 4×); ` +
      `1-minute load ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}`,
  );
} finally {
  rmSync(root, { recursive: true, force: true });
}
