// The hand-written gradients of lib/models/fused-ops.ts against tfjs's autodiff of the same
// formulas written as plain ops, and against float64 forward values computed here.
import { beforeAll, describe, expect, test } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initRuntime } from '../lib/runtime/index.ts';
import { maskedSoftmax, rmsNorm, rope, siluGate } from '../lib/models/fused-ops.ts';
import { rotateHalfMatrix } from '../lib/models/rope.ts';
import { MASKED_SOFTMAX, RMS_NORM, RMS_NORM_GRAD, ROPE, ROPE_GRAD, SILU_GATE, SILU_GATE_GRAD, SOFTMAX_GRAD } from '../lib/runtime/kernels/shared/kernel-names.ts';

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

// The native backend runs each block as one fused kernel per direction; with those kernels
// unregistered the same backend runs the op composition. Sizes above 2^18 elements split the
// kernels across threads.
const nativeAvailable = await initRuntime({ backend: 'native', quiet: true }).then(() => true, () => false);

describe.runIf(nativeAvailable)('fused kernels on the native backend', () => {
  const FUSED = [RMS_NORM, RMS_NORM_GRAD, SILU_GATE, SILU_GATE_GRAD, ROPE, ROPE_GRAD, MASKED_SOFTMAX, SOFTMAX_GRAD];
  const [rows, width, headDim] = [260, 1024, 64];
  const big = (seed: number) => tf.tensor2d(values(rows * width, seed), [rows, width]);

  /** Forward values and gradients of every block, as plain arrays. */
  function blocks(): Float32Array[] {
    const [x, w, u, cos, sin, dy] = [big(11), tf.tensor1d(values(width, 12)), big(13), big(14), big(15), big(16)];
    const rotate = tf.tensor2d(rotateHalfMatrix(headDim), [headDim, headDim]);
    // Attention scores [2, 8, 128, 128] with a causal bias shared by the heads.
    const scores = tf.tidy(() => tf.slice(tf.reshape(x, [2, 8, 128, 130]), [0, 0, 0, 0], [2, 8, 128, 128]) as tf.Tensor4D);
    const causal = Float32Array.from({ length: 2 * 128 * 128 }, (_, i) => ((i % 128) > Math.floor(i / 128) % 128 ? -1e9 : Math.sin(i)));
    const bias = tf.tensor4d(causal, [2, 1, 128, 128]);
    const scoresDy = tf.tensor4d(values(2 * 8 * 128 * 128, 17), [2, 8, 128, 128]);
    const loss = (f: (...t: tf.Tensor[]) => tf.Tensor) => (...t: tf.Tensor[]) => tf.sum(tf.mul(f(...t), dy));
    const out = [
      rmsNorm(x, w, EPS),
      ...tf.grads(loss((a, b) => rmsNorm(a as tf.Tensor2D, b as tf.Tensor1D, EPS)))([x, w]),
      siluGate(x, u),
      ...tf.grads(loss((a, b) => siluGate(a as tf.Tensor2D, b as tf.Tensor2D)))([x, u]),
      rope(x, cos, sin, rotate),
      tf.grad(loss((a) => rope(a as tf.Tensor2D, cos, sin, rotate)))(x),
      maskedSoftmax(scores, bias),
      tf.grad((a: tf.Tensor) => tf.sum(tf.mul(maskedSoftmax(a as tf.Tensor4D, bias), scoresDy)))(scores),
    ];
    const arrays = out.map((t) => t.dataSync() as Float32Array);
    tf.dispose([...out, x, w, u, cos, sin, dy, rotate, scores, bias, scoresDy]);
    return arrays;
  }

  test('equal the op composition bit for bit (the norm weight gradient, summed in another order, to 1e-6)', async () => {
    await tf.setBackend('native');
    const before = tf.memory().numTensors;
    const fused = blocks();
    expect(tf.memory().numTensors).toBe(before);
    const configs = FUSED.map((name) => tf.getKernel(name, 'native')!);
    FUSED.forEach((name) => tf.unregisterKernel(name, 'native'));
    let composed: Float32Array[];
    try {
      composed = blocks();
    } finally {
      configs.forEach((config) => tf.registerKernel(config));
    }
    const normWeightGradient = 2;
    fused.forEach((values, i) => {
      expect(values.length).toBe(composed[i].length);
      if (i === normWeightGradient) {
        let worst = 0;
        values.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - composed[i][j]) / (1 + Math.abs(composed[i][j])))));
        expect(worst).toBeLessThan(1e-6);
      } else expect(Buffer.from(values.buffer, values.byteOffset, values.byteLength).equals(Buffer.from(composed[i].buffer, composed[i].byteOffset, composed[i].byteLength))).toBe(true);
    });
  });
});
