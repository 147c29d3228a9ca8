import { Slice, slice_util, type SliceAttrs, type TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { NativeAddon } from '../../native/addon.ts';
import { contiguousStrides } from '../shared/strides.ts';
import { contiguousCopy } from './layout.ts';
import { fourByteValues } from './values.ts';
import type { NativeKernelFactory } from './types.ts';

/** Slice of a 4-byte tensor, or null when the stock kernel must handle it. */
export function nativeSlice(addon: NativeAddon, backend: MathBackendCPU, x: TensorInfo, begin: number[], size: number[]): TensorInfo | null {
  const values = fourByteValues(backend, x);
  if (!values) return null;
  const [$begin, $size] = slice_util.parseSliceParams(x, begin, size);
  slice_util.assertParamsValid(x, $begin, $size);
  const strides = contiguousStrides(x.shape);
  const offset = $begin.reduce((sum, b, d) => sum + b * strides[d], 0);
  return contiguousCopy(addon, backend, x, values, offset, strides, $size);
}

export const nativeSliceKernels: NativeKernelFactory = (addon, stock) => [
  {
    kernelName: Slice,
    kernelFunc: (args) => {
      const { x } = args.inputs as { x: TensorInfo };
      const { begin, size } = args.attrs as unknown as SliceAttrs;
      const begins = typeof begin === 'number' ? [begin] : begin;
      const sizes = typeof size === 'number' ? [size] : size;
      return nativeSlice(addon, args.backend as MathBackendCPU, x, begins, sizes) ?? stock(Slice)(args);
    },
  },
];
