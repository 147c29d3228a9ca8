// Frozen weight matrices held in their stored 16-bit dtype (BF16 or F16), usually memory-mapped
// straight from the checkpoint file. They are not tfjs tensors: products with them go through the
// native addon's halfGemm, which widens a panel of rows at a time and accumulates in float32, and
// their only gradient is the one to the activations (frozen weights never get one).
import * as tf from '@tensorflow/tfjs-core';
import { loadAddon } from '../runtime/native/addon.ts';

export type HalfDtype = 'BF16' | 'F16';

/** A row-major 2-D matrix of 16-bit floats, in HF orientation. */
export class HalfMatrix {
  constructor(
    readonly dtype: HalfDtype,
    readonly shape: [number, number],
    readonly data: Uint16Array,
    /** True when `data` lies in a file mapping (its pages are evictable and dropped on dispose). */
    readonly mapped: boolean,
  ) {
    if (data.length !== shape[0] * shape[1]) throw new Error(`HalfMatrix: ${data.length} values for shape [${shape}]`);
  }

  /** Hands the resident pages back to the kernel now, instead of whenever the buffer is collected. */
  dispose(): void {
    if (this.mapped) loadAddon().dropPages(this.data);
  }
}

/** out = a · op(W) through the addon; op(W) = Wᵀ when transposeW (W stored [n, k]). */
function product(a: tf.Tensor2D, w: HalfMatrix, transposeW: boolean): tf.Tensor2D {
  const [m, k] = a.shape;
  const n = transposeW ? w.shape[0] : w.shape[1];
  const inner = transposeW ? w.shape[1] : w.shape[0];
  if (k !== inner) throw new Error(`half matMul: activations have ${k} features, the weight [${w.shape}] expects ${inner}`);
  const out = new Float32Array(m * n);
  loadAddon().halfGemm(a.dataSync() as Float32Array, m, k, w.data, w.shape[0], w.shape[1], transposeW, w.dtype === 'BF16', out);
  return tf.tensor2d(out, [m, n]);
}

/** x · op(W), differentiable in x: dx = dy · op(W)ᵀ, computed from the same 16-bit weight. */
export function halfMatMul(x: tf.Tensor2D, w: HalfMatrix, transposeW: boolean): tf.Tensor2D {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const input = args[0] as tf.Tensor2D;
    return { value: product(input, w, transposeW), gradFunc: (dy: tf.Tensor) => product(dy as tf.Tensor2D, w, !transposeW) };
  }) as (x: tf.Tensor2D) => tf.Tensor2D;
  return op(x);
}

/** Rows `ids` of W widened to float32 [ids.length, cols] (embedding lookup, LM-head rows of targets). */
export function halfRows(w: HalfMatrix, ids: Int32Array): tf.Tensor2D {
  const cols = w.shape[1];
  const out = new Float32Array(ids.length * cols);
  loadAddon().widenRows(w.data, cols, w.dtype === 'BF16', ids, out);
  return tf.tensor2d(out, [ids.length, cols]);
}
