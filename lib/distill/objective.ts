import * as tf from '@tensorflow/tfjs-core';
import type { DistillLoss, LossInputs } from './losses/index.ts';
import { getLoss } from './losses/index.ts';

export interface ObjectiveConfig {
  /** The distillation loss (a registry entry). */
  loss: DistillLoss;
  /** Convex mix with the reference-response CE: (1 − w)·distillation + w·CE. 0 = pure distillation. */
  ceWeight: number;
}

export interface ObjectiveTerms {
  /** What is differentiated. */
  total: tf.Scalar;
  /** Each term before mixing, with the same row averaging and weights (for metrics). */
  terms: Record<string, tf.Scalar>;
}

/**
 * Coefficient of each supervised token in the batch loss: a row's tokens share its weight equally
 * (per-sample mean), and rows are averaged over the `rowsInStep` rows of the optimizer step, so
 * accumulated micro-batches add up to the mean over the effective batch.
 */
export function tokenCoefficients(rows: { weight: number; tokens: number }[], rowsInStep: number): Float32Array {
  const total = rows.reduce((sum, row) => sum + row.tokens, 0);
  const coefficients = new Float32Array(total);
  let offset = 0;
  for (const { weight, tokens } of rows) {
    if (tokens <= 0) throw new Error('a row with no supervised tokens cannot enter the loss');
    coefficients.fill(weight / (tokens * rowsInStep), offset, offset + tokens);
    offset += tokens;
  }
  return coefficients;
}

/** Σ_n c_n·ℓ_n for each term, mixed into the total. Call inside tf.tidy (or a gradient function). */
export function distillationObjective(inputs: LossInputs, coefficients: tf.Tensor1D, config: ObjectiveConfig): ObjectiveTerms {
  const weighted = (perToken: tf.Tensor1D) => tf.sum(tf.mul(perToken, coefficients)) as tf.Scalar;
  const kd = weighted(config.loss.perToken(inputs));
  const terms: Record<string, tf.Scalar> = { kd };
  if (config.ceWeight <= 0) return { total: kd, terms };
  const ce = weighted(getLoss('cross-entropy').perToken(inputs));
  terms.ce = ce;
  const total = tf.add(tf.mul(kd, 1 - config.ceWeight), tf.mul(ce, config.ceWeight)) as tf.Scalar;
  return { total, terms };
}
