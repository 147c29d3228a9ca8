import * as tf from '@tensorflow/tfjs-core';
import { embeddingGradients, responseNll } from '../models/loss.ts';
import { ensureGradients } from '../runtime/gradients.ts';
import type { CausalLM, KVCache } from '../models/types.ts';
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

/**
 * Forward-only losses of `inputs` in one batch, keeping their keys and values so that variants of
 * them can be scored from where they differ (`variantLosses`). The caller disposes the cache.
 */
export function cachedLosses(model: CausalLM, inputs: LossInput[], padId: number): { losses: Float32Array; cache: KVCache } {
  const padded = padInputs(inputs, padId);
  const cache = model.createCache();
  try {
    return { losses: Float32Array.from(responseNll(model, padded.ids, padded.targetMask, padded.attentionMask, cache)), cache };
  } catch (error) {
    cache.dispose();
    throw error;
  }
}

/** A text derived from cached text `of` (a row of the cache given with it). */
export interface Variant {
  of: number;
  input: LossInput;
}

/**
 * Forward-only losses of variants of cached texts (`cachedLosses`), each computed from its first
 * token that differs from its source: the shared start's keys and values are the cached ones, so a
 * text shortened near its end costs the positions after the cut, not the whole text. In
 * sub-batches of at most batchSize, bucketed by the length computed.
 */
export function variantLosses(model: CausalLM, cache: KVCache, sources: LossInput[], variants: Variant[], padId: number, batchSize: number): Float32Array {
  const shared = variants.map(({ of, input }) => {
    const source = sources[of].ids;
    // The token before the first target must be computed here: its output predicts that target.
    const limit = Math.min(source.length, Math.min(...input.targets) - 1);
    let n = 0;
    while (n < limit && input.ids[n] === source[n]) n++;
    return n;
  });
  const suffix = variants.map(({ input }, k) => ({ ids: input.ids.slice(shared[k]), targets: input.targets.map((t) => t - shared[k]) }));
  const out = new Float32Array(variants.length);
  const order = variants.map((_, k) => k).sort((a, b) => suffix[a].ids.length - suffix[b].ids.length);
  for (let start = 0; start < order.length; start += batchSize) {
    const chunk = order.slice(start, start + batchSize);
    const padded = padInputs(chunk.map((k) => suffix[k]), padId);
    const past = Math.max(...chunk.map((k) => shared[k])) > 0 ? cache.prefixes(chunk.map((k) => variants[k].of), chunk.map((k) => shared[k])) : undefined;
    try {
      const values = responseNll(model, padded.ids, padded.targetMask, padded.attentionMask, past);
      chunk.forEach((k, i) => (out[k] = values[i]));
    } finally {
      past?.dispose();
    }
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
 * ([B, T, D] each) into [B, T] scores. Returns the scores and loss of every sample. With a cache,
 * the pass also keeps the batch's keys and values in it, as `cachedLosses` does.
 */
export function gradientScores(
  model: CausalLM,
  inputs: LossInput[],
  padId: number,
  reduce: (grad: tf.Tensor3D, embeds: tf.Tensor3D) => tf.Tensor2D,
  cache?: KVCache,
): { scores: Float32Array; loss: number }[] {
  const padded = padInputs(inputs, padId);
  const embeds = tf.tidy(() => model.embed(tf.tensor2d(padded.ids, undefined, 'int32')));
  try {
    const { grad, nll } = embeddingGradients(model, padded.ids, padded.targetMask, padded.attentionMask, embeds, cache);
    const scores = tf.tidy(() => reduce(grad, embeds));
    grad.dispose();
    const perToken = perSample(scores, padded.lengths);
    scores.dispose();
    return perToken.map((s, b) => ({ scores: s, loss: nll[b] }));
  } finally {
    embeds.dispose();
  }
}
