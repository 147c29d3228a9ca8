import { backend_util, Concat, util, type ConcatAttrs, type TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { collapseDims, contiguousStrides } from '../shared/strides.ts';
import type { NativeKernelFactory } from './types.ts';
import { allocate, fourByteValues } from './values.ts';

/** Concatenation of 4-byte tensors: one strided copy of each input into its slab of the output. */
export const nativeConcatKernels: NativeKernelFactory = (addon, stock) => [
  {
    kernelName: Concat,
    kernelFunc: (args) => {
      const backend = args.backend as MathBackendCPU;
      const inputs = Object.values(args.inputs) as TensorInfo[];
      const { axis } = args.attrs as unknown as ConcatAttrs;
      const dtype = inputs[0]?.dtype;
      const sources = inputs.map((t) => (t.dtype === dtype ? fourByteValues(backend, t) : null));
      if (!inputs.length || sources.some((v) => !v)) return stock(Concat)(args);
      const $axis = util.parseAxisParam(axis, inputs[0].shape)[0];
      backend_util.assertParamsConsistent(inputs.map((t) => t.shape), $axis);
      const outShape = backend_util.computeOutShape(inputs.map((t) => t.shape), $axis);
      const out = allocate(dtype as 'float32' | 'int32', util.sizeFromShape(outShape));
      const outStrides = contiguousStrides(outShape);
      let offset = 0;
      inputs.forEach((t, i) => {
        const { shape, strides } = collapseDims(t.shape, [contiguousStrides(t.shape), outStrides]);
        if (util.sizeFromShape(t.shape) > 0) addon.copyStrided(sources[i]!, 0, strides[0], out, offset, strides[1], shape);
        offset += t.shape[$axis] * outStrides[$axis];
      });
      return backend.makeTensorInfo(outShape, dtype, out);
    },
  },
];
