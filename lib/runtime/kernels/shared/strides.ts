/** Row-major strides of a contiguous tensor. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let stride = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = stride;
    stride *= shape[d];
  }
  return strides;
}

/** Strides that read a contiguous `shape` as if broadcast to `outShape` (numpy rules): 0 where it repeats. */
export function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const own = contiguousStrides(shape);
  const offset = outShape.length - shape.length;
  return outShape.map((size, d) => {
    const i = d - offset;
    if (i < 0 || shape[i] === 1) return 0;
    if (shape[i] !== size) throw new Error(`shape [${shape}] does not broadcast to [${outShape}]`);
    return own[i];
  });
}

/**
 * The same index space with fewer dimensions: size-1 dimensions dropped and neighbours merged
 * wherever every operand steps through them as one (so inner loops get long and the odometer short).
 */
export function collapseDims(shape: readonly number[], strides: readonly (readonly number[])[]): { shape: Int32Array; strides: Int32Array[] } {
  const keptShape: number[] = [];
  const kept: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = keptShape.length - 1;
    if (last >= 0 && strides.every((s, k) => kept[k][last] === s[d] * shape[d])) {
      keptShape[last] *= shape[d];
      strides.forEach((s, k) => (kept[k][last] = s[d]));
    } else {
      keptShape.push(shape[d]);
      strides.forEach((s, k) => kept[k].push(s[d]));
    }
  }
  return { shape: Int32Array.from(keptShape), strides: kept.map((s) => Int32Array.from(s)) };
}
