import { BatchMatMul, type BatchMatMulAttrs, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { plainProducts } from './plain-products.ts';

/** Wraps the stock wasm BatchMatMul so transposed and batched inputs reach its fast 2-D path. */
export function wasmBatchMatMulConfig(stock: KernelConfig): KernelConfig {
  return {
    ...stock,
    kernelName: BatchMatMul,
    kernelFunc: (args) => {
      const backend = args.backend as BackendWasm;
      const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
      const { transposeA, transposeB } = args.attrs as unknown as BatchMatMulAttrs;
      const plain = (x: TensorInfo, y: TensorInfo) =>
        stock.kernelFunc({ inputs: { a: x, b: y }, backend, attrs: { transposeA: false, transposeB: false } }) as TensorInfo;
      return plainProducts(backend, a, b, transposeA, transposeB, plain);
    },
  };
}
