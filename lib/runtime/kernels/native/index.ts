// The kernels the `native` backend replaces; adding one is a file plus a line here.
import { cpuUnsortedSegmentSumConfig } from '../cpu/UnsortedSegmentSum.ts';
import { nativeBatchMatMulKernels } from './BatchMatMul.ts';
import { nativeFusedMatMulKernels } from './_FusedMatMul.ts';
import { nativeFusedKernels } from './fused.ts';
import { nativeBinaryKernels } from './binary.ts';
import { nativeConcatKernels } from './Concat.ts';
import { nativeGatherV2Kernels } from './GatherV2.ts';
import { nativeLogSumExpRowsKernels } from './LogSumExpRows.ts';
import { nativePadV2Kernels } from './PadV2.ts';
import { nativeReduceKernels } from './reduce.ts';
import { nativeSliceKernels } from './Slice.ts';
import { nativeSoftmaxKernels } from './Softmax.ts';
import { nativeSplitVKernels } from './SplitV.ts';
import { nativeTransposeKernels } from './Transpose.ts';
import type { NativeKernelFactory } from './types.ts';
import { nativeUnaryKernels } from './unary.ts';

export type { NativeKernel, NativeKernelFactory } from './types.ts';

export const NATIVE_KERNEL_FACTORIES: NativeKernelFactory[] = [
  nativeBatchMatMulKernels,
  nativeFusedMatMulKernels,
  nativeBinaryKernels,
  nativeUnaryKernels,
  nativeSoftmaxKernels,
  nativeReduceKernels,
  nativeTransposeKernels,
  nativeSliceKernels,
  nativeSplitVKernels,
  nativePadV2Kernels,
  nativeConcatKernels,
  nativeGatherV2Kernels,
  nativeLogSumExpRowsKernels,
  nativeFusedKernels,
  () => [cpuUnsortedSegmentSumConfig],
];
