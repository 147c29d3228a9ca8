import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { FourByteArray } from '../../native/addon.ts';
import { nativeBufferPool } from '../../backends/buffer-pool.ts';

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

/** A zero-filled output array. */
export function allocate(dtype: 'float32' | 'int32', size: number): FourByteArray {
  return nativeBufferPool.take(dtype, size).fill(0);
}

/**
 * An output array with unspecified contents (often a disposed tensor's), for kernels that write every
 * element: zero-filling large outputs costs as much as a binary op's arithmetic.
 */
export function uninitialized(dtype: 'float32' | 'int32', size: number): FourByteArray {
  return nativeBufferPool.take(dtype, size);
}

export const uninitializedFloat32 = (size: number) => uninitialized('float32', size) as Float32Array;
