import { backend_util, GatherV2, util, type GatherV2Attrs, type TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { NativeKernelFactory } from './types.ts';
import { allocate, fourByteValues } from './values.ts';

/** Row gather (embedding lookup) by memcpy; the stock kernel converts indices element by element. */
export const nativeGatherV2Kernels: NativeKernelFactory = (addon, stock) => [
  {
    kernelName: GatherV2,
    kernelFunc: (args) => {
      const backend = args.backend as MathBackendCPU;
      const { x, indices } = args.inputs as { x: TensorInfo; indices: TensorInfo };
      const { axis, batchDims = 0 } = args.attrs as unknown as GatherV2Attrs;
      const values = fourByteValues(backend, x);
      const ids = backend.data.get(indices.dataId).values;
      if (!values || !(ids instanceof Int32Array)) return stock(GatherV2)(args);
      const parsedAxis = util.parseAxisParam(axis, x.shape)[0];
      const axisDim = x.shape[parsedAxis];
      for (const index of ids) util.assert(index <= axisDim - 1 && index >= 0, () => `GatherV2: the index value ${index} is not in [0, ${axisDim - 1}]`);
      const info = backend_util.segment_util.collectGatherOpShapeInfo(x, indices, parsedAxis, batchDims);
      const out = allocate(x.dtype as 'float32' | 'int32', util.sizeFromShape(info.outputShape));
      if (out.length > 0) addon.gather(values, info.batchSize, info.outerSize, info.dimSize, info.sliceSize, ids, out);
      return backend.makeTensorInfo(info.outputShape, x.dtype, out);
    },
  },
];
