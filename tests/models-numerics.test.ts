// Numerics acceptance: logits and ‖∂ℓ/∂e_i‖ of the mean response NLL against an independent
// float64 PyTorch reference (tests/fixtures/numerics/gen.py), on every backend leaf offers.
// The reference is computed one sample at a time without padding; here the samples run as one
// batch with left and right padding, so padding invariance is checked at the same time.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initRuntime } from '../lib/runtime/index.ts';
import { embeddingGradNorms, loadModel, type CausalLM } from '../lib/models/index.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'numerics');
const TOLERANCE = 1e-4;

interface ExpectedSample {
  ids: number[];
  targetMask: number[];
  logits: number[][];
  gradNorms: number[];
  nll: number;
}
const expected = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8')) as { cases: Record<string, ExpectedSample[]> };

/**
 * max_i |a_i − b_i| / max(|b_i|, 1e-2 · max_j |b_j|): relative where the reference is not tiny,
 * absolute against the array's scale where it is (exact zeros in gradient norms, near-zero logits).
 */
function maxRelativeError(actual: number[], reference: number[]): number {
  const scale = Math.max(...reference.map(Math.abs));
  const floor = 1e-2 * scale;
  let worst = 0;
  reference.forEach((b, i) => {
    worst = Math.max(worst, Math.abs(actual[i] - b) / Math.max(Math.abs(b), floor, Number.MIN_VALUE));
  });
  return worst;
}

/** Sample 0 unpadded, sample 1 left-padded, the rest right-padded, to one width. */
function padBatch(samples: ExpectedSample[], padId: number) {
  const width = Math.max(...samples.map((s) => s.ids.length));
  const offsets = samples.map((s, b) => (b === 1 ? width - s.ids.length : 0));
  const place = <T>(values: T[], b: number, fill: T) => {
    const row = new Array<T>(width).fill(fill);
    values.forEach((v, i) => (row[offsets[b] + i] = v));
    return row;
  };
  return {
    offsets,
    ids: samples.map((s, b) => place(s.ids, b, padId)),
    targetMask: samples.map((s, b) => place(s.targetMask, b, 0)),
    attentionMask: samples.map((s, b) => place(s.ids.map(() => 1), b, 0)),
  };
}

// A backend may be skipped only when the environment says it is legitimately absent on this
// machine (e.g. CI without OpenBLAS: LEAF_ABSENT_BACKENDS=native); otherwise failing to load fails.
const absent = new Set((process.env.LEAF_ABSENT_BACKENDS ?? '').split(',').filter(Boolean));
const BACKENDS = ['cpu', 'native', 'wasm'] as const;

describe.each(BACKENDS)('numerics on %s', (backend) => {
  let ready: Promise<void> | undefined;
  const activate = () => (ready ??= initRuntime({ backend, quiet: true }).then(() => undefined));
  const skip = absent.has(backend);

  test.skipIf(skip)('backend loads', async () => {
    await activate();
  });

  for (const [name, samples] of Object.entries(expected.cases)) {
    test.skipIf(skip)(`${name}: logits and embedding-gradient norms match the float64 reference`, async () => {
      await activate();
      const model: CausalLM = await loadModel(join(FIXTURES, name));
      try {
        const batch = padBatch(samples, model.config.vocabSize - 1);
        const logits = tf.tidy(() =>
          model.forward(tf.tensor2d(batch.ids, undefined, 'int32'), { attentionMask: tf.tensor2d(batch.attentionMask, undefined, 'int32') }).logits,
        );
        const logitRows = logits.arraySync() as number[][][];
        logits.dispose();
        const { norms, nll } = embeddingGradNorms(model, batch.ids, batch.targetMask, batch.attentionMask);

        samples.forEach((sample, b) => {
          const real = sample.ids.map((_, i) => batch.offsets[b] + i);
          const logitError = maxRelativeError(real.flatMap((p) => logitRows[b][p]), sample.logits.flat());
          const gradError = maxRelativeError(real.map((p) => norms[b][p]), sample.gradNorms);
          expect(logitError, `sample ${b} logits`).toBeLessThanOrEqual(TOLERANCE);
          expect(gradError, `sample ${b} gradient norms`).toBeLessThanOrEqual(TOLERANCE);
          expect(Math.abs(nll[b] - sample.nll) / sample.nll, `sample ${b} nll`).toBeLessThanOrEqual(TOLERANCE);
          // Padding never receives gradient: it cannot influence a real token.
          norms[b].forEach((value, p) => {
            if (batch.attentionMask[b][p] === 0) expect(value).toBe(0);
          });
        });
      } finally {
        model.dispose();
      }
    });
  }
});

describe('relative error measure', () => {
  test('is relative above the floor and absolute below it', () => {
    expect(maxRelativeError([1.001, 100], [1, 100])).toBeCloseTo(1e-3, 9);
    expect(maxRelativeError([0.5], [1])).toBeCloseTo(0.5, 12);
    // 1e-6 off a zero, on an array of scale 10: floor 0.1 → 1e-5
    expect(maxRelativeError([1e-6, 10], [0, 10])).toBeCloseTo(1e-5, 12);
  });
});
