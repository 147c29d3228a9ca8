import { backend_util, util, type TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { REDUCE_CODES } from '../../native/addon.ts';
import { contiguousStrides } from '../shared/strides.ts';
import { contiguousCopy } from './layout.ts';
import type { NativeKernelFactory } from './types.ts';
import { float32Values, uninitializedFloat32 } from './values.ts';

/** Where each reduction kernel keeps its axes (Max alone calls them reductionIndices). */
const AXIS_ATTR: Record<keyof typeof REDUCE_CODES, string> = { Sum: 'axis', Mean: 'axis', Max: 'reductionIndices', Min: 'axis' };

/**
 * Sum, Mean, Max, Min of float32 over any axes: reduced axes are moved innermost by one strided
 * copy when they are not already, then each contiguous row is reduced in C. (The stock Mean casts,
 * divides with a broadcasting kernel and sums: three passes, one of them slow.)
 */
export const nativeReduceKernels: NativeKernelFactory = (addon, stock) =>
  Object.entries(REDUCE_CODES).map(([kernelName, code]) => ({
    kernelName,
    kernelFunc: (args) => {
      const backend = args.backend as MathBackendCPU;
      const { x } = args.inputs as { x: TensorInfo };
      const attrs = args.attrs as Record<string, unknown>;
      const axis = attrs[AXIS_ATTR[kernelName as keyof typeof REDUCE_CODES]] as number | number[];
      const keepDims = attrs.keepDims as boolean;
      const values = float32Values(backend, x);
      const axes = util.parseAxisParam(axis, x.shape);
      const [outShape, reduceShape] = backend_util.computeOutAndReduceShapes(x.shape, axes);
      const cols = util.sizeFromShape(reduceShape);
      if (!values || cols === 0) return stock(kernelName)(args);

      const permutation = backend_util.getAxesPermutation(axes, x.shape.length);
      let rows: TensorInfo | undefined;
      if (permutation) {
        const strides = contiguousStrides(x.shape);
        rows = contiguousCopy(addon, backend, x, values, 0, permutation.map((p) => strides[p]), permutation.map((p) => x.shape[p]));
      }
      const out = uninitializedFloat32(util.sizeFromShape(outShape));
      addon.reduce(code, rows ? float32Values(backend, rows)! : values, out, cols);
      if (rows) backend.disposeIntermediateTensorInfo(rows);
      const shape = keepDims ? backend_util.expandShapeToKeepDim(outShape, axes) : outShape;
      return backend.makeTensorInfo(shape, 'float32', out);
    },
  }));
