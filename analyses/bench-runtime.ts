// Runtime benchmark (prints ratios measured in one run; not a test).
//
//   npx tsx analyses/bench-runtime.ts [--reps N] [--threads N] [--layers 12] [--skip-torch]
//
// 1. tf.matMul on the `native` backend vs the addon's raw sgemm on the same buffers, 1024³, in the
//    same process: how much tfjs's kernel dispatch costs (goal ≥ 0.8×).
// 2. Saliency pass (forward + backward to the input embeddings, weights frozen, mean NLL of the
//    response tokens) of a 12-layer d=768 Llama-shape model at T=128 on `native`, against the same
//    pass in PyTorch (analyses/torch_saliency.py, /usr/bin/python3) with the same thread count.
//    Passes alternate between the two so both see the same machine load (goal: ratio ≥ 1.0).
import * as tf from '@tensorflow/tfjs-core';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { initRuntime } from '../lib/runtime/index.ts';
import { loadAddon } from '../lib/runtime/native/addon.ts';
import { createRandomModel, embeddingGradients } from '../lib/models/index.ts';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const reps = option('--reps', 7);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const info = await initRuntime({ backend: 'native' });
// Both sides use the same thread count: OpenBLAS's default here, or --threads.
const threads = option('--threads', info.threads);
loadAddon().setThreads(threads);
console.log(`backend ${info.backend}, ${info.blas}, ${threads} threads`);

// ---- 1. matmul dispatch overhead -------------------------------------------------------------
{
  const n = 1024;
  const addon = loadAddon();
  const a = tf.randomNormal([n, n]);
  const b = tf.randomNormal([n, n]);
  const aValues = a.dataSync() as Float32Array;
  const bValues = b.dataSync() as Float32Array;
  const out = new Float32Array(n * n);
  const one = new Int32Array(1);
  const raw = () => addon.sgemmBatched(aValues, bValues, out, n, n, n, false, false, one, one);
  // The product stays a tensor until disposed: reading it (dataSync) is not part of the kernel.
  const viaTf = () => tf.matMul(a, b).dispose();
  const time = (f: () => void) => {
    const start = performance.now();
    f();
    return performance.now() - start;
  };
  for (let i = 0; i < 3; i++) (raw(), viaTf());
  const rawMs: number[] = [];
  const tfMs: number[] = [];
  for (let i = 0; i < 5 * reps; i++) {
    rawMs.push(time(raw));
    tfMs.push(time(viaTf));
  }
  const gflops = (ms: number) => (2 * n ** 3) / ms / 1e6;
  const [r, t] = [median(rawMs), median(tfMs)];
  console.log(`\nmatmul ${n}³: raw sgemm ${r.toFixed(2)} ms (${gflops(r).toFixed(1)} GFLOP/s), tf.matMul ${t.toFixed(2)} ms (${gflops(t).toFixed(1)} GFLOP/s)`);
  console.log(`  ratio tf.matMul / raw sgemm throughput: ${(r / t).toFixed(2)}× (goal ≥ 0.80)`);
  tf.dispose([a, b]);
}

// ---- 2. saliency pass vs PyTorch ----------------------------------------------------------------
{
  const shape = { layers: option('--layers', 12), hidden: 768, heads: 12, intermediate: 2048, vocab: 32000, tokens: 128 };
  const model = createRandomModel(
    {
      modelType: 'llama',
      vocabSize: shape.vocab,
      hiddenSize: shape.hidden,
      numLayers: shape.layers,
      numHeads: shape.heads,
      numKvHeads: shape.heads,
      intermediateSize: shape.intermediate,
      maxPositions: 512,
      tieWordEmbeddings: false,
    },
    7,
  );
  const ids = Array.from({ length: shape.tokens }, (_, i) => (i * 7919 + 13) % shape.vocab);
  // Response = second half, as in the PyTorch script.
  const targetMask = ids.map((_, i) => (i >= shape.tokens / 2 ? 1 : 0));
  const leafPass = () => {
    const start = performance.now();
    const { grad } = embeddingGradients(model, [ids], [targetMask]);
    grad.dispose();
    return performance.now() - start;
  };
  for (let i = 0; i < 2; i++) leafPass();
  const tensorsBefore = tf.memory().numTensors;

  const torch = args.includes('--skip-torch') || !existsSync('/usr/bin/python3') ? null : await startTorch({ ...shape, threads });
  const leafMs: number[] = [];
  const torchMs: number[] = [];
  for (let i = 0; i < reps; i++) {
    leafMs.push(leafPass());
    if (torch) torchMs.push(await torch.pass());
  }
  torch?.close();
  const leaf = median(leafMs);
  console.log(`\nsaliency pass, Llama-shape ${shape.layers}×${shape.hidden}, ${shape.heads} heads, MLP ${shape.intermediate}, vocab ${shape.vocab}, T=${shape.tokens}:`);
  console.log(`  leaf native: ${leaf.toFixed(0)} ms (median of ${reps}: ${leafMs.map((t) => t.toFixed(0)).join(' ')})`);
  if (torch) {
    const ref = median(torchMs);
    console.log(`  PyTorch ${torch.version} (${torch.threads} threads): ${ref.toFixed(0)} ms (${torchMs.map((t) => t.toFixed(0)).join(' ')})`);
    console.log(`  ratio PyTorch time / leaf time: ${(ref / leaf).toFixed(2)}× (goal ≥ 1.0)`);
  } else console.log('  PyTorch not run (--skip-torch or no /usr/bin/python3)');
  console.log(`  tensors leaked per pass: ${(tf.memory().numTensors - tensorsBefore) / reps}`);
  model.dispose();
}

/** analyses/torch_saliency.py in serve mode: one timed pass per request. */
async function startTorch(spec: Record<string, number>) {
  const script = fileURLToPath(new URL('./torch_saliency.py', import.meta.url));
  const child = spawn('/usr/bin/python3', [script, JSON.stringify({ ...spec, serve: true })], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async () => {
    const { value, done } = await lines.next();
    if (done) throw new Error('torch_saliency.py exited early');
    return value as string;
  };
  const ready = JSON.parse(await next()) as { threads: number; torch: string };
  return {
    threads: ready.threads,
    version: ready.torch,
    async pass() {
      child.stdin!.write('run\n');
      return Number(await next());
    },
    close() {
      child.stdin!.end();
    },
  };
}
