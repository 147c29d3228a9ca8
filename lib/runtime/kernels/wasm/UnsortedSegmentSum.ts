import { UnsortedSegmentSum, type KernelConfig, type TensorInfo, type UnsortedSegmentSumAttrs } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { scatterAdd, segmentSumGeometry } from '../shared/segment-sum.ts';

/** The wasm backend registers no UnsortedSegmentSum (needed by the gradient of gather): a scatter-add on its heap. */
export const wasmUnsortedSegmentSumConfig: KernelConfig = {
  kernelName: UnsortedSegmentSum,
  backendName: 'wasm',
  kernelFunc: (args) => {
    const backend = args.backend as BackendWasm;
    const { x, segmentIds } = args.inputs as { x: TensorInfo; segmentIds: TensorInfo };
    const { numSegments } = args.attrs as unknown as UnsortedSegmentSumAttrs;
    if (x.dtype !== 'float32' && x.dtype !== 'int32') throw new Error(`unsortedSegmentSum does not support ${x.dtype} inputs on wasm`);
    const { outShape, inner } = segmentSumGeometry(x.shape, segmentIds.shape, numSegments);
    const out = backend.makeOutput(outShape, x.dtype);
    const values = backend.typedArrayFromHeap(out);
    values.fill(0);
    scatterAdd(backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(segmentIds), inner, values);
    return out;
  },
};
