import * as tf from '@tensorflow/tfjs-core';
import { ensureGradients } from '../runtime/gradients.ts';

ensureGradients();

/**
 * Rows `indices` of x [M, V]. Same values as tf.gather, but the gradient is a scatter (ScatterNd)
 * instead of tf.gather's UnsortedSegmentSum, which the stock cpu backend runs in O(M·N·V).
 * Indices must be distinct (they are: one row per supervised position).
 */
export function selectRows(x: tf.Tensor2D, indices: tf.Tensor1D): tf.Tensor2D {
  const shape = x.shape;
  const select = tf.customGrad(((input: tf.Tensor, save: tf.GradSaveFunc) => {
    save([indices]);
    return {
      value: tf.gather(input, indices),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.scatterND(tf.expandDims(saved[0], 1), dy, shape),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return select(x) as tf.Tensor2D;
}
