import { Softmax, type SoftmaxAttrs, type TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { float32Values, uninitializedFloat32 } from './values.ts';
import type { NativeKernelFactory } from './types.ts';

/** Last-axis softmax in one pass per row (the stock kernel chains five kernels, two of them broadcasting). */
export const nativeSoftmaxKernels: NativeKernelFactory = (addon, stock) => [
  {
    kernelName: Softmax,
    kernelFunc: (args) => {
      const backend = args.backend as MathBackendCPU;
      const { logits } = args.inputs as { logits: TensorInfo };
      const { dim } = args.attrs as unknown as SoftmaxAttrs;
      const rank = logits.shape.length;
      const values = logits.dtype === 'float32' ? float32Values(backend, logits) : null;
      const cols = logits.shape[rank - 1];
      // The stock kernel owns the error for a non-last axis and the empty cases.
      if (!values || rank === 0 || (dim !== -1 && dim !== rank - 1) || !cols) return stock(Softmax)(args);
      const out = uninitializedFloat32(values.length);
      addon.softmax(values, out, cols);
      return backend.makeTensorInfo(logits.shape, 'float32', out);
    },
  },
];
