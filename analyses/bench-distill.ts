/**
 * Benchmark of one `leaf distill` step (teacher forward + student forward/backward on the rows
 * that predict response tokens + forward KL + clipping + AdamW) for a random-weight Llama-shape
 * teacher/student pair, against the same step in PyTorch on this machine
 * (analyses/bench-distill-torch.py, Debian python3-torch). Prints median step times, their
 * ratio (PyTorch time / leaf time: > 1 means leaf is faster) and each process's peak RSS.
 *
 *   npx tsx analyses/bench-distill.ts [--backend native] [--steps 5] [--batch 4] [--length 128]
 */
import * as tf from '@tensorflow/tfjs-core';
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createRandomModel } from '../lib/models/index.ts';
import { initRuntime, type BackendChoice } from '../lib/runtime/index.ts';
import { AdamW, clipByGlobalNorm, getLoss } from '../lib/distill/index.ts';
import { accumulateMicroBatch, type StepContext } from '../lib/distill/step.ts';
import { LiveTeacher } from '../lib/distill/teacher/live.ts';
import type { EncodedRow } from '../lib/distill/data/encode.ts';
import { Prng } from '../lib/distill/data/prng.ts';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'native' },
    steps: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2' },
    batch: { type: 'string', default: '4' },
    length: { type: 'string', default: '128' },
    response: { type: 'string', default: '64' },
    vocab: { type: 'string', default: '8192' },
  },
});
const cfg = {
  vocab: Number(values.vocab), batch: Number(values.batch), length: Number(values.length), response: Number(values.response),
  steps: Number(values.steps), warmup: Number(values.warmup),
  teacher: { d: 512, layers: 6, heads: 8, kv_heads: 4, inter: 1408 },
  student: { d: 256, layers: 4, heads: 4, kv_heads: 2, inter: 704 },
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

const runtime = await initRuntime({ backend: values.backend as BackendChoice });
const shape = (s: typeof cfg.teacher) => ({
  modelType: 'llama', vocabSize: cfg.vocab, hiddenSize: s.d, numLayers: s.layers, numHeads: s.heads, numKvHeads: s.kv_heads, intermediateSize: s.inter,
});
const teacherModel = createRandomModel(shape(cfg.teacher), 1);
const student = createRandomModel(shape(cfg.student), 2, { trainable: true });
const identity = { mode: 'identity' as const, shared: cfg.vocab, sameToken: (a: number, b: number) => a === b };
const teacher = new LiveTeacher(teacherModel, identity);
const ctx: StepContext = {
  student, teacher,
  settings: { loss: getLoss('forward-kl'), temperature: 1, beta: 0.5, ceWeight: 0, attentionWeight: 0, attentionLayers: 1, focusWeight: 0 },
};
const prng = Prng.fromSeed(0);
const targets = Array.from({ length: cfg.response }, (_, j) => cfg.length - cfg.response + j);
const rows: EncodedRow[] = Array.from({ length: cfg.batch }, (_, index) => {
  const ids = Array.from({ length: cfg.length }, () => prng.nextInt(cfg.vocab));
  const side = { ids, targets, instructionTokens: [] };
  return { index, row: { id: `${index}`, sourceId: `${index}`, kind: 'original', instruction: '', input: '', output: '', answer: '', weight: 1, origin: 'bench' }, student: side, teacher: side };
});
const optimizer = new AdamW(student.weights, { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0 });
const times: number[] = [];
let loss = 0;
for (let i = 0; i < cfg.warmup + cfg.steps; i++) {
  const start = performance.now();
  const accumulated = new Map<string, tf.Tensor>();
  loss = accumulateMicroBatch(ctx, rows, rows.length, student.weights, accumulated).total;
  const clipped = clipByGlobalNorm(accumulated, 1);
  optimizer.step(clipped.grads, 1e-4);
  if (clipped.clipped) tf.dispose([...clipped.grads.values()]);
  tf.dispose([...accumulated.values()]);
  if (i >= cfg.warmup) times.push(performance.now() - start);
}
const leafRss = process.resourceUsage().maxRSS * 1024;
teacher.dispose();
teacherModel.dispose();
optimizer.dispose();
student.dispose();

const script = fileURLToPath(new URL('./bench-distill-torch.py', import.meta.url));
let torch: { step_ms: number[]; peak_rss_bytes: number; threads: number; torch: string; loss: number } | undefined;
try {
  torch = JSON.parse(execFileSync('/usr/bin/python3', [script, JSON.stringify({ ...cfg, threads: runtime.threads })], { encoding: 'utf8' }).trim().split('\n').at(-1)!);
} catch (error) {
  console.log(`PyTorch reference not run: ${(error as Error).message.split('\n')[0]}`);
}

const tokens = cfg.batch * cfg.length;
console.log(`distillation step: teacher ${cfg.teacher.layers}x${cfg.teacher.d}, student ${cfg.student.layers}x${cfg.student.d}, vocab ${cfg.vocab}, B=${cfg.batch} T=${cfg.length} (${cfg.response} supervised per row)`);
console.log(`machine: ${cpus().length} cores, load average ${loadavg()[0].toFixed(2)} before the PyTorch run`);
console.log(`leaf (${runtime.backend}, ${runtime.threads} threads): ${median(times).toFixed(0)} ms/step (min ${Math.min(...times).toFixed(0)}), ${(tokens / (median(times) / 1000)).toFixed(0)} tokens/s, loss ${loss.toFixed(4)}, peak RSS ${mb(leafRss)}`);
if (torch) {
  const torchMs = median(torch.step_ms);
  console.log(`PyTorch ${torch.torch} (${torch.threads} threads): ${torchMs.toFixed(0)} ms/step (min ${Math.min(...torch.step_ms).toFixed(0)}), loss ${torch.loss.toFixed(4)}, peak RSS ${mb(torch.peak_rss_bytes)}`);
  console.log(`ratio PyTorch/leaf step time: ${(torchMs / median(times)).toFixed(2)}x (goal >= 1.0x); peak RSS leaf/PyTorch: ${(leafRss / torch.peak_rss_bytes).toFixed(2)}x`);
}
