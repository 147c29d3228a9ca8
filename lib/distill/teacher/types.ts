import type * as tf from '@tensorflow/tfjs-core';
import type { TeacherTargets } from '../losses/index.ts';
import type { EncodedRow } from '../data/encode.ts';

export interface TeacherOutput {
  targets: TeacherTargets;
  /**
   * [N, T_teacher] attention of each predicting position over the teacher's batch positions,
   * averaged over heads and the last `attentionLayers` layers (only when asked for).
   */
  attention?: tf.Tensor2D;
}

/**
 * What the student is distilled from, per supervised position: a live teacher model or a top-k
 * cache on disk. Returned tensors belong to the caller.
 */
export interface TeacherSignal {
  readonly kind: 'full' | 'topk';
  output(rows: EncodedRow[], options?: { attentionLayers?: number }): TeacherOutput;
  dispose(): void;
}
