import * as tf from '@tensorflow/tfjs-core';

/**
 * Global L2 norm of all gradients, and the gradients scaled down to `maxNorm` when it is exceeded
 * (PyTorch's clip_grad_norm_, including its 1e-6 guard). maxNorm <= 0 or Infinity disables clipping.
 * The returned map owns new tensors when clipping happened; the inputs are never disposed here.
 */
export function clipByGlobalNorm(
  grads: ReadonlyMap<string, tf.Tensor>,
  maxNorm: number,
): { norm: number; grads: Map<string, tf.Tensor>; clipped: boolean } {
  const norm = tf.tidy(() => {
    const squares = [...grads.values()].map((g) => tf.sum(tf.square(g)));
    return tf.sqrt(tf.addN(squares));
  });
  const value = (norm.dataSync() as Float32Array)[0];
  norm.dispose();
  if (!(maxNorm > 0) || !Number.isFinite(maxNorm) || value <= maxNorm)
    return { norm: value, grads: new Map(grads), clipped: false };
  const scale = maxNorm / (value + 1e-6);
  const scaled = new Map<string, tf.Tensor>();
  for (const [name, g] of grads) scaled.set(name, tf.tidy(() => tf.mul(g, scale)));
  return { norm: value, grads: scaled, clipped: true };
}
