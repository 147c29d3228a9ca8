// Decoder building blocks with hand-written gradients. tfjs differentiates each op of a composite
// separately, which for RMSNorm runs ~14 kernels (one of them a stock Pow) and for the SwiGLU gate
// ~8 full-size multiplies per layer; every kernel allocates a fresh buffer, and that allocation
// rate (V8 collects the freed buffers on external-memory pressure) costs as much as the arithmetic.
import * as tf from '@tensorflow/tfjs-core';

/**
 * x·w / √(mean(x²) + eps) over the last axis of x [N, D], w [D].
 * With xr = x·r, r = (mean(x²) + eps)^-½ and g = dy·w:  dx = r·(g − xr·mean(g·xr)),  dw = Σ_n dy·xr.
 */
export function rmsNorm(x: tf.Tensor2D, weight: tf.Tensor1D, eps: number): tf.Tensor2D {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [input, w, save] = args as [tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
    const inverseRms = tf.rsqrt(tf.add(tf.mean(tf.mul(input, input), -1, true), eps));
    const normalized = tf.mul(input, inverseRms);
    save([w, inverseRms, normalized]);
    return {
      value: tf.mul(normalized, w),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [savedWeight, r, xr] = saved;
        const g = tf.mul(dy, savedWeight);
        const dx = tf.mul(tf.sub(g, tf.mul(xr, tf.mean(tf.mul(g, xr), -1, true))), r);
        // Σ over rows as a ones-row matMul: a reduction over axis 0 would first transpose [N, D].
        const dw = tf.reshape(tf.matMul(tf.ones([1, dy.shape[0]]), tf.mul(dy, xr) as tf.Tensor2D), [-1]);
        return [dx, dw];
      },
    };
  }) as (x: tf.Tensor2D, w: tf.Tensor1D) => tf.Tensor2D;
  return op(x, weight);
}

/**
 * silu(gate)·up, the gated MLP's activation. With s = σ(gate) and a = gate·s:
 * d gate = dy·up·(s + a − a·s),  d up = dy·a.
 */
export const siluGate = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [g, u, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
  const sigmoid = tf.sigmoid(g);
  const activated = tf.mul(g, sigmoid);
  save([u, sigmoid, activated]);
  return {
    value: tf.mul(activated, u),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [savedUp, s, a] = saved;
      const slope = tf.sub(tf.add(s, a), tf.mul(a, s));
      return [tf.mul(tf.mul(dy, savedUp), slope), tf.mul(dy, a)];
    },
  };
}) as (gate: tf.Tensor2D, up: tf.Tensor2D) => tf.Tensor2D;
