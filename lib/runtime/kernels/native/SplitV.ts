import { backend_util, SplitV, util, type SplitVAttrs, type TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { nativeSlice } from './Slice.ts';
import { fourByteValues } from './values.ts';
import type { NativeKernelFactory } from './types.ts';

/** Split into slices along one axis (the gradient of concat); the stock kernel slices element by element. */
export const nativeSplitVKernels: NativeKernelFactory = (addon, stock) => [
  {
    kernelName: SplitV,
    kernelFunc: (args) => {
      const backend = args.backend as MathBackendCPU;
      const { x } = args.inputs as { x: TensorInfo };
      const { numOrSizeSplits, axis } = args.attrs as unknown as SplitVAttrs;
      if (!fourByteValues(backend, x)) return stock(SplitV)(args);
      const $axis = util.parseAxisParam(axis, x.shape)[0];
      const sizes = backend_util.prepareSplitSize(x, numOrSizeSplits, $axis);
      const begin = new Array<number>(x.shape.length).fill(0);
      return sizes.map((s) => {
        const size = x.shape.slice();
        size[$axis] = s;
        const part = nativeSlice(addon, backend, x, begin.slice(), size)!;
        begin[$axis] += s;
        return part;
      });
    },
  },
];
