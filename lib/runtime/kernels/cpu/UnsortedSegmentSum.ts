import {
  UnsortedSegmentSum,
  util,
  type KernelConfig,
  type TensorInfo,
  type TypedArray,
  type UnsortedSegmentSumAttrs,
} from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { scatterAdd, segmentSumGeometry } from '../shared/segment-sum.ts';

/** Scatter-add UnsortedSegmentSum for backends built on MathBackendCPU (`native`, `cpu`). */
export const cpuUnsortedSegmentSumConfig: Omit<KernelConfig, 'backendName'> = {
  kernelName: UnsortedSegmentSum,
  kernelFunc: (args) => {
    const backend = args.backend as MathBackendCPU;
    const { x, segmentIds } = args.inputs as { x: TensorInfo; segmentIds: TensorInfo };
    const { numSegments } = args.attrs as unknown as UnsortedSegmentSumAttrs;
    if (x.dtype === 'complex64' || x.dtype === 'string' || x.dtype === 'bool')
      throw new Error(`unsortedSegmentSum does not support ${x.dtype} inputs`);
    const { outShape, inner } = segmentSumGeometry(x.shape, segmentIds.shape, numSegments);
    const out = util.getTypedArrayFromDType(x.dtype, util.sizeFromShape(outShape)) as TypedArray;
    const xValues = backend.data.get(x.dataId).values as TypedArray;
    const ids = backend.data.get(segmentIds.dataId).values as TypedArray;
    scatterAdd(xValues, ids, inner, out);
    return backend.makeTensorInfo(outShape, x.dtype, out);
  },
};
