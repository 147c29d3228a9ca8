import * as tf from '@tensorflow/tfjs-core';
import { selectRows } from '../select.ts';

/**
 * Attention rows of the predicting positions, averaged over heads and the last `layers` layers:
 * from per-layer [B, H, T, Tk] probabilities to [N, Tk] (N = predicting.length, flat b·T + i).
 */
export function meanAttentionRows(attentions: tf.Tensor4D[], layers: number, predicting: tf.Tensor1D): tf.Tensor2D {
  if (!(Number.isInteger(layers) && layers >= 1 && layers <= attentions.length))
    throw new Error(`attention layers must be an integer in [1, ${attentions.length}], got ${layers}`);
  const used = attentions.slice(attentions.length - layers);
  const [B, , T, Tk] = used[0].shape;
  const mean = tf.div(tf.addN(used.map((a) => tf.mean(a, 1))), layers) as tf.Tensor3D;
  return selectRows(tf.reshape(mean, [B * T, Tk]) as tf.Tensor2D, predicting);
}
