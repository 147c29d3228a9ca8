import * as tf from '@tensorflow/tfjs-core';
import { embeddingGradients, responseNll } from '../models/loss.ts';
import { ensureGradients } from '../runtime/gradients.ts';
import type { CausalLM } from '../models/types.ts';
import type { LossInput } from './types.ts';

ensureGradients();

/**
 * A right-padded batch in the form lib/models' loss functions take. Right padding keeps every real
 * token's positions and attention unchanged (it never attends to the padding after it), which is
 * why a sample's scores do not depend on its batch.
 */
export interface PaddedInputs {
  ids: number[][];
  targetMask: number[][];
  attentionMask: number[][];
  lengths: number[];
}

export function padInputs(inputs: LossInput[], padId: number): PaddedInputs {
  if (inputs.length === 0) throw new Error('padInputs: empty batch');
  const lengths = inputs.map((x) => x.ids.length);
  const width = Math.max(...lengths);
  const ids = inputs.map((x) => [...x.ids, ...new Array<number>(width - x.ids.length).fill(padId)]);
  const attentionMask = inputs.map((x) => Array.from({ length: width }, (_, t) => (t < x.ids.length ? 1 : 0)));
  const targetMask = inputs.map((x) => {
    const row = new Array<number>(width).fill(0);
    for (const t of x.targets) {
      if (!Number.isInteger(t) || t < 0 || t >= x.ids.length) throw new Error(`target token index ${t} is outside the sample's ${x.ids.length} tokens`);
      row[t] = 1;
    }
    return row;
  });
  return { ids, targetMask, attentionMask, lengths };
}

/** Forward-only losses of many samples, in sub-batches of at most batchSize (length-sorted buckets). */
export function losses(model: CausalLM, inputs: LossInput[], padId: number, batchSize: number): Float32Array {
  const out = new Float32Array(inputs.length);
  const order = inputs.map((_, i) => i).sort((a, b) => inputs[a].ids.length - inputs[b].ids.length);
  for (let start = 0; start < order.length; start += batchSize) {
    const chunk = order.slice(start, start + batchSize);
    const padded = padInputs(chunk.map((i) => inputs[i]), padId);
    const values = responseNll(model, padded.ids, padded.targetMask, padded.attentionMask);
    chunk.forEach((i, k) => (out[i] = values[k]));
  }
  return out;
}

/** Split a [B, T] per-position tensor into one array per sample, cut to the sample's length. */
export function perSample(values: tf.Tensor2D, lengths: number[]): Float32Array[] {
  const data = values.dataSync() as Float32Array;
  const width = values.shape[1];
  return lengths.map((length, b) => data.slice(b * width, b * width + length));
}

/**
 * Per-token scores from one gradient pass: `reduce` turns the embedding gradient and the embeddings
 * ([B, T, D] each) into [B, T] scores. Returns the scores and loss of every sample.
 */
export function gradientScores(
  model: CausalLM,
  inputs: LossInput[],
  padId: number,
  reduce: (grad: tf.Tensor3D, embeds: tf.Tensor3D) => tf.Tensor2D,
): { scores: Float32Array; loss: number }[] {
  const padded = padInputs(inputs, padId);
  const embeds = tf.tidy(() => model.embed(tf.tensor2d(padded.ids, undefined, 'int32')));
  try {
    const { grad, nll } = embeddingGradients(model, padded.ids, padded.targetMask, padded.attentionMask, embeds);
    const scores = tf.tidy(() => reduce(grad, embeds));
    grad.dispose();
    const perToken = perSample(scores, padded.lengths);
    scores.dispose();
    return perToken.map((s, b) => ({ scores: s, loss: nll[b] }));
  } finally {
    embeds.dispose();
  }
}
