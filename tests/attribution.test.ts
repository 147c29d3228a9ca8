import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { getAttributionMethod, attributionMethodNames, type MethodOptions, type ScoringInput } from '../lib/attribution/index.ts';
import { createRandomModel } from '../lib/models/random.ts';
import type { CausalLM } from '../lib/models/types.ts';
import { initRuntime } from '../lib/runtime/index.ts';

let model: CausalLM;
const options: MethodOptions = { padId: 0, batchSize: 4, igSteps: 8, igAggregate: 'l2' };

function seq(length: number, seed: number): number[] {
  return Array.from({ length }, (_, i) => 1 + ((i * 37 + seed * 11) % 120));
}

/** Samples of different lengths: prompt = first half, targets = second half, scored = prompt tokens after the first. */
function inputs(): ScoringInput[] {
  return [9, 14, 6, 11].map((length, k) => {
    const ids = seq(length, k);
    const half = Math.floor(length / 2);
    const targets = Array.from({ length: length - half }, (_, i) => half + i);
    const scored = Array.from({ length: half - 1 }, (_, i) => 1 + i);
    return {
      ids,
      targets,
      scored,
      // occlusion units: drop one scored token each
      occlusionUnits: scored.map((t) => ({ tokens: [t], variant: { ids: ids.filter((_, i) => i !== t), targets: targets.map((x) => x - 1) } })),
    };
  });
}

/** Mean target NLL from the full logits (an independent path: log-softmax over all positions, no row selection). */
function referenceLoss(lm: CausalLM, embeds: tf.Tensor3D, input: { ids: number[]; targets: number[] }): tf.Scalar {
  const logp = tf.logSoftmax(lm.forwardEmbeds(embeds).logits);
  const picked = input.targets.map((t) => tf.slice(logp, [0, t - 1, input.ids[t]], [1, 1, 1]));
  return tf.neg(tf.mean(tf.concat(picked.map((p) => tf.reshape(p, [1]))))) as tf.Scalar;
}

function referenceGrad(lm: CausalLM, input: { ids: number[]; targets: number[] }, scale?: tf.Tensor3D) {
  return tf.tidy(() => {
    const embeds = lm.embed(tf.tensor2d([input.ids], undefined, 'int32'));
    const at = scale ? (tf.mul(embeds, scale) as tf.Tensor3D) : embeds;
    const { value, grad } = tf.valueAndGrad((x: tf.Tensor3D) => referenceLoss(lm, x, input))(at);
    return { loss: value.dataSync()[0], grad: (grad.arraySync() as number[][][])[0], embeds: (embeds.arraySync() as number[][][])[0] };
  });
}

function referenceLossOnly(lm: CausalLM, input: { ids: number[]; targets: number[] }): number {
  return tf.tidy(() => referenceLoss(lm, lm.embed(tf.tensor2d([input.ids], undefined, 'int32')), input).dataSync()[0]);
}

const l2 = (v: number[]) => Math.sqrt(v.reduce((a, x) => a + x * x, 0));
const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i], 0);

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number) {
  expect(actual.length).toBe(expected.length);
  const scale = Math.max(...Array.from(expected, Math.abs), 1e-12);
  for (let i = 0; i < expected.length; i++) expect(Math.abs(actual[i] - expected[i]) / scale).toBeLessThanOrEqual(tolerance);
}

beforeAll(async () => {
  await initRuntime({ backend: 'cpu', quiet: true });
  model = createRandomModel({ modelType: 'llama', vocabSize: 128, hiddenSize: 32, numLayers: 2, numHeads: 4, numKvHeads: 2, intermediateSize: 64 }, 7, { initStd: 0.2 });
});

describe('attribution methods', () => {
  it('are registered', () => expect(attributionMethodNames()).toEqual(['grad-l2', 'grad-x-input', 'integrated-gradients', 'occlusion', 'contrastive']));

  it('grad-l2 = ‖∂ℓ/∂e_i‖ and the loss of an independent full-logits computation', () => {
    const input = inputs()[1];
    const [result] = getAttributionMethod('grad-l2').score(model, [input], options);
    const ref = referenceGrad(model, input);
    expect(result.loss).toBeCloseTo(ref.loss, 5);
    expectClose(result.scores, ref.grad.map(l2), 1e-4);
  });

  it('grad-x-input = |⟨∂ℓ/∂e_i, e_i⟩|', () => {
    const input = inputs()[0];
    const [result] = getAttributionMethod('grad-x-input').score(model, [input], options);
    const ref = referenceGrad(model, input);
    expectClose(result.scores, ref.grad.map((g, i) => Math.abs(dot(g, ref.embeds[i]))), 1e-4);
  });

  it('integrated gradients = embedding × mean gradient along the scaled path (midpoint rule)', () => {
    const input = inputs()[2];
    const steps = 4;
    const [result] = getAttributionMethod('integrated-gradients').score(model, [input], { ...options, igSteps: steps, igAggregate: 'sum' });
    const mask = Array.from({ length: input.ids.length }, (_, i) => (input.scored.includes(i) ? 1 : 0));
    const total = input.ids.map(() => new Array(32).fill(0));
    let embeds: number[][] = [];
    for (let s = 0; s < steps; s++) {
      const alpha = (s + 0.5) / steps;
      const scale = tf.tensor3d([mask.map((m) => new Array(32).fill(m ? alpha : 1))]);
      const ref = referenceGrad(model, input, scale);
      scale.dispose();
      embeds = ref.embeds;
      ref.grad.forEach((g, i) => g.forEach((v, d) => (total[i][d] += v / steps)));
    }
    const expected = total.map((g, i) => (mask[i] ? Math.abs(dot(g, embeds[i])) : 0));
    expectClose(result.scores, expected, 1e-4);
  });

  it('integrated gradients is complete: attributions of one token sum to the loss change when it is zeroed', () => {
    // RMSNorm makes the path from a zero embedding nearly a step at α ≈ sqrt(eps)/rms(e); a large
    // eps makes it smooth enough for a 64-step Riemann sum to be accurate.
    const smooth = createRandomModel({ modelType: 'llama', vocabSize: 128, hiddenSize: 32, numLayers: 2, numHeads: 4, numKvHeads: 2, intermediateSize: 64, normEps: 1 }, 3, { initStd: 0.5 });
    const input = { ...inputs()[1], scored: [2] };
    const [result] = getAttributionMethod('integrated-gradients').score(smooth, [input], { ...options, igSteps: 64, igAggregate: 'sum' });
    const zeroed = tf.tidy(() => {
      const embeds = smooth.embed(tf.tensor2d([input.ids], undefined, 'int32'));
      const mask = tf.tensor3d([input.ids.map((_, i) => new Array(32).fill(i === 2 ? 0 : 1))]);
      return referenceLoss(smooth, tf.mul(embeds, mask) as tf.Tensor3D, input).dataSync()[0];
    });
    smooth.dispose();
    const change = Math.abs(result.loss - zeroed);
    expect(change).toBeGreaterThan(1e-3);
    expect(Math.abs(result.scores[2] - change) / change).toBeLessThan(0.01);
  });

  it('occlusion = |ℓ(without the unit) − ℓ|, 0 for tokens no unit covers', () => {
    const input = inputs()[0];
    const [result] = getAttributionMethod('occlusion').score(model, [input], options);
    const base = referenceLossOnly(model, input);
    const expected = input.ids.map(() => 0);
    for (const unit of input.occlusionUnits!) expected[unit.tokens[0]] = Math.abs(referenceLossOnly(model, unit.variant) - base);
    expectClose(result.scores, expected, 1e-4);
  });

  it('contrastive: scorePair is batch-independent, leaks no tensors, and finds no positive contrast when teacher = student', () => {
    const method = getAttributionMethod('contrastive');
    // Word units (one token each) and a phrase over the first two scored tokens; without() drops any set of them.
    const pairs = inputs().map((input) => {
      const units = [...input.scored.map((t) => ({ kind: 'word' as const, tokens: [t] })), { kind: 'phrase' as const, tokens: input.scored.slice(0, 2) }];
      const without = (removed: number[]) => {
        const gone = new Set(removed.flatMap((u) => units[u].tokens));
        const ids = input.ids.filter((_, i) => !gone.has(i));
        return { ids, targets: input.targets.map((t) => t - gone.size) };
      };
      const prepared = { ...input, occlusionUnits: units.map((u, k) => ({ ...u, variant: without([k]) })), without };
      return { teacher: prepared, student: prepared };
    });
    const pairOptions = { ...options, teacherPadId: 0, studentPadId: 0 };
    const batched = method.scorePair!(model, model, pairs, pairOptions);
    const before = tf.memory().numTensors;
    const single = pairs.map((pair) => method.scorePair!(model, model, [pair], pairOptions));
    expect(tf.memory().numTensors).toBe(before);
    pairs.forEach((_, b) => {
      for (const role of ['teacher', 'student'] as const)
        for (let i = 0; i < single[b][role][0].scores.length; i++) expect(Math.abs(batched[role][b].scores[i] - single[b][role][0].scores[i])).toBeLessThanOrEqual(1e-5);
      // Same model on both sides: every unit changes both losses equally, so no token is scored as
      // needed more by the student (the teacher side can be higher: a word keeps its phrase's teacher need).
      batched.teacher[b].scores.forEach((t, i) => expect(t).toBeGreaterThanOrEqual(batched.student[b].scores[i]));
      expect(batched.student[b].scores.some((x) => x > 0)).toBe(true);
    });
  });

  for (const name of ['grad-l2', 'grad-x-input', 'integrated-gradients', 'occlusion']) {
    it(`${name}: batched = unbatched (≤ 1e-5), and no tensors leak`, () => {
      const method = getAttributionMethod(name);
      const all = inputs();
      const batched = method.score(model, all, options);
      const before = tf.memory().numTensors;
      const single = all.map((input) => method.score(model, [input], options)[0]);
      expect(tf.memory().numTensors).toBe(before);
      all.forEach((_, b) => {
        expect(Math.abs(batched[b].loss - single[b].loss)).toBeLessThanOrEqual(1e-5);
        for (let i = 0; i < single[b].scores.length; i++) expect(Math.abs(batched[b].scores[i] - single[b].scores[i])).toBeLessThanOrEqual(1e-5);
      });
    });
  }

  it('rejects a target at position 0 and an empty target set', () => {
    const method = getAttributionMethod('grad-l2');
    expect(() => method.score(model, [{ ids: [1, 2, 3], targets: [0], scored: [] }], options)).toThrow(/first token cannot be a target/);
    expect(() => method.score(model, [{ ids: [1, 2, 3], targets: [], scored: [] }], options)).toThrow(/no response tokens to score/);
  });
});
