import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initRuntime } from '../lib/runtime/index.ts';
import { AdamW } from '../lib/distill/optim/adamw.ts';
import { clipByGlobalNorm, globalNormScale } from '../lib/distill/optim/clip.ts';
import { getSchedule, learningRate, listSchedules } from '../lib/distill/optim/schedules/index.ts';
import { Prng } from '../lib/distill/data/prng.ts';

interface Reference {
  beta1: number; beta2: number; epsilon: number; weight_decay: number; max_norm: number;
  w0: number[]; b0: number[]; grads: { w: number[]; b: number[] }[]; lrs: number[]; norms: number[];
  trajectory: { w: number[]; b: number[] }[];
}
const reference = JSON.parse(readFileSync(new URL('./fixtures/distill/adamw_reference.json', import.meta.url), 'utf8')) as Reference;

beforeAll(async () => {
  await initRuntime({ backend: 'cpu', quiet: true });
});

describe('AdamW + global-norm clipping', () => {
  it('follows torch.optim.AdamW with clip_grad_norm_ (fixture from PyTorch)', () => {
    const params = new Map<string, tf.Variable>([
      ['layer.weight', tf.variable(tf.tensor2d(reference.w0, [3, 4]))],
      ['layer.bias', tf.variable(tf.tensor1d(reference.b0))],
    ]);
    const optimizer = new AdamW(params, { beta1: reference.beta1, beta2: reference.beta2, epsilon: reference.epsilon, weightDecay: reference.weight_decay });
    const before = tf.memory().numTensors;
    reference.grads.forEach((g, i) => {
      const raw = new Map<string, tf.Tensor>([['layer.weight', tf.tensor2d(g.w, [3, 4])], ['layer.bias', tf.tensor1d(g.b)]]);
      const { norm, grads, clipped } = clipByGlobalNorm(raw, reference.max_norm);
      expect(norm).toBeCloseTo(reference.norms[i], 4);
      optimizer.step(grads, reference.lrs[i]);
      if (clipped) for (const t of grads.values()) t.dispose();
      for (const t of raw.values()) t.dispose();
      const w = Array.from(params.get('layer.weight')!.dataSync());
      const b = Array.from(params.get('layer.bias')!.dataSync());
      w.forEach((v, j) => expect(v).toBeCloseTo(reference.trajectory[i].w[j], 5));
      b.forEach((v, j) => expect(v).toBeCloseTo(reference.trajectory[i].b[j], 5));
      expect(tf.memory().numTensors).toBe(before);
    });
    optimizer.dispose();
  });

  it('a step with the clip scale equals a step on the clipped gradients, bit for bit', () => {
    const make = () => new Map<string, tf.Variable>([['w', tf.variable(tf.tensor2d([[1, 2], [3, 4]]))], ['b', tf.variable(tf.tensor1d([0.5, -0.5]))]]);
    const grads = new Map<string, tf.Tensor>([['w', tf.tensor2d([[0.5, -1], [2, 0.1]])], ['b', tf.tensor1d([3, -0.7])]]);
    const options = { beta1: 0.9, beta2: 0.99, epsilon: 1e-8, weightDecay: 0.01 };
    const [a, b] = [make(), make()];
    const clipped = clipByGlobalNorm(grads, 0.3);
    const { norm, scale } = globalNormScale(grads, 0.3);
    expect(clipped.clipped).toBe(true);
    expect(norm).toBe(clipped.norm);
    expect(scale).toBeLessThan(1);
    new AdamW(a, options).step(clipped.grads, 0.1);
    new AdamW(b, options).step(grads, 0.1, scale);
    for (const name of ['w', 'b']) expect(Array.from(b.get(name)!.dataSync())).toEqual(Array.from(a.get(name)!.dataSync()));
    expect(globalNormScale(grads, 100).scale).toBe(1);
    tf.dispose([...clipped.grads.values(), ...grads.values(), ...a.values(), ...b.values()]);
  });

  it('exports and imports its state so a second optimizer continues identically', () => {
    const make = () => new Map([['w', tf.variable(tf.tensor2d([[1, 2], [3, 4]]))]]);
    const grad = () => new Map<string, tf.Tensor>([['w', tf.tensor2d([[0.5, -1], [2, 0.1]])]]);
    const options = { beta1: 0.9, beta2: 0.99, epsilon: 1e-8, weightDecay: 0.01 };
    const a = make();
    const first = new AdamW(a, options);
    first.step(grad(), 0.1);
    const saved = first.exportState();
    const b = new Map([['w', tf.variable(a.get('w')!.clone())]]);
    const second = new AdamW(b, options);
    second.importState(saved.steps, saved.tensors, 'test');
    first.step(grad(), 0.05);
    second.step(grad(), 0.05);
    expect(Array.from(b.get('w')!.dataSync())).toEqual(Array.from(a.get('w')!.dataSync()));
    expect(() => second.importState(1, new Map(), 'ckpt/optimizer.safetensors')).toThrow(/ckpt\/optimizer.safetensors.*w.exp_avg/);
  });
});

// On the native backend a parameter that owns its storage is updated in place by the addon; one
// whose storage is shared (here with the tensor it was made from) takes the JavaScript loop.
const nativeAvailable = await initRuntime({ backend: 'native', quiet: true }).then(() => true, () => false);
await initRuntime({ backend: 'cpu', quiet: true });

describe.runIf(nativeAvailable)('AdamW on the native backend', () => {
  it('updates owned parameters in place, bit-identical to the JavaScript loop (threaded size, clip scale, decay)', async () => {
    await initRuntime({ backend: 'native', quiet: true });
    try {
      const size = 300_000;
      const series = (seed: number) => Float32Array.from({ length: size }, (_, i) => Math.sin(i * 0.37 + seed) * (1 + (i % 7)));
      const initial = tf.tensor2d(series(1), [600, 500]);
      const own = tf.tensor2d(series(1), [600, 500]);
      const owned = new Map([['w', tf.variable(own)]]);
      own.dispose();
      const shared = new Map([['w', tf.variable(initial)]]);
      const options = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01 };
      const [a, b] = [new AdamW(owned, options), new AdamW(shared, options)];
      const storage = owned.get('w')!.dataSync();
      for (let step = 0; step < 3; step++) {
        const grads = new Map([['w', tf.tensor2d(series(step + 2), [600, 500])]]);
        const scale = step === 1 ? 0.37 : 1;
        a.step(grads, 1e-3, scale);
        b.step(grads, 1e-3, scale);
        tf.dispose([...grads.values()]);
      }
      // Compared as booleans: a failing toBe on 300k-element arrays would spend minutes on its diff.
      expect(owned.get('w')!.dataSync() === storage).toBe(true);
      expect(shared.get('w')!.dataSync() === initial.dataSync()).toBe(false);
      const [x, y] = [owned.get('w')!.dataSync() as Float32Array, shared.get('w')!.dataSync() as Float32Array];
      expect(Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(y.buffer, y.byteOffset, y.byteLength))).toBe(true);
      expect(Array.from(x.slice(0, 5))).not.toEqual(Array.from(series(1).slice(0, 5)));
      tf.dispose([initial, ...owned.values(), ...shared.values()]);
    } finally {
      await initRuntime({ backend: 'cpu', quiet: true });
    }
  });
});

describe('learning-rate schedules', () => {
  it('registers constant, linear and cosine', () => {
    expect(listSchedules().sort()).toEqual(['constant', 'cosine', 'linear']);
    expect(() => getSchedule('step')).toThrow(/unknown learning-rate schedule "step"/);
  });

  it('warms up linearly, then decays as documented', () => {
    const params = { baseLr: 1e-3, warmupSteps: 4, totalSteps: 14 };
    const lr = (name: string, step: number) => learningRate(getSchedule(name), params, step);
    for (const name of ['constant', 'linear', 'cosine']) {
      expect(lr(name, 0)).toBeCloseTo(0.25e-3, 12);
      expect(lr(name, 3)).toBeCloseTo(1e-3, 12);
      expect(lr(name, 4)).toBeCloseTo(1e-3, 12);
    }
    // 10 decay steps: step 4 + j has progress j / 10.
    expect(lr('constant', 13)).toBeCloseTo(1e-3, 12);
    expect(lr('linear', 9)).toBeCloseTo(0.5e-3, 12);
    expect(lr('linear', 13)).toBeCloseTo(0.1e-3, 12);
    expect(lr('cosine', 9)).toBeCloseTo(0.5e-3, 12);
    expect(lr('cosine', 6)).toBeCloseTo(1e-3 * 0.5 * (1 + Math.cos(Math.PI * 0.2)), 12);
  });
});

describe('seeded PRNG', () => {
  it('is reproducible from a seed and from a saved state', () => {
    const a = Prng.fromSeed(42);
    const b = Prng.fromSeed(42);
    const first = Array.from({ length: 5 }, () => a.nextUint32());
    expect(Array.from({ length: 5 }, () => b.nextUint32())).toEqual(first);
    const state = a.state();
    const continued = Array.from({ length: 5 }, () => a.nextUint32());
    const restored = Prng.fromState(state);
    expect(Array.from({ length: 5 }, () => restored.nextUint32())).toEqual(continued);
    expect(Prng.fromSeed(43).nextUint32()).not.toBe(Prng.fromSeed(42).nextUint32());
  });

  it('shuffles uniformly enough (every item lands everywhere)', () => {
    const prng = Prng.fromSeed(1);
    const counts = Array.from({ length: 4 }, () => new Array(4).fill(0));
    for (let trial = 0; trial < 4000; trial++) prng.shuffle([0, 1, 2, 3]).forEach((item, position) => counts[item][position]++);
    for (const row of counts) for (const c of row) expect(c).toBeGreaterThan(850);
  });
});
