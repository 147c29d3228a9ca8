import { _FusedMatMul, type _FusedMatMulAttrs, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { plainProducts, wasmKernel } from './plain-products.ts';

/** tfjs's fused activations as the wasm kernels that compute them. */
const ACTIVATIONS: Record<string, (backend: BackendWasm, x: TensorInfo, attrs: _FusedMatMulAttrs, alpha?: TensorInfo) => TensorInfo> = {
  relu: (backend, x) => wasmKernel(backend, 'Relu', { x }),
  relu6: (backend, x) => wasmKernel(backend, 'Relu6', { x }),
  elu: (backend, x) => wasmKernel(backend, 'Elu', { x }),
  sigmoid: (backend, x) => wasmKernel(backend, 'Sigmoid', { x }),
  leakyrelu: (backend, x, attrs) => wasmKernel(backend, 'LeakyRelu', { x }, { alpha: attrs.leakyreluAlpha ?? 0.2 }),
  prelu: (backend, x, _attrs, alpha) => wasmKernel(backend, 'Prelu', { x, alpha: alpha! }),
};

/**
 * Single untransposed products keep the stock fused kernel; everything else goes through the
 * wrapped matmul, then bias and activation as separate wasm kernels (cheap next to the product).
 */
export function wasmFusedMatMulConfig(stock: KernelConfig, stockBatchMatMul: KernelConfig): KernelConfig {
  return {
    ...stock,
    kernelName: _FusedMatMul,
    kernelFunc: (args) => {
      const backend = args.backend as BackendWasm;
      const { a, b, bias, preluActivationWeights } = args.inputs as Record<string, TensorInfo | undefined>;
      const attrs = args.attrs as unknown as _FusedMatMulAttrs;
      const single = a!.shape.slice(0, -2).every((d) => d === 1) && b!.shape.slice(0, -2).every((d) => d === 1);
      if (single && !attrs.transposeA && !attrs.transposeB && (!bias || bias.shape.length === 1)) return stock.kernelFunc(args);
      if (attrs.activation !== 'linear' && !(attrs.activation in ACTIVATIONS))
        throw new Error(`Activation ${attrs.activation} has not been implemented for the wasm backend.`);

      const plain = (x: TensorInfo, y: TensorInfo) =>
        stockBatchMatMul.kernelFunc({ inputs: { a: x, b: y }, backend, attrs: { transposeA: false, transposeB: false } }) as TensorInfo;
      let current = plainProducts(backend, a!, b!, attrs.transposeA, attrs.transposeB, plain);
      const step = (next: TensorInfo) => {
        backend.disposeData(current.dataId);
        current = next;
      };
      if (bias) step(wasmKernel(backend, 'Add', { a: current, b: bias }));
      if (attrs.activation !== 'linear') step(ACTIVATIONS[attrs.activation](backend, current, attrs, preluActivationWeights));
      return current;
    },
  };
}
