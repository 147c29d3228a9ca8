import { Transpose, type TensorInfo, type TransposeAttrs } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { contiguousStrides } from '../shared/strides.ts';
import { contiguousCopy } from './layout.ts';
import { fourByteValues } from './values.ts';
import type { NativeKernelFactory } from './types.ts';

export const nativeTransposeKernels: NativeKernelFactory = (addon, stock) => [
  {
    kernelName: Transpose,
    kernelFunc: (args) => {
      const backend = args.backend as MathBackendCPU;
      const { x } = args.inputs as { x: TensorInfo };
      const { perm } = args.attrs as unknown as TransposeAttrs;
      const values = fourByteValues(backend, x);
      if (!values) return stock(Transpose)(args);
      const strides = contiguousStrides(x.shape);
      return contiguousCopy(addon, backend, x, values, 0, perm.map((p) => strides[p]), perm.map((p) => x.shape[p]));
    },
  },
];
