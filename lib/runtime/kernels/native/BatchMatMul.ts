import { BatchMatMul, type BatchMatMulAttrs, type TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { NativeAddon } from '../../native/addon.ts';
import { foldSharedB, matMulGeometry } from '../shared/matmul-geometry.ts';
import type { NativeKernelFactory } from './types.ts';
import { float32Values, uninitializedFloat32 } from './values.ts';

/**
 * op(a)·op(b) through OpenBLAS on the backend's own buffers; null when an operand is not float32
 * (the caller then defers to the stock kernel, which handles int32).
 */
export function nativeMatMul(
  addon: NativeAddon,
  backend: MathBackendCPU,
  a: TensorInfo,
  b: TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
): { values: Float32Array; shape: number[] } | null {
  const aValues = float32Values(backend, a);
  const bValues = float32Values(backend, b);
  if (!aValues || !bValues) return null;
  const geometry = matMulGeometry(a.shape, b.shape, transposeA, transposeB);
  const g = foldSharedB(geometry);
  const values = uninitializedFloat32(g.aIndex.length * g.m * g.n);
  addon.sgemmBatched(aValues, bValues, values, g.m, g.n, g.k, g.transposeA, g.transposeB, g.aIndex, g.bIndex);
  return { values, shape: geometry.outShape };
}

export const nativeBatchMatMulKernels: NativeKernelFactory = (addon, stock) => [
  {
    kernelName: BatchMatMul,
    kernelFunc: (args) => {
      const backend = args.backend as MathBackendCPU;
      const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
      const { transposeA, transposeB } = args.attrs as unknown as BatchMatMulAttrs;
      const product = nativeMatMul(addon, backend, a, b, transposeA, transposeB);
      if (!product) return stock(BatchMatMul)(args);
      return backend.makeTensorInfo(product.shape, 'float32', product.values);
    },
  },
];
