// Weights held in their stored 16-bit dtype: the native half GEMM against float32 matMul, a small
// random BF16/F16 checkpoint held as stored against the same checkpoint widened to float32 on load
// (logits and ‖∂ℓ/∂e_i‖, the attribution LeaF uses), and the refusals for what cannot be read.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initRuntime } from '../lib/runtime/index.ts';
import { createRandomModel, embeddingGradNorms, loadDecoder, writeRandomCheckpoint } from '../lib/models/index.ts';
import { HalfMatrix, halfMatMul } from '../lib/models/half.ts';
import { f32ToBf16, f32ToF16, bf16ToF32, f16ToF32 } from '../lib/models/float16.ts';
import { seededNormal } from '../lib/models/random.ts';

/**
 * Measured tolerance of attributions from 16-bit-held weights vs the same checkpoint in float32
 * (README, "Memory"): both multiply exactly the same widened values, so only float32 summation
 * order differs. Measured worst relative error here ≈ 1e-6; the bound leaves room for other BLAS builds.
 */
export const HELD_VS_FLOAT32_TOLERANCE = 1e-4;

const QWEN = {
  model_type: 'qwen2', vocab_size: 300, hidden_size: 64, intermediate_size: 160, num_hidden_layers: 2, num_attention_heads: 4,
  num_key_value_heads: 2, max_position_embeddings: 128, rms_norm_eps: 1e-6, rope_theta: 10000, tie_word_embeddings: false,
};

const root = mkdtempSync(join(tmpdir(), 'leaf-half-'));
let native = true;
beforeAll(async () => {
  try {
    await initRuntime({ backend: 'native', quiet: true });
  } catch {
    native = false;
  }
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function randomArray(n: number, seed: number): Float32Array {
  const normal = seededNormal(seed);
  return Float32Array.from({ length: n }, () => normal());
}

function maxRelative(actual: ArrayLike<number>, reference: ArrayLike<number>): number {
  let scale = 0;
  for (let i = 0; i < reference.length; i++) scale = Math.max(scale, Math.abs(reference[i]));
  let worst = 0;
  for (let i = 0; i < reference.length; i++) worst = Math.max(worst, Math.abs(actual[i] - reference[i]) / Math.max(Math.abs(reference[i]), 1e-2 * scale));
  return worst;
}

describe('half GEMM (native)', () => {
  // 2101 × 2048 is just over one 4M-element panel (src/half.c's PANEL_ELEMENTS): two panels of
  // unequal height, so panel seams and the accumulation over panels are crossed in both orientations.
  test.each([
    ['BF16', 2101, 2048],
    ['F16', 2101, 2048],
    ['F16', 37, 53],
  ] as const)('%s %i×%i: forward and input gradient equal float32 matMul on the widened weight', (dtype, rows, cols) => {
    if (!native) return;
    const stored = dtype === 'BF16' ? f32ToBf16(randomArray(rows * cols, 1)) : f32ToF16(randomArray(rows * cols, 1));
    const widened = dtype === 'BF16' ? bf16ToF32(stored) : f16ToF32(stored);
    const half = new HalfMatrix(dtype, [rows, cols], stored, false);
    const w = tf.tensor2d(widened, [rows, cols]);
    for (const transpose of [true, false]) {
      const x = tf.tensor2d(randomArray(5 * (transpose ? cols : rows), 2), [5, transpose ? cols : rows]);
      const r = tf.tensor2d(randomArray(5 * (transpose ? rows : cols), 3), [5, transpose ? rows : cols]);
      const heldGrad = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(halfMatMul(input as tf.Tensor2D, half, transpose), r)))(x);
      const floatGrad = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(tf.matMul(input, w, false, transpose), r)))(x);
      expect(maxRelative(halfMatMul(x, half, transpose).dataSync(), tf.matMul(x, w, false, transpose).dataSync())).toBeLessThan(1e-4);
      expect(maxRelative(heldGrad.dataSync(), floatGrad.dataSync())).toBeLessThan(1e-4);
      tf.dispose([x, r, heldGrad, floatGrad]);
    }
    w.dispose();
  });
});

describe.each(['BF16', 'F16'] as const)('%s checkpoint held as stored', (dtype) => {
  const dir = join(root, dtype);
  beforeAll(() => {
    // Sharded, so mapping goes file by file.
    writeRandomCheckpoint(dir, QWEN, 7, { dtype, maxShardBytes: 60_000, initStd: 0.05 });
  });

  test('matches the same checkpoint widened to float32 within the stated tolerance', () => {
    if (!native) return;
    const held = loadDecoder(dir);
    const widened = loadDecoder(dir, { hold: 'float32' });
    try {
      expect(held.heldDtype).toBe(dtype);
      expect(widened.heldDtype).toBe('F32');
      // Every matrix is held in 16 bits; only norms and biases became variables.
      expect([...held.weights.values()].every((v) => v.rank === 1)).toBe(true);
      const ids = [[3, 17, 42, 9, 250, 11, 5, 77], [8, 8, 120, 4, 2, 299, 1, 0]];
      const targetMask = [[0, 0, 0, 1, 1, 1, 1, 1], [0, 0, 1, 1, 1, 1, 1, 0]];
      const attentionMask = [[1, 1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1, 0]];
      const a = embeddingGradNorms(held, ids, targetMask, attentionMask);
      const b = embeddingGradNorms(widened, ids, targetMask, attentionMask);
      expect(maxRelative(a.norms.flat(), b.norms.flat())).toBeLessThan(HELD_VS_FLOAT32_TOLERANCE);
      expect(maxRelative(a.nll, b.nll)).toBeLessThan(HELD_VS_FLOAT32_TOLERANCE);
      const logits = tf.tidy(() => {
        const input = tf.tensor2d(ids, undefined, 'int32');
        return [held.forward(input).logits.dataSync(), widened.forward(input).logits.dataSync()];
      });
      expect(maxRelative(logits[0], logits[1])).toBeLessThan(HELD_VS_FLOAT32_TOLERANCE);
    } finally {
      held.dispose();
      widened.dispose();
    }
  });

  test('recomputing layers in the backward pass gives the same attributions and leaks no tensors', () => {
    if (!native) return;
    const model = loadDecoder(dir);
    try {
      const ids = [[3, 17, 42, 9, 250, 11], [8, 8, 120, 4, 2, 299]];
      const targetMask = [[0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 1, 0]];
      const attentionMask = [[1, 1, 1, 1, 1, 1], [0, 1, 1, 1, 1, 1]];
      const kept = embeddingGradNorms(model, ids, targetMask, attentionMask);
      model.recomputeLayers = true;
      const before = tf.memory().numTensors;
      const recomputed = embeddingGradNorms(model, ids, targetMask, attentionMask);
      expect(tf.memory().numTensors).toBe(before);
      expect(maxRelative(recomputed.norms.flat(), kept.norms.flat())).toBeLessThan(1e-5);
      expect(recomputed.nll).toEqual(kept.nll);
    } finally {
      model.dispose();
    }
  });

  test('no tensors are left behind by a held model', () => {
    if (!native) return;
    const before = tf.memory().numTensors;
    const model = loadDecoder(dir);
    embeddingGradNorms(model, [[1, 2, 3, 4]], [[0, 0, 1, 1]]);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('refusals', () => {
  test('recomputing layers is refused for a trainable model (it would drop weight gradients)', () => {
    const model = createRandomModel({ modelType: 'qwen2' }, 1, { trainable: true });
    model.recomputeLayers = true;
    expect(() => embeddingGradNorms(model, [[1, 2, 3]], [[0, 1, 1]])).toThrow(/recomputeLayers needs a frozen model/);
    model.dispose();
  });

  test('an unsupported stored dtype is named with its tensor', () => {
    const dir = join(root, 'int');
    writeRandomCheckpoint(dir, QWEN, 1, { dtype: 'F32' });
    const file = join(dir, 'model.safetensors');
    const bytes = readFileSync(file);
    const length = Number(bytes.readBigUInt64LE(0));
    const header = JSON.parse(bytes.subarray(8, 8 + length).toString('utf8')) as Record<string, { dtype: string }>;
    header['model.layers.1.mlp.up_proj.weight'].dtype = 'I32'; // same width as F32, so the file stays valid
    let json = JSON.stringify(header);
    json += ' '.repeat(length - Buffer.byteLength(json));
    writeFileSync(file, Buffer.concat([bytes.subarray(0, 8), Buffer.from(json), bytes.subarray(8 + length)]));
    expect(() => loadDecoder(dir)).toThrow(/tensor "model\.layers\.1\.mlp\.up_proj\.weight" is stored as I32/);
  });

  test('a quantised checkpoint is refused by its config', () => {
    const dir = join(root, 'quantised');
    writeRandomCheckpoint(dir, QWEN, 1);
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, quantization_config: { quant_method: 'gptq' } }));
    expect(() => loadDecoder(dir)).toThrow(/quantised .*gptq/);
  });

  test('off the native backend, 16-bit weights are widened on load and holding them as stored is refused', async () => {
    const dir = join(root, 'BF16');
    await initRuntime({ backend: 'cpu', quiet: true });
    try {
      const model = loadDecoder(dir);
      expect(model.heldDtype).toBe('F32');
      model.dispose();
      expect(() => loadDecoder(dir, { hold: 'stored' })).toThrow(/only on the native backend/);
    } finally {
      if (native) await initRuntime({ backend: 'native', quiet: true });
    }
  });
});
