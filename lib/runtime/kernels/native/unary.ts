import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { UNARY_CODES } from '../../native/addon.ts';
import { float32Values, uninitializedFloat32 } from './values.ts';
import type { NativeKernelFactory } from './types.ts';

/** Exp, Log, Sigmoid, Sqrt, Rsqrt, Neg, Square, Tanh on float32 (JavaScript's Math.exp & co. are the slow part of the stock kernels). */
export const nativeUnaryKernels: NativeKernelFactory = (addon, stock) =>
  Object.entries(UNARY_CODES).map(([kernelName, code]) => ({
    kernelName,
    kernelFunc: (args) => {
      const backend = args.backend as MathBackendCPU;
      const { x } = args.inputs as { x: TensorInfo };
      const values = x.dtype === 'float32' ? float32Values(backend, x) : null;
      if (!values) return stock(kernelName)(args);
      const out = uninitializedFloat32(values.length);
      addon.unary(code, values, out);
      return backend.makeTensorInfo(x.shape, 'float32', out);
    },
  }));
