import { util, type TypedArray } from '@tensorflow/tfjs-core';

/**
 * Output shape of UnsortedSegmentSum: [numSegments, ...x.shape after the segment-id dims], and
 * the number of elements each id carries.
 */
export function segmentSumGeometry(
  xShape: readonly number[],
  idsShape: readonly number[],
  numSegments: number,
): { outShape: number[]; inner: number } {
  const idsCount = util.sizeFromShape(idsShape as number[]);
  const prefix = xShape.slice(0, idsShape.length);
  if (prefix.length !== idsShape.length || prefix.some((d, i) => d !== idsShape[i]))
    throw new Error(`unsortedSegmentSum: segmentIds shape [${idsShape}] must be a prefix of x shape [${xShape}]`);
  if (!Number.isInteger(numSegments) || numSegments < 0)
    throw new Error(`unsortedSegmentSum: numSegments must be a non-negative integer, got ${numSegments}`);
  const innerShape = xShape.slice(idsShape.length);
  return { outShape: [numSegments, ...innerShape], inner: idsCount === 0 ? 0 : util.sizeFromShape(innerShape) };
}

/**
 * out[id] += x[row] for every row, in O(size of x) instead of the stock kernel's
 * O(numSegments · size of x). Ids outside [0, numSegments) are dropped, as in the stock kernel.
 * `out` must be zeroed, with numSegments · inner elements.
 */
export function scatterAdd(x: TypedArray, ids: TypedArray, inner: number, out: TypedArray): void {
  const numSegments = inner === 0 ? 0 : out.length / inner;
  for (let row = 0; row < ids.length; row++) {
    const id = ids[row];
    if (id < 0 || id >= numSegments) continue;
    const from = row * inner;
    const to = id * inner;
    for (let j = 0; j < inner; j++) out[to + j] += x[from + j];
  }
}
