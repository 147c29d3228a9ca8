// Decoder building blocks with hand-written gradients. tfjs differentiates each op of a composite
// separately, which for RMSNorm runs ~14 kernels (one of them a stock Pow) and for the SwiGLU gate
// ~8 full-size multiplies per layer; every kernel allocates a fresh buffer, and that allocation
// rate (V8 collects the freed buffers on external-memory pressure) costs as much as the arithmetic.
// Where the backend registers fused kernels for a block (native does), each direction is one
// kernel that rounds exactly as the composition does; elsewhere the composition runs.
import * as tf from '@tensorflow/tfjs-core';
import { MASKED_SOFTMAX, RMS_NORM, RMS_NORM_GRAD, ROPE, ROPE_GRAD, SILU_GATE, SILU_GATE_GRAD, SOFTMAX_GRAD } from '../runtime/kernels/shared/kernel-names.ts';

function registered(...kernels: string[]): boolean {
  const backend = tf.getBackend();
  return kernels.every((name) => tf.getKernel(name, backend) !== undefined);
}

function run(kernel: string, inputs: tf.NamedTensorMap, attrs: Record<string, number> = {}): tf.Tensor[] {
  const out = tf.engine().runKernel(kernel, inputs, attrs);
  return Array.isArray(out) ? (out as tf.Tensor[]) : [out as tf.Tensor];
}

/**
 * x·w / √(mean(x²) + eps) over the last axis of x [N, D], w [D].
 * With xr = x·r, r = (mean(x²) + eps)^-½ and g = dy·w:  dx = r·(g − xr·mean(g·xr)),  dw = Σ_n dy·xr.
 */
export function rmsNorm(x: tf.Tensor2D, weight: tf.Tensor1D, eps: number): tf.Tensor2D {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [input, w, save] = args as [tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
    if (registered(RMS_NORM, RMS_NORM_GRAD)) {
      const [value, r] = run(RMS_NORM, { x: input, w }, { eps });
      save([input, w, r]);
      return { value, gradFunc: (dy: tf.Tensor, [sx, sw, sr]: tf.Tensor[]) => run(RMS_NORM_GRAD, { dy, x: sx, w: sw, r: sr }) };
    }
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
  if (registered(SILU_GATE, SILU_GATE_GRAD)) {
    // σ(g) is recomputed in the backward pass: cheaper than keeping two more [N, inner] buffers.
    save([g, u]);
    return { value: run(SILU_GATE, { g, u })[0], gradFunc: (dy: tf.Tensor, [sg, su]: tf.Tensor[]) => run(SILU_GATE_GRAD, { dy, g: sg, u: su }) };
  }
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

/**
 * HF rotate-half RoPE on a 2-D projection output [B·T, heads·d]: x·cos + rotate_half(x)·sin, with
 * cos and sin per element. `rotate` is R with x·R = rotate_half(x) for one head, used where the
 * backend has no fused kernel (a tiny matMul instead of slice + concat, which are slow strided copies).
 */
export function rope(x: tf.Tensor2D, cos: tf.Tensor2D, sin: tf.Tensor2D, rotate: tf.Tensor2D): tf.Tensor2D {
  const headDim = rotate.shape[0];
  if (!registered(ROPE, ROPE_GRAD)) {
    const rotated = tf.reshape(tf.matMul(tf.reshape(x, [-1, headDim]), rotate), x.shape);
    return tf.add(tf.mul(x, cos), tf.mul(rotated, sin)) as tf.Tensor2D;
  }
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [input, save] = args as [tf.Tensor2D, tf.GradSaveFunc];
    // The tables are saved, not captured: the forward's tidy disposes them before the backward runs.
    save([cos, sin]);
    return {
      value: run(ROPE, { x: input, cos, sin }, { headDim })[0],
      gradFunc: (dy: tf.Tensor, [c, s]: tf.Tensor[]) => run(ROPE_GRAD, { dy, cos: c, sin: s }, { headDim })[0],
    };
  }) as (x: tf.Tensor2D) => tf.Tensor2D;
  return op(x);
}

/**
 * softmax(scores + bias) over the last axis, scores [B, H, T, Tk] and the attention bias
 * [B, 1, T, Tk] shared by the heads. No gradient flows to the bias (the mask is a constant).
 */
export function maskedSoftmax(scores: tf.Tensor4D, bias: tf.Tensor4D): tf.Tensor4D {
  if (!registered(MASKED_SOFTMAX, SOFTMAX_GRAD)) return tf.softmax(tf.add(scores, bias)) as tf.Tensor4D;
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [input, save] = args as [tf.Tensor4D, tf.GradSaveFunc];
    const value = run(MASKED_SOFTMAX, { scores: input, bias })[0];
    save([value]);
    return { value, gradFunc: (dy: tf.Tensor, [y]: tf.Tensor[]) => run(SOFTMAX_GRAD, { y, dy })[0] };
  }) as (scores: tf.Tensor4D) => tf.Tensor4D;
  return op(scores);
}
