import { PadV2, util, type PadV2Attrs, type TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { collapseDims, contiguousStrides } from '../shared/strides.ts';
import { allocate, fourByteValues } from './values.ts';
import type { NativeKernelFactory } from './types.ts';

/** Constant padding (the gradient of slice): fill, then one strided copy of the input into place. */
export const nativePadV2Kernels: NativeKernelFactory = (addon, stock) => [
  {
    kernelName: PadV2,
    kernelFunc: (args) => {
      const backend = args.backend as MathBackendCPU;
      const { x } = args.inputs as { x: TensorInfo };
      const { paddings, constantValue } = args.attrs as unknown as PadV2Attrs;
      const values = fourByteValues(backend, x);
      if (!values) return stock(PadV2)(args);
      const outShape = x.shape.map((size, d) => paddings[d][0] + size + paddings[d][1]);
      const out = allocate(x.dtype as 'float32' | 'int32', util.sizeFromShape(outShape));
      if (constantValue !== 0) out.fill(constantValue);
      const outStrides = contiguousStrides(outShape);
      const offset = paddings.reduce((sum, [before], d) => sum + before * outStrides[d], 0);
      const { shape, strides } = collapseDims(x.shape, [contiguousStrides(x.shape), outStrides]);
      addon.copyStrided(values, 0, strides[0], out, offset, strides[1], shape);
      return backend.makeTensorInfo(outShape, x.dtype, out);
    },
  },
];
