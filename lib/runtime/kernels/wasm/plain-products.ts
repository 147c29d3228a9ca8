import { getKernel, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { matMulGeometry } from '../shared/matmul-geometry.ts';

/** A 2-D product on the wasm backend: [1, m, k] · [1, k, n] → [1, m, n], nothing transposed. */
export type PlainProduct = (a: TensorInfo, b: TensorInfo) => TensorInfo;

/** Runs a registered wasm kernel directly (kernel-to-kernel, outside the engine). */
export function wasmKernel(backend: BackendWasm, name: string, inputs: Record<string, TensorInfo>, attrs: Record<string, unknown> = {}) {
  return getKernel(name, 'wasm').kernelFunc({ inputs, backend, attrs: attrs as never }) as TensorInfo;
}

/**
 * Any BatchMatMul on wasm as a sequence of the one case its XNNPACK path is fast for (a single
 * untransposed 2-D product; transposed or batched inputs fall to a naive loop 10–25× slower).
 * Transposes are materialised once; a batch that shares one B becomes a single tall product;
 * other batches run matrix by matrix on copies.
 */
export function plainProducts(
  backend: BackendWasm,
  a: TensorInfo,
  b: TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
  product: PlainProduct,
): TensorInfo {
  const g = matMulGeometry(a.shape, b.shape, transposeA, transposeB);
  const { m, n, k } = g;
  const batch = g.aIndex.length;
  const temporaries: TensorInfo[] = [];
  const keep = (t: TensorInfo) => (temporaries.push(t), t);
  const asStack = (x: TensorInfo, count: number, rows: number, cols: number, transpose: boolean) => {
    const stacked = keep(wasmKernel(backend, 'Reshape', { x }, { shape: transpose ? [count, cols, rows] : [count, rows, cols] }));
    return transpose ? keep(wasmKernel(backend, 'Transpose', { x: stacked }, { perm: [0, 2, 1] })) : stacked;
  };
  const aStack = asStack(a, g.batchA, m, k, transposeA);
  const bStack = asStack(b, g.batchB, k, n, transposeB);
  try {
    if (batch <= 1 || (g.batchB === 1 && g.batchA === batch)) {
      const tall = keep(wasmKernel(backend, 'Reshape', { x: aStack }, { shape: [1, batch * m, k] }));
      const result = product(tall, bStack);
      return wasmKernel(backend, 'Reshape', { x: keep(result) }, { shape: g.outShape });
    }
    const out = backend.makeOutput(g.outShape, 'float32');
    for (let i = 0; i < batch; i++) {
      const aMatrix = keep(matrixCopy(backend, aStack, g.aIndex[i], m, k));
      const bMatrix = keep(matrixCopy(backend, bStack, g.bIndex[i], k, n));
      const result = keep(product(aMatrix, bMatrix));
      // Views are taken after every allocation: growing the wasm heap detaches older ones.
      backend.typedArrayFromHeap(out).set(backend.typedArrayFromHeap(result), i * m * n);
    }
    return out;
  } finally {
    for (const t of temporaries) backend.disposeData(t.dataId);
  }
}

function matrixCopy(backend: BackendWasm, stack: TensorInfo, index: number, rows: number, cols: number): TensorInfo {
  const matrix = backend.makeOutput([1, rows, cols], 'float32');
  const size = rows * cols;
  backend.typedArrayFromHeap(matrix).set(backend.typedArrayFromHeap(stack).subarray(index * size, (index + 1) * size));
  return matrix;
}
