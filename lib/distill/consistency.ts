import * as tf from '@tensorflow/tfjs-core';
import type { CausalLM } from '../models/types.ts';
import { collateSide, disposeSide, type SideBatch } from './data/collate.ts';
import type { EncodedRow } from './data/encode.ts';
import { fusedForwardKl } from './losses/fused-forward-kl.ts';
import { selectRows } from './select.ts';

/**
 * Which way the counterfactual-consistency term pulls the student's two outputs, on an original X
 * and on X∖A (its flagged spans removed), each KL's target held constant:
 * - counterfactual: KL(p(y | X∖A) ‖ p(y | X)), the original toward the counterfactual only. In
 *   shortcut-laden training data the original's output is mostly right by copying, while the
 *   counterfactual's is the weak student's without the shortcut, so this also pulls right answers
 *   toward worse ones: on the planted task families it cost clean accuracy;
 * - mutual: that plus KL(p(y | X) ‖ p(y | X∖A)), the counterfactual also toward the original, so the
 *   student learns to give without A what it gives with it. One more backward pass of the
 *   shortened rows; on the planted families' dev slice it kept the shortcut gain and raised clean
 *   accuracy (reports/leaf-terms-grid-pull.md).
 */
export type ConsistencyPull = 'mutual' | 'counterfactual';
export const CONSISTENCY_PULLS: readonly ConsistencyPull[] = ['mutual', 'counterfactual'];

/** The originals of a micro-batch that have flagged spans, shortened, and which supervised tokens they pair with. */
export interface ConsistencyInputs {
  pull: ConsistencyPull;
  /** [N_c] indices into the batch's supervised tokens (rows in order, each row's targets in order). */
  positions: tf.Tensor1D;
  /** The shortened rows (mutual: forwarded inside the gradient scope). */
  side: SideBatch;
  /** counterfactual: the student's logits on the shortened rows, computed without gradient. */
  logits?: tf.Tensor2D;
}

/** The student's logits at the positions predicting a side's supervised tokens. */
export function supervisedLogits(student: CausalLM, hidden: tf.Tensor3D, predicting: tf.Tensor1D): tf.Tensor2D {
  const [B, T, D] = hidden.shape;
  return tf.matMul(selectRows(tf.reshape(hidden, [B * T, D]) as tf.Tensor2D, predicting), student.lmHeadWeight, false, true) as tf.Tensor2D;
}

/** The term's inputs for `rows`; undefined when no row has a text without its flagged spans. */
export function consistencyInputs(student: CausalLM, rows: EncodedRow[], pull: ConsistencyPull): ConsistencyInputs | undefined {
  const positions: number[] = [];
  let offset = 0;
  const shortened: EncodedRow[] = [];
  for (const r of rows) {
    if (r.withoutFocus) {
      shortened.push(r);
      for (let j = 0; j < r.student.targets.length; j++) positions.push(offset + j);
    }
    offset += r.student.targets.length;
  }
  if (shortened.length === 0) return undefined;
  const side = collateSide(shortened.map((r) => r.withoutFocus!), (b) => `${shortened[b].row.origin} without its flagged spans`);
  const logits = pull === 'counterfactual' ? tf.tidy(() => supervisedLogits(student, student.forwardHidden(student.embed(side.inputIds)).hidden, side.predicting)) : undefined;
  return { pull, positions: tf.tensor1d(positions, 'int32'), side, logits };
}

/**
 * Per supervised token of the shortened rows, the term inside the caller's gradient scope
 * (`studentLogits`: the whole batch's, at its supervised tokens). fusedForwardKl takes the gradient
 * of its first argument only, so each KL's second argument is the constant target.
 */
export function consistencyPerToken(student: CausalLM, studentLogits: tf.Tensor2D, inputs: ConsistencyInputs, temperature: number, vocabBias?: tf.Tensor1D): tf.Tensor1D {
  const onOriginal = tf.gather(studentLogits, inputs.positions) as tf.Tensor2D;
  if (inputs.pull === 'counterfactual') return fusedForwardKl(onOriginal, inputs.logits!, temperature, vocabBias);
  const onShortened = supervisedLogits(student, student.forwardHidden(student.embed(inputs.side.inputIds)).hidden, inputs.side.predicting);
  return tf.add(fusedForwardKl(onOriginal, onShortened, temperature, vocabBias), fusedForwardKl(onShortened, onOriginal, temperature, vocabBias)) as tf.Tensor1D;
}

export function disposeConsistency(inputs: ConsistencyInputs | undefined): void {
  if (!inputs) return;
  disposeSide(inputs.side);
  tf.dispose([inputs.positions, ...(inputs.logits ? [inputs.logits] : [])]);
}
