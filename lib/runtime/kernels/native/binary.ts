import { backend_util, util, type TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { BINARY_CODES } from '../../native/addon.ts';
import { broadcastStrides, collapseDims } from '../shared/strides.ts';
import { float32Values, uninitializedFloat32 } from './values.ts';
import type { NativeKernelFactory } from './types.ts';

/** Add, Sub, Multiply, RealDiv, Maximum, Minimum, SquaredDifference on float32 with broadcasting. */
export const nativeBinaryKernels: NativeKernelFactory = (addon, stock) =>
  Object.entries(BINARY_CODES).map(([kernelName, code]) => ({
    kernelName,
    kernelFunc: (args) => {
      const backend = args.backend as MathBackendCPU;
      const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
      const aValues = a.dtype === 'float32' ? float32Values(backend, a) : null;
      const bValues = b.dtype === 'float32' ? float32Values(backend, b) : null;
      if (!aValues || !bValues) return stock(kernelName)(args);
      const outShape = backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
      const out = uninitializedFloat32(util.sizeFromShape(outShape));
      const { shape, strides } = collapseDims(outShape, [broadcastStrides(a.shape, outShape), broadcastStrides(b.shape, outShape)]);
      addon.binary(code, aValues, strides[0], bValues, strides[1], out, shape);
      return backend.makeTensorInfo(outShape, 'float32', out);
    },
  }));
