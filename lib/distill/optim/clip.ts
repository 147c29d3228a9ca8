import * as tf from '@tensorflow/tfjs-core';

/**
 * Global L2 norm of all gradients and the factor that scales them down to `maxNorm` when it is
 * exceeded (PyTorch's clip_grad_norm_, including its 1e-6 guard); scale is 1 otherwise, and
 * maxNorm <= 0 or Infinity disables clipping. Pass the scale to AdamW.step: scaled copies of the
 * gradients would cost as much memory as the gradients themselves.
 */
export function globalNormScale(grads: ReadonlyMap<string, tf.Tensor>, maxNorm: number): { norm: number; scale: number } {
  let sumSquares = 0;
  // One gradient at a time: squaring them all first would hold a second copy of every gradient.
  for (const g of grads.values()) {
    const square = tf.tidy(() => tf.sum(tf.square(g)));
    // float32 sums, as an addN of the per-gradient sums would give.
    sumSquares = Math.fround(sumSquares + (square.dataSync() as Float32Array)[0]);
    square.dispose();
  }
  const norm = Math.fround(Math.sqrt(sumSquares));
  const clip = maxNorm > 0 && Number.isFinite(maxNorm) && norm > maxNorm;
  return { norm, scale: clip ? maxNorm / (norm + 1e-6) : 1 };
}

/**
 * The gradients scaled down to `maxNorm` as new tensors when clipping happens (see
 * globalNormScale); the inputs are never disposed here.
 */
export function clipByGlobalNorm(
  grads: ReadonlyMap<string, tf.Tensor>,
  maxNorm: number,
): { norm: number; grads: Map<string, tf.Tensor>; clipped: boolean } {
  const { norm, scale } = globalNormScale(grads, maxNorm);
  if (scale === 1) return { norm, grads: new Map(grads), clipped: false };
  const scaled = new Map<string, tf.Tensor>();
  for (const [name, g] of grads) scaled.set(name, tf.tidy(() => tf.mul(g, scale)));
  return { norm, grads: scaled, clipped: true };
}
