/**
 * Trains the shipped teacher and student of the planted-confounder task from scratch with leaf's
 * own code and writes them in Hugging Face layout (config.json, model.safetensors F32,
 * tokenizer.json, tokenizer_config.json, plus training.json with settings, curve and accuracies):
 *
 *   data/models/teacher/  qwen2, 3 layers, d = 128, 8 heads (536k parameters), byte-level BPE
 *                         tokenizer + ChatML template; trained on `train-teacher` (the distractor
 *                         shows a random number): it must learn the rule
 *   data/models/student/  llama, 3 layers, d = 64, 4 heads (118k parameters), word-level tokenizer;
 *                         trained on `train-student` (the distractor shows the answer 90 % of the
 *                         time): it learns the shortcut
 *   data/synth/           the splits the demo uses (train-distill, test, clean) + manifest.json
 *
 * Training: lib/demo/lm-train.ts (`leaf distill` always runs a teacher, so base models get this
 * small loop built from lib/distill's AdamW, clipping, schedules and PRNG): mean NLL of the response
 * and the turn's closing token, AdamW (weight decay 0.01), 50 warm-up steps then cosine, seeded.
 * The task options are pinned in lib/demo/task.ts (single-digit answers: `leaf distill` pairs the
 * response tokens of both models one to one).
 *
 *   npx tsx analyses/train-base.ts --out data
 *   npx tsx analyses/train-base.ts --family far --out data/families/far    (any lib/synth family)
 *
 * Measured (native backend, 2 cores shared with other jobs): teacher 2000 steps × 64 in 985 s,
 * student 250 steps × 32 in 11 s. Greedy accuracy on 300 samples per split: teacher 99.3 % on the
 * shortcut-broken test split, 100 % clean; student 0.3 % test (98.7 % of its answers copy the
 * distractor), 29.3 % clean. A second run gave byte-identical weights. Details: data/README.md.
 *
 * Other flags: --family NAME (lib/synth's task family, default shipped), --teacher-init DIR /
 * --student-init DIR (start from a checkpoint with the same tokenizer instead of random weights:
 * the other families' teachers are the shipped teacher fine-tuned on their own train-teacher
 * split, which takes minutes where training from scratch takes an hour on a loaded machine), --teacher-steps/-lr/-batch/-hidden/-layers/-heads/-kv-heads, the same for
 * --student-*, --seed, --eval N (samples per split for the accuracies), --backend, --only teacher|student.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createRandomModel, loadModel, saveModel } from '../lib/models/index.ts';
import type { CausalLM, DecoderConfig } from '../lib/models/types.ts';
import { initRuntime, type BackendChoice } from '../lib/runtime/index.ts';
import { generateSplit, getFamily, writeSynthCorpus, writeSynthTokenizers, type SplitName, type SynthOptionsInput } from '../lib/synth/index.ts';
import { loadTokenizer } from '../lib/text/index.ts';
import type { TextTokenizer } from '../lib/text/types.ts';
import { encodeLmExamples, trainLanguageModel, type LmTrainOptions } from '../lib/demo/lm-train.ts';
import { splitAccuracy, type SplitAccuracy } from '../lib/demo/split-accuracy.ts';
import { writeDirectoryAtomic } from '../lib/distill/checkpoint.ts';

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: 'data' },
    family: { type: 'string', default: 'shipped' },
    'teacher-init': { type: 'string' },
    'student-init': { type: 'string' },
    'teacher-steps': { type: 'string', default: '2000' },
    'teacher-lr': { type: 'string', default: '1e-3' },
    'teacher-batch': { type: 'string', default: '64' },
    'teacher-hidden': { type: 'string', default: '128' },
    'teacher-layers': { type: 'string', default: '3' },
    'teacher-heads': { type: 'string', default: '8' },
    'teacher-kv-heads': { type: 'string', default: '4' },
    'student-steps': { type: 'string', default: '250' },
    'student-lr': { type: 'string', default: '3e-3' },
    'student-batch': { type: 'string', default: '32' },
    'student-hidden': { type: 'string', default: '64' },
    'student-layers': { type: 'string', default: '3' },
    'student-heads': { type: 'string', default: '4' },
    'student-kv-heads': { type: 'string', default: '2' },
    seed: { type: 'string', default: '1' },
    eval: { type: 'string', default: '300' },
    backend: { type: 'string', default: 'native' },
    only: { type: 'string' },
  },
});

interface Role {
  name: 'teacher' | 'student';
  split: SplitName;
  architecture: Partial<DecoderConfig> & { modelType: string };
  train: LmTrainOptions;
}

const seed = Number(values.seed);
const common = { warmupSteps: 50, schedule: 'cosine', weightDecay: 0.01, maxGradNorm: 1 };
const roles: Role[] = [
  {
    name: 'teacher',
    split: 'train-teacher',
    architecture: {
      modelType: 'qwen2', hiddenSize: Number(values['teacher-hidden']), numLayers: Number(values['teacher-layers']),
      numHeads: Number(values['teacher-heads']), numKvHeads: Number(values['teacher-kv-heads']),
      intermediateSize: 2 * Number(values['teacher-hidden']), maxPositions: 64,
    },
    train: { ...common, steps: Number(values['teacher-steps']), lr: Number(values['teacher-lr']), batchSize: Number(values['teacher-batch']), seed: seed + 100 },
  },
  {
    name: 'student',
    split: 'train-student',
    architecture: {
      modelType: 'llama', hiddenSize: Number(values['student-hidden']), numLayers: Number(values['student-layers']),
      numHeads: Number(values['student-heads']), numKvHeads: Number(values['student-kv-heads']),
      intermediateSize: 2 * Number(values['student-hidden']), maxPositions: 64,
    },
    train: { ...common, steps: Number(values['student-steps']), lr: Number(values['student-lr']), batchSize: Number(values['student-batch']), seed: seed + 200 },
  },
];

const runtime = await initRuntime({ backend: values.backend as BackendChoice });
const out = values.out!;
const synthOptions: SynthOptionsInput = { ...getFamily(values.family!).options, seed };
const tokenizerRoot = mkdtempSync(join(tmpdir(), 'leaf-train-base-'));
process.on('exit', () => rmSync(tokenizerRoot, { recursive: true, force: true }));
const tokenizerDirs = writeSynthTokenizers(tokenizerRoot, { maxValue: synthOptions.maxValue });
// The demo needs the held-out splits and the distillation split; the base-training splits are regenerated here.
writeSynthCorpus(join(out, 'synth'), { ...synthOptions, sizes: { ...synthOptions.sizes, 'train-student': 0, 'train-teacher': 0 } });
const evalSize = Number(values.eval);
const evalSplits: SplitName[] = ['test', 'clean', 'train-distill'];
const evalSamples = Object.fromEntries(evalSplits.map((split) => [split, generateSplit(split, synthOptions).slice(0, evalSize)]));

function measure(model: CausalLM, tokenizer: TextTokenizer): Record<string, SplitAccuracy> {
  return Object.fromEntries(evalSplits.map((split) => [split, splitAccuracy(model, tokenizer, evalSamples[split])]));
}

const fmt = (a: SplitAccuracy) => `acc ${a.accuracy.toFixed(3)}${a.copiesDistractor === null ? '' : ` copies ${a.copiesDistractor.toFixed(3)}`}`;

interface Outcome {
  samples: number;
  params: number;
  trainSeconds: number;
  final: Record<string, SplitAccuracy>;
  checkpoints: unknown[];
  steps: number;
}

/** The model directory is replaced as a whole (temp dir + rename): a killed run leaves the previous one. */
function save(role: Role, model: CausalLM, outcome: Outcome): void {
  writeDirectoryAtomic(join(out, 'models', role.name), (dir) => writeModelFiles(role, model, outcome, dir));
}

function writeModelFiles(role: Role, model: CausalLM, outcome: Outcome, dir: string): void {
  saveModel(model, dir, { dtype: 'F32' });
  for (const file of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(tokenizerDirs[role.name], file), join(dir, file));
  writeFileSync(
    join(dir, 'training.json'),
    JSON.stringify(
      {
        command: `npx tsx analyses/train-base.ts ${process.argv.slice(2).join(' ')}`.trim(),
        backend: runtime.backend,
        parameters: outcome.params,
        architecture: role.architecture,
        ...(values[`${role.name}-init`] ? { initialised_from: values[`${role.name}-init`] } : {}),
        data: { split: role.split, samples: outcome.samples, synth: synthOptions },
        training: { ...role.train, steps_done: outcome.steps, loss: 'mean response NLL (response + closing tokens)' },
        train_seconds: Math.round(outcome.trainSeconds),
        accuracy: outcome.final,
        curve: outcome.checkpoints,
      },
      null,
      2,
    ) + '\n',
  );
}

for (const role of roles) {
  if (values.only && values.only !== role.name) continue;
  const tokenizer = await loadTokenizer(tokenizerDirs[role.name]);
  const samples = generateSplit(role.split, synthOptions);
  const examples = encodeLmExamples(tokenizer, samples);
  const init = values[`${role.name}-init`];
  if (init && readFileSync(join(init, 'tokenizer.json'), 'utf8') !== readFileSync(join(tokenizerDirs[role.name], 'tokenizer.json'), 'utf8'))
    throw new Error(`--${role.name}-init ${init}: its tokenizer.json differs from the one this task's ${role.name} uses`);
  const model = init
    ? await loadModel(init, { trainable: true })
    : createRandomModel(
        { ...role.architecture, vocabSize: tokenizer.vocabSize, eosTokenIds: tokenizer.eosTokenIds, bosTokenId: tokenizer.bosTokenId ?? undefined },
        seed,
        { trainable: true },
      );
  const params = [...model.weights.values()].reduce((sum, w) => sum + w.size, 0);
  console.log(`${role.name}: ${role.architecture.modelType} ${params} parameters, ${examples.length} ${role.split} samples, ${role.train.steps} steps of ${role.train.batchSize}`);
  const started = performance.now();
  const checkpoints: { step: number; loss: number; elapsed_s: number; splits?: Record<string, SplitAccuracy> }[] = [];
  let window = 0;
  trainLanguageModel(model, examples, tokenizer.padTokenId ?? 0, role.train, (step) => {
    window += step.loss;
    if (step.step % 50 === 0 || step.step === role.train.steps) {
      const elapsed = (performance.now() - started) / 1000;
      const entry: (typeof checkpoints)[number] = { step: step.step, loss: window / (step.step % 50 || 50), elapsed_s: elapsed };
      if (step.step % 250 === 0 || step.step === role.train.steps) {
        entry.splits = Object.fromEntries(evalSplits.map((split) => [split, splitAccuracy(model, tokenizer, evalSamples[split].slice(0, 100))]));
        // Saved at every evaluation: a long run can be stopped once it is good enough.
        save(role, model, { samples: samples.length, params, trainSeconds: elapsed, final: entry.splits, checkpoints, steps: step.step });
      }
      checkpoints.push(entry);
      const splits = entry.splits ? ' | ' + Object.entries(entry.splits).map(([s, a]) => `${s} ${fmt(a)}`).join(' | ') : '';
      console.log(`  step ${step.step} loss ${entry.loss.toFixed(4)} lr ${step.lr.toExponential(2)} ${elapsed.toFixed(0)} s${splits}`);
      window = 0;
    }
  });
  const trainSeconds = (performance.now() - started) / 1000;
  const final = measure(model, tokenizer);
  console.log(`${role.name} done in ${trainSeconds.toFixed(0)} s: ` + Object.entries(final).map(([s, a]) => `${s} ${fmt(a)}`).join(' | '));
  save(role, model, { samples: samples.length, params, trainSeconds, final, checkpoints, steps: role.train.steps });
  model.dispose();
}
