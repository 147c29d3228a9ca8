// The hand-written gradients of lib/models/fused-ops.ts against tfjs's autodiff of the same
// formulas written as plain ops, and against float64 forward values computed here.
import { beforeAll, describe, expect, test } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initRuntime } from '../lib/runtime/index.ts';
import { rmsNorm, siluGate } from '../lib/models/fused-ops.ts';

beforeAll(async () => {
  await initRuntime({ backend: 'cpu', quiet: true });
});

const N = 5;
const D = 12;
const EPS = 1e-5;
const values = (count: number, seed: number) => Array.from({ length: count }, (_, i) => Math.sin(seed * 7.1 + i * 1.7) * 1.5);

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))));
  const value = diff.dataSync()[0];
  diff.dispose();
  return value;
}

describe('rmsNorm', () => {
  test('forward matches a float64 computation', () => {
    const x = values(N * D, 1);
    const w = values(D, 2);
    const y = rmsNorm(tf.tensor2d(x, [N, D]), tf.tensor1d(w), EPS);
    const got = y.dataSync();
    for (let n = 0; n < N; n++) {
      const row = x.slice(n * D, (n + 1) * D);
      const r = 1 / Math.sqrt(row.reduce((s, v) => s + v * v, 0) / D + EPS);
      row.forEach((v, d) => expect(got[n * D + d]).toBeCloseTo(v * r * w[d], 5));
    }
    y.dispose();
  });

  test('gradients for x and weight equal autodiff of the op composition', () => {
    const before = tf.memory().numTensors;
    const x = tf.tensor2d(values(N * D, 3), [N, D]);
    const w = tf.tensor1d(values(D, 4));
    const upstream = tf.tensor2d(values(N * D, 5), [N, D]);
    const reference = (a: tf.Tensor, b: tf.Tensor) => tf.mul(tf.mul(a, tf.rsqrt(tf.add(tf.mean(tf.mul(a, a), -1, true), EPS))), b);
    const fused = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(rmsNorm(a as tf.Tensor2D, b as tf.Tensor1D, EPS), upstream)))([x, w]);
    const plain = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(reference(a, b), upstream)))([x, w]);
    expect(maxAbsDiff(fused[0], plain[0])).toBeLessThan(1e-5);
    expect(maxAbsDiff(fused[1], plain[1])).toBeLessThan(1e-5);
    tf.dispose([x, w, upstream, ...fused, ...plain]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('siluGate', () => {
  test('forward matches a float64 computation', () => {
    const g = values(N * D, 6);
    const u = values(N * D, 7);
    const y = siluGate(tf.tensor2d(g, [N, D]), tf.tensor2d(u, [N, D]));
    const got = y.dataSync();
    g.forEach((v, i) => expect(got[i]).toBeCloseTo((v / (1 + Math.exp(-v))) * u[i], 5));
    y.dispose();
  });

  test('gradients for gate and up equal autodiff of the op composition', () => {
    const before = tf.memory().numTensors;
    const g = tf.tensor2d(values(N * D, 8), [N, D]);
    const u = tf.tensor2d(values(N * D, 9), [N, D]);
    const upstream = tf.tensor2d(values(N * D, 10), [N, D]);
    const fused = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(siluGate(a as tf.Tensor2D, b as tf.Tensor2D), upstream)))([g, u]);
    const plain = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.mul(tf.mul(a, tf.sigmoid(a)), b), upstream)))([g, u]);
    expect(maxAbsDiff(fused[0], plain[0])).toBeLessThan(1e-5);
    expect(maxAbsDiff(fused[1], plain[1])).toBeLessThan(1e-5);
    tf.dispose([g, u, upstream, ...fused, ...plain]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
