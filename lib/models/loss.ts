// Mean response NLL and its gradient with respect to the input embeddings (the saliency signal).
// The logit at position i−1 predicts token i, so a supervised token i is scored on row i−1.
// The batch loss is the SUM of per-sample means: each sample's gradient equals its unbatched one.
import * as tf from '@tensorflow/tfjs-core';
import type { CausalLM, KVCache } from './types.ts';
import { LOG_SUM_EXP_ROWS, SOFTMAX_SCALE_ROWS } from '../runtime/kernels/shared/kernel-names.ts';

export interface ResponseTargets {
  /** Flat rows b·T + (i−1) that predict a supervised token i. */
  rows: Int32Array;
  /** The token each row predicts. */
  targets: Int32Array;
  /** 1 / (number of supervised tokens of the row's sample). */
  weights: Float32Array;
  /** Sample index of each row. */
  samples: Int32Array;
  batch: number;
}

/** Validate a padded batch and list the rows that predict supervised tokens. */
export function responseTargets(ids: number[][], targetMask: number[][], attentionMask: number[][] | undefined, vocabSize: number): ResponseTargets {
  const batch = ids.length;
  if (batch === 0) throw new Error('empty batch');
  const length = ids[0].length;
  const rows: number[] = [];
  const targets: number[] = [];
  const samples: number[] = [];
  const counts = new Array<number>(batch).fill(0);
  for (let b = 0; b < batch; b++) {
    if (ids[b].length !== length) throw new Error(`sample ${b}: ${ids[b].length} ids, expected ${length} (pad the batch to one length)`);
    if (targetMask[b]?.length !== length) throw new Error(`sample ${b}: targetMask has ${targetMask[b]?.length} entries, expected ${length}`);
    if (attentionMask && attentionMask[b]?.length !== length) throw new Error(`sample ${b}: attentionMask has ${attentionMask[b]?.length} entries, expected ${length}`);
    for (let i = 0; i < length; i++) {
      const id = ids[b][i];
      if (!Number.isInteger(id) || id < 0 || id >= vocabSize) throw new Error(`sample ${b}, position ${i}: token id ${id} is outside the vocabulary [0, ${vocabSize})`);
      if (targetMask[b][i] !== 1) continue;
      if (i === 0) throw new Error(`sample ${b}: the first token cannot be a target (no position predicts it)`);
      if (attentionMask && (attentionMask[b][i] !== 1 || attentionMask[b][i - 1] !== 1)) {
        throw new Error(`sample ${b}, position ${i}: a target token and the token before it must not be padding`);
      }
      rows.push(b * length + i - 1);
      targets.push(id);
      samples.push(b);
      counts[b]++;
    }
  }
  counts.forEach((count, b) => {
    if (count === 0) throw new Error(`sample ${b} has no response tokens to score (targetMask is all 0)`);
  });
  return {
    rows: Int32Array.from(rows),
    targets: Int32Array.from(targets),
    weights: Float32Array.from(samples, (b) => 1 / counts[b]),
    samples: Int32Array.from(samples),
    batch,
  };
}

/**
 * Loss from input embeddings: `loss` = Σ_samples mean NLL (scalar, differentiable), `rowNll` the NLL
 * of every supervised row. Only supervised rows go through the LM head (the vocabulary-wide matMul
 * dominates small models); the target logit is a dot product with the target's head row, so no
 * [rows, vocab] one-hot is ever built.
 */
export function responseLossFromEmbeds(
  model: CausalLM,
  inputsEmbeds: tf.Tensor3D,
  targets: ResponseTargets,
  attentionMask?: tf.Tensor2D,
  cache?: KVCache,
): { loss: tf.Scalar; rowNll: tf.Tensor1D } {
  return tf.tidy(() => {
    const { hidden } = model.forwardHidden(inputsEmbeds, { attentionMask, cache });
    const [B, T, D] = hidden.shape;
    const selected = tf.gather(tf.reshape(hidden, [B * T, D]), tf.tensor1d(targets.rows, 'int32'));
    const logits = model.headLogits(selected as tf.Tensor2D);
    const targetLogits = tf.sum(tf.mul(selected, model.headRows(tf.tensor1d(targets.targets, 'int32'))), 1);
    const rowNll = tf.sub(rowLogSumExp(logits), targetLogits) as tf.Tensor1D;
    const loss = tf.sum(tf.mul(rowNll, tf.tensor1d(targets.weights))) as tf.Scalar;
    return { loss, rowNll };
  });
}

/** [N] → [N, width] with every row constant: a rank-1 matMul, because the stock cpu backend broadcasts [N, 1] operands on a slow per-element path. */
function spreadRows(values: tf.Tensor1D, width: number): tf.Tensor2D {
  return tf.matMul(tf.reshape(values, [-1, 1]), tf.ones([1, width]));
}

/**
 * log Σ_v exp(x[n, v]) per row, with its gradient softmax · dy written out: tfjs's own logSumExp
 * also differentiates through its max shift (an Equal and a broadcast over the whole [N, vocab]).
 * Where the backend has the fused row kernels (native), each direction is one threaded kernel over
 * the [N, vocab] logits, rounding exactly as these ops do, and no [N, vocab] temporary is kept
 * for the backward pass.
 */
const rowLogSumExp = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [x, save] = args as [tf.Tensor2D, tf.GradSaveFunc];
  if (tf.getKernel(LOG_SUM_EXP_ROWS, tf.getBackend()) && tf.getKernel(SOFTMAX_SCALE_ROWS, tf.getBackend())) {
    const [lse, max, sum] = tf.engine().runKernel(LOG_SUM_EXP_ROWS, { x }) as tf.Tensor1D[];
    save([x, max, sum]);
    return {
      value: lse,
      gradFunc: (dy: tf.Tensor, [saved, savedMax, savedSum]: tf.Tensor[]) =>
        tf.engine().runKernel(SOFTMAX_SCALE_ROWS, { x: saved, max: savedMax, sum: savedSum, dy }) as tf.Tensor2D,
    };
  }
  const width = x.shape[1];
  const shift = tf.max(x, 1) as tf.Tensor1D;
  const exps = tf.exp(tf.sub(x, spreadRows(shift, width)));
  const sums = tf.sum(exps, 1) as tf.Tensor1D;
  save([exps, sums]);
  return {
    value: tf.add(tf.log(sums), shift),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [savedExps, savedSums] = saved;
      return tf.mul(savedExps, spreadRows(tf.div(dy, savedSums) as tf.Tensor1D, width));
    },
  };
}) as (x: tf.Tensor2D) => tf.Tensor1D;

function perSampleMeans(rowNll: Float32Array | Int32Array | Uint8Array, targets: ResponseTargets): number[] {
  const sums = new Array<number>(targets.batch).fill(0);
  for (let r = 0; r < rowNll.length; r++) sums[targets.samples[r]] += rowNll[r] * targets.weights[r];
  return sums;
}

function maskTensor(attentionMask: number[][] | undefined): tf.Tensor2D | undefined {
  return attentionMask ? tf.tensor2d(attentionMask, undefined, 'int32') : undefined;
}

/**
 * Mean NLL of each sample's supervised tokens (no gradient). With a cache, `ids` continue the texts
 * it holds (`attentionMask` covers the new tokens) and the cache is extended by them.
 */
export function responseNll(model: CausalLM, ids: number[][], targetMask: number[][], attentionMask?: number[][], cache?: KVCache): number[] {
  const targets = responseTargets(ids, targetMask, attentionMask, model.config.vocabSize);
  const rowNll = tf.tidy(() => {
    const embeds = model.embed(tf.tensor2d(ids, undefined, 'int32'));
    return responseLossFromEmbeds(model, embeds, targets, maskTensor(attentionMask), cache).rowNll;
  });
  const values = rowNll.dataSync();
  rowNll.dispose();
  return perSampleMeans(values, targets);
}

export interface EmbeddingGradients {
  /** ∂ℓ_b/∂e_{b,i} [B, T, D] with ℓ_b the sample's mean response NLL; the caller disposes it. */
  grad: tf.Tensor3D;
  /** ℓ_b per sample. */
  nll: number[];
}

/**
 * Gradient of each sample's mean response NLL with respect to its input embeddings (weights are
 * not differentiated). `inputsEmbeds` replaces the token embeddings (e.g. scaled ones for
 * integrated gradients); by default they are the model's embeddings of `ids`. With a cache, the
 * forward also fills it with the texts' keys and values, as `responseNll` would.
 */
export function embeddingGradients(
  model: CausalLM,
  ids: number[][],
  targetMask: number[][],
  attentionMask?: number[][],
  inputsEmbeds?: tf.Tensor3D,
  cache?: KVCache,
): EmbeddingGradients {
  const targets = responseTargets(ids, targetMask, attentionMask, model.config.vocabSize);
  const mask = maskTensor(attentionMask);
  const embeds = inputsEmbeds ?? tf.tidy(() => model.embed(tf.tensor2d(ids, undefined, 'int32')));
  let rowNll: tf.Tensor1D | undefined;
  try {
    const grad = tf.grad((e: tf.Tensor) => {
      const out = responseLossFromEmbeds(model, e as tf.Tensor3D, targets, mask, cache);
      rowNll = tf.keep(out.rowNll);
      return out.loss;
    })(embeds) as tf.Tensor3D;
    return { grad, nll: perSampleMeans(rowNll!.dataSync(), targets) };
  } finally {
    rowNll?.dispose();
    mask?.dispose();
    if (!inputsEmbeds) embeds.dispose();
  }
}

/** ‖∂ℓ_b/∂e_{b,i}‖₂ per token [B][T] (padding positions get ≈0), and ℓ_b per sample. */
export function embeddingGradNorms(model: CausalLM, ids: number[][], targetMask: number[][], attentionMask?: number[][]): { norms: number[][]; nll: number[] } {
  const { grad, nll } = embeddingGradients(model, ids, targetMask, attentionMask);
  const norms = tf.tidy(() => tf.sqrt(tf.sum(tf.mul(grad, grad), 2)));
  grad.dispose();
  const values = norms.arraySync() as number[][];
  norms.dispose();
  return { norms: values, nll };
}
