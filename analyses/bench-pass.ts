/**
 * leaf alone, one model, repeated: seconds per saliency pass (forward + backward to the input
 * embeddings, the grad-l2 work of analyze) or per training step of the student alone (forward,
 * backward to every weight, AdamW), for judging kernel work by leaf-only figures taken back to back.
 *
 *   npx tsx analyses/bench-pass.ts [--model DIR] [--stage analyze|train] [--length 250] [--passes 3] [--hold float32|stored]
 *
 * Weights are held in float32 unless --hold stored. Combine with LEAF_PROFILE=1 for kernel and
 * GEMM-shape tables. Prints the median of --passes after one untimed warm-up pass.
 */
import * as tf from '@tensorflow/tfjs-core';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { AdamW } from '../lib/distill/index.ts';
import { loadModel } from '../lib/models/index.ts';
import type { DecoderModel } from '../lib/models/decoder.ts';
import { embeddingGradients, responseLossFromEmbeds, responseTargets } from '../lib/models/loss.ts';
import { initRuntime } from '../lib/runtime/index.ts';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string', default: `${process.env.LEAF_BENCH_MODELS ?? '/work/scratch/bench-models'}/qwen2.5-0.5b-bf16-seed1` },
    stage: { type: 'string', default: 'analyze' },
    length: { type: 'string', default: '250' },
    passes: { type: 'string', default: '3' },
    hold: { type: 'string', default: 'float32' },
  },
});
if (args.stage !== 'analyze' && args.stage !== 'train') throw new Error(`--stage must be analyze or train, got ${args.stage}`);
if (args.hold !== 'float32' && args.hold !== 'stored') throw new Error(`--hold must be float32 or stored, got ${args.hold}`);
const T = Number(args.length);
const passes = Number(args.passes);

const runtime = await initRuntime({ backend: 'native' });
const train = args.stage === 'train';
const model = await loadModel(args.model!, { hold: args.hold, trainable: train });
const V = model.config.vocabSize;
// Deterministic ids; the second half is the response, as in analyze's samples.
const ids = [Array.from({ length: T }, (_, i) => (i * 7919 + 13) % V)];
const targetMask = [Array.from({ length: T }, (_, i) => (i >= T / 2 ? 1 : 0))];

const optimizer = train ? new AdamW((model as DecoderModel).weights, { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01 }) : undefined;

function pass(): void {
  if (!train) {
    embeddingGradients(model, ids, targetMask).grad.dispose();
    return;
  }
  const targets = responseTargets(ids, targetMask, undefined, V);
  const { value, grads } = tf.variableGrads(() => {
    const embeds = model.embed(tf.tensor2d(ids, undefined, 'int32'));
    return responseLossFromEmbeds(model, embeds, targets).loss;
  });
  value.dispose();
  const names = new Map([...(model as DecoderModel).weights].map(([name, variable]) => [variable.name, name]));
  optimizer!.step(new Map(Object.entries(grads).map(([variableName, grad]) => [names.get(variableName)!, grad])), 1e-5);
  tf.dispose(grads);
}

pass();
const seconds: number[] = [];
const before = process.resourceUsage();
for (let i = 0; i < passes; i++) {
  const start = performance.now();
  pass();
  seconds.push((performance.now() - start) / 1000);
}
// CPU seconds and page faults per pass move far less with the machine's load than wall time does.
const after = process.resourceUsage();
const per = (key: 'userCPUTime' | 'systemCPUTime' | 'minorPageFault') => (after[key] - before[key]) / passes;
seconds.sort((a, b) => a - b);
const rss = after.maxRSS / 2 ** 20;
console.log(
  `${args.stage === 'train' ? 'training step' : 'analyze pass'}, T = ${T}, ${args.hold} weights, ${runtime.threads} threads: median ${seconds[Math.floor(seconds.length / 2)].toFixed(2)} s ` +
    `(${seconds.map((s) => s.toFixed(2)).join(' ')}); per pass CPU user ${(per('userCPUTime') / 1e6).toFixed(2)} s, system ${(per('systemCPUTime') / 1e6).toFixed(2)} s, ` +
    `${(per('minorPageFault') / 1000).toFixed(0)}k page faults; peak RSS ${rss.toFixed(2)} GiB; load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`,
);
