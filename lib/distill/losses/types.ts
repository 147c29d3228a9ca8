import type * as tf from '@tensorflow/tfjs-core';

/** The teacher's distribution at each supervised position, live or read from the top-k cache. */
export type TeacherTargets =
  | {
      kind: 'full';
      /** [N, V] teacher logits in the student's vocabulary space (non-shared columns already at MASKED_LOGIT). */
      logits: tf.Tensor2D;
    }
  | {
      kind: 'topk';
      /** [N, K] int32 student-vocabulary ids of the teacher's K most likely tokens. */
      ids: tf.Tensor2D;
      /** [N, K] teacher log-probabilities of those ids, at the cache's temperature. */
      logProbs: tf.Tensor2D;
      /** [N] log of the teacher's probability mass outside the top K. */
      tailLogMass: tf.Tensor1D;
    };

export interface LossInputs {
  /**
   * [N, V] student logits at the N positions that PREDICT supervised tokens (position i-1 for
   * target token i), one row per supervised token of the batch.
   */
  studentLogits: tf.Tensor2D;
  teacher?: TeacherTargets;
  /** [N] int32 target token ids (the reference response), for losses that use them. */
  targets?: tf.Tensor1D;
  /**
   * [V] additive bias: 0 on the vocabulary shared with the teacher, MASKED_LOGIT elsewhere, so the
   * student's distribution is renormalised over the shared sub-vocabulary (--vocab-map intersect).
   */
  vocabBias?: tf.Tensor1D;
  temperature: number;
  /** Mixture weight of the generalised JSD. */
  beta: number;
  /** What the focus term reads (rows with flagged spans); absent when the term is off. */
  focus?: FocusInputs;
}

/** [N, T_s] tensors over the student's batch positions, [N] per predicting position. */
export interface FocusInputs {
  /** Student attention rows (carries the gradient). */
  studentAttention: tf.Tensor2D;
  /** 1 on the row's flagged-span tokens. */
  focusMask: tf.Tensor2D;
  /** 1 on the row's instruction tokens. */
  regionMask: tf.Tensor2D;
  /** The teacher's attention share on the same spans (its own tokens), a constant. */
  teacherShare: tf.Tensor1D;
  /** 1 where the row has flagged spans. */
  active: tf.Tensor1D;
}

/** A per-token loss. Returns [N]; averaging and row weights are applied by the objective. */
export interface DistillLoss {
  name: string;
  description: string;
  /** What the loss needs from the teacher: its full distribution, a top-k cache, or nothing. */
  teacher: 'full' | 'topk' | 'none';
  /** An extra term added with its own weight, never the distillation --loss. */
  auxiliary?: boolean;
  perToken(inputs: LossInputs): tf.Tensor1D;
}

/**
 * Logit given to vocabulary entries that must carry no probability. Finite (not -Infinity) so that
 * 0 · (log p − log q) stays 0 instead of NaN where both distributions are masked.
 */
export const MASKED_LOGIT = -1e9;
