import { broadcast_util, util } from '@tensorflow/tfjs-core';

/**
 * A batched matmul reduced to a list of 2-D products: output matrix i is
 * op(A[aIndex[i]]) · op(B[bIndex[i]]), each operand viewed as a stack of matrices.
 */
export interface MatMulGeometry {
  m: number;
  n: number;
  k: number;
  transposeA: boolean;
  transposeB: boolean;
  outShape: number[];
  /** Matrices stacked in A and in B. */
  batchA: number;
  batchB: number;
  aIndex: Int32Array;
  bIndex: Int32Array;
}

/**
 * Shapes, broadcasting and index lists of a BatchMatMul. Batch dimensions broadcast numpy-style,
 * dimension by dimension (the stock cpu kernel's `i % batch` is only right when one side has a
 * single matrix).
 */
export function matMulGeometry(
  aShape: readonly number[],
  bShape: readonly number[],
  transposeA: boolean,
  transposeB: boolean,
): MatMulGeometry {
  const aRank = aShape.length;
  const bRank = bShape.length;
  if (aRank < 2 || bRank < 2) throw new Error(`matMul needs rank >= 2 operands, got shapes [${aShape}] and [${bShape}]`);
  const k = transposeA ? aShape[aRank - 2] : aShape[aRank - 1];
  const kB = transposeB ? bShape[bRank - 1] : bShape[bRank - 2];
  const m = transposeA ? aShape[aRank - 1] : aShape[aRank - 2];
  const n = transposeB ? bShape[bRank - 2] : bShape[bRank - 1];
  util.assert(
    k === kB,
    () =>
      `Error in matMul: inner shapes (${k}) and (${kB}) of Tensors with shapes ${aShape} and ${bShape} and ` +
      `transposeA=${transposeA} and transposeB=${transposeB} must match.`,
  );
  const aOuter = aShape.slice(0, -2);
  const bOuter = bShape.slice(0, -2);
  const outOuter = broadcast_util.assertAndGetBroadcastShape(aOuter, bOuter);
  const batch = util.sizeFromShape(outOuter);
  const aIndex = new Int32Array(batch);
  const bIndex = new Int32Array(batch);
  const aStrides = alignedStrides(aOuter, outOuter.length);
  const bStrides = alignedStrides(bOuter, outOuter.length);
  for (let i = 0; i < batch; i++) {
    let rest = i;
    let ai = 0;
    let bi = 0;
    for (let d = outOuter.length - 1; d >= 0; d--) {
      const coordinate = rest % outOuter[d];
      rest = (rest - coordinate) / outOuter[d];
      ai += coordinate * aStrides[d];
      bi += coordinate * bStrides[d];
    }
    aIndex[i] = ai;
    bIndex[i] = bi;
  }
  return {
    m,
    n,
    k,
    transposeA,
    transposeB,
    outShape: [...outOuter, m, n],
    batchA: util.sizeFromShape(aOuter),
    batchB: util.sizeFromShape(bOuter),
    aIndex,
    bIndex,
  };
}

/** Matrix strides of an operand's batch dims, right-aligned to `rank` dims; broadcast dims get 0. */
function alignedStrides(outer: readonly number[], rank: number): number[] {
  const strides = new Array<number>(rank).fill(0);
  let stride = 1;
  for (let d = outer.length - 1; d >= 0; d--) {
    const aligned = d + rank - outer.length;
    strides[aligned] = outer[d] === 1 ? 0 : stride;
    stride *= outer[d];
  }
  return strides;
}

/**
 * When B is one matrix shared by every batch entry and A is not transposed, the whole batch is a
 * single GEMM with A viewed as [batch·m, k]: one large call instead of many small ones.
 */
export function foldSharedB(g: MatMulGeometry): MatMulGeometry {
  const batch = g.aIndex.length;
  if (batch <= 1 || g.batchB !== 1 || g.transposeA || g.batchA !== batch) return g;
  return { ...g, m: g.m * batch, batchA: 1, aIndex: new Int32Array(1), bIndex: new Int32Array(1) };
}
