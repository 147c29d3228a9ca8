import { util, type TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { FourByteArray, NativeAddon } from '../../native/addon.ts';
import { collapseDims, contiguousStrides } from '../shared/strides.ts';
import { uninitialized } from './values.ts';

/**
 * A new contiguous tensor of shape `outShape` whose element at index i reads
 * src[srcOffset + Σ i_d·srcStrides[d]]: Transpose, Slice and SplitV are all this.
 */
export function contiguousCopy(
  addon: NativeAddon,
  backend: MathBackendCPU,
  x: TensorInfo,
  src: FourByteArray,
  srcOffset: number,
  srcStrides: readonly number[],
  outShape: number[],
): TensorInfo {
  const out = uninitialized(x.dtype as 'float32' | 'int32', util.sizeFromShape(outShape));
  const { shape, strides } = collapseDims(outShape, [srcStrides, contiguousStrides(outShape)]);
  addon.copyStrided(src, srcOffset, strides[0], out, 0, strides[1], shape);
  return backend.makeTensorInfo(outShape, x.dtype, out);
}
