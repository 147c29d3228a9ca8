import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { float32Values, uninitializedFloat32 } from './values.ts';
import type { NativeKernelFactory } from './types.ts';
import { LOG_SUM_EXP_ROWS, SOFTMAX_SCALE_ROWS } from '../shared/kernel-names.ts';

function rows(backend: MathBackendCPU, x: TensorInfo, kernel: string): { values: Float32Array; cols: number } {
  const values = float32Values(backend, x);
  if (!values || x.shape.length !== 2 || x.shape[1] === 0) throw new Error(`${kernel}: x must be a non-empty float32 [rows, cols] tensor, got ${x.dtype} [${x.shape}]`);
  return { values, cols: x.shape[1] };
}

function perRow(backend: MathBackendCPU, t: TensorInfo, count: number, kernel: string, name: string): Float32Array {
  const values = float32Values(backend, t);
  if (!values || values.length !== count) throw new Error(`${kernel}: ${name} must be float32 with one value per row (${count}), got ${t.dtype} [${t.shape}]`);
  return values;
}

/** The LM-head loss's row kernels (see ../shared/kernel-names.ts), one threaded C pass each. */
export const nativeLogSumExpRowsKernels: NativeKernelFactory = (addon) => [
  {
    kernelName: LOG_SUM_EXP_ROWS,
    kernelFunc: (args) => {
      const backend = args.backend as MathBackendCPU;
      const { x } = args.inputs as { x: TensorInfo };
      const { values, cols } = rows(backend, x, LOG_SUM_EXP_ROWS);
      const n = x.shape[0];
      const [out, max, sum] = [uninitializedFloat32(n), uninitializedFloat32(n), uninitializedFloat32(n)];
      addon.logSumExpRows(values, out, max, sum, cols);
      return [out, max, sum].map((v) => backend.makeTensorInfo([n], 'float32', v));
    },
  },
  {
    kernelName: SOFTMAX_SCALE_ROWS,
    kernelFunc: (args) => {
      const backend = args.backend as MathBackendCPU;
      const { x, max, sum, dy } = args.inputs as Record<'x' | 'max' | 'sum' | 'dy', TensorInfo>;
      const { values, cols } = rows(backend, x, SOFTMAX_SCALE_ROWS);
      const n = x.shape[0];
      const out = uninitializedFloat32(values.length);
      const row = (t: TensorInfo, name: string) => perRow(backend, t, n, SOFTMAX_SCALE_ROWS, name);
      addon.softmaxScaleRows(values, row(max, 'max'), row(sum, 'sum'), row(dy, 'dy'), out, cols);
      return backend.makeTensorInfo(x.shape, 'float32', out);
    },
  },
];
