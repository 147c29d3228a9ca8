import { util, type TensorInfo, type TypedArray } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { FourByteArray } from '../../native/addon.ts';

/** The backend's own float32 buffer of `t` (no copy), or null when `t` is stored otherwise. */
export function float32Values(backend: MathBackendCPU, t: TensorInfo): Float32Array | null {
  if (t.dtype !== 'float32') return null;
  const values = backend.data.get(t.dataId).values;
  return values instanceof Float32Array ? values : null;
}

/** The backend's values of `t` when they are 4-byte elements the addon can move bitwise. */
export function fourByteValues(backend: MathBackendCPU, t: TensorInfo): FourByteArray | null {
  if (t.dtype !== 'float32' && t.dtype !== 'int32') return null;
  const values = backend.data.get(t.dataId).values;
  return values instanceof Float32Array || values instanceof Int32Array ? values : null;
}

export function allocate(dtype: 'float32' | 'int32', size: number): FourByteArray {
  return util.getTypedArrayFromDType(dtype, size) as TypedArray as FourByteArray;
}

/**
 * A fresh array with unspecified contents, for kernels that write every element of their output:
 * `new Float32Array(n)` zero-fills, which on large outputs costs as much as a binary op's arithmetic.
 */
export function uninitialized(dtype: 'float32' | 'int32', size: number): FourByteArray {
  // allocUnsafeSlow: its own exactly-sized ArrayBuffer (never a slice of Node's shared pool), not zeroed.
  const buffer = Buffer.allocUnsafeSlow(size * 4).buffer;
  return dtype === 'float32' ? new Float32Array(buffer, 0, size) : new Int32Array(buffer, 0, size);
}

export const uninitializedFloat32 = (size: number) => uninitialized('float32', size) as Float32Array;
