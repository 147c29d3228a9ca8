import { _FusedMatMul, type _FusedMatMulAttrs, type TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { ACTIVATION_CODES } from '../../native/addon.ts';
import { nativeMatMul } from './BatchMatMul.ts';
import type { NativeKernelFactory } from './types.ts';
import { float32Values } from './values.ts';

/**
 * Values of `operand` when it broadcasts against `shape` by plain repetition, i.e. its shape minus
 * leading 1s is a suffix of `shape`: then element i of the output pairs with values[i % length].
 */
function periodicValues(backend: MathBackendCPU, operand: TensorInfo, shape: readonly number[]): Float32Array | null {
  const trimmed = operand.shape.slice(operand.shape.findIndex((d) => d !== 1));
  const own = operand.shape.every((d) => d === 1) ? [] : trimmed;
  if (own.length > shape.length) return null;
  const suffix = shape.slice(shape.length - own.length);
  if (!own.every((d, i) => d === suffix[i])) return null;
  return float32Values(backend, operand);
}

/** BatchMatMul through OpenBLAS followed by bias and activation applied in place in one pass. */
export const nativeFusedMatMulKernels: NativeKernelFactory = (addon, stock) => [
  {
    kernelName: _FusedMatMul,
    kernelFunc: (args) => {
      const backend = args.backend as MathBackendCPU;
      const { a, b, bias, preluActivationWeights } = args.inputs as Record<string, TensorInfo | undefined>;
      const { transposeA, transposeB, activation, leakyreluAlpha } = args.attrs as unknown as _FusedMatMulAttrs;
      if (!(activation in ACTIVATION_CODES))
        throw new Error(`Activation ${activation} has not been implemented for the native backend.`);
      const product = nativeMatMul(addon, backend, a!, b!, transposeA, transposeB);
      if (!product) return stock(_FusedMatMul)(args);

      let current = backend.makeTensorInfo(product.shape, 'float32', product.values);
      let biasValues: Float32Array | null = null;
      if (bias) {
        biasValues = periodicValues(backend, bias, current.shape);
        if (!biasValues) current = replace(backend, current, stock('Add')({ inputs: { a: current, b: bias }, backend }));
      }
      let code: number = ACTIVATION_CODES[activation as keyof typeof ACTIVATION_CODES];
      let preluValues: Float32Array | null = null;
      if (activation === 'prelu') {
        // Weights that do not simply repeat along the output go through the stock Prelu kernel.
        preluValues = periodicValues(backend, preluActivationWeights!, current.shape);
        if (!preluValues) code = ACTIVATION_CODES.linear;
      }
      addon.epilogue(float32Values(backend, current)!, biasValues, code, leakyreluAlpha ?? 0, preluValues);
      if (activation === 'prelu' && !preluValues) {
        const inputs = { x: current, alpha: preluActivationWeights! };
        current = replace(backend, current, stock('Prelu')({ inputs, backend }));
      }
      return current;
    },
  },
];

function replace(backend: MathBackendCPU, previous: TensorInfo, next: TensorInfo | TensorInfo[]): TensorInfo {
  backend.disposeIntermediateTensorInfo(previous);
  return next as TensorInfo;
}
