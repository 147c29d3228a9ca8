import type { CharSpan } from '../text/types.ts';
import type { ProjectionMode } from './types.ts';

/** True when both token lists cut the region into exactly the same character spans. */
export function sameTokenization(a: readonly CharSpan[], b: readonly CharSpan[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((span, i) => span.start === b[i].start && span.end === b[i].end);
}

interface Accumulator {
  sum: Float64Array;
  max: Float64Array;
  count: Uint32Array;
}

function accumulator(size: number): Accumulator {
  return { sum: new Float64Array(size), max: new Float64Array(size).fill(-Infinity), count: new Uint32Array(size) };
}

function add(acc: Accumulator, index: number, value: number): void {
  acc.sum[index] += value;
  if (value > acc.max[index]) acc.max[index] = value;
  acc.count[index]++;
}

function result(acc: Accumulator, index: number, mode: ProjectionMode): number | undefined {
  if (acc.count[index] === 0) return undefined;
  return mode === 'max' ? acc.max[index] : acc.sum[index] / acc.count[index];
}

/**
 * Carry per-token values of one tokenisation onto another tokenisation of the same text.
 * Each character takes the value of the source token covering it (max or mean of several when
 * byte-level tokens split one character); each target token then takes the max or mean over its
 * characters. Characters no source token covers (e.g. whitespace a chat template trimmed) are left
 * out of the aggregate; a target token with no covered character gets 0.
 */
export function projectOntoTokens(
  values: ArrayLike<number>,
  from: readonly CharSpan[],
  onto: readonly CharSpan[],
  textLength: number,
  mode: ProjectionMode,
): Float32Array {
  if (values.length !== from.length) throw new Error(`projection: ${values.length} values for ${from.length} tokens`);
  const chars = accumulator(textLength);
  from.forEach((span, t) => {
    for (let c = Math.max(0, span.start); c < Math.min(textLength, span.end); c++) add(chars, c, values[t]);
  });
  const out = new Float32Array(onto.length);
  const token = accumulator(1);
  onto.forEach((span, t) => {
    token.sum[0] = 0;
    token.max[0] = -Infinity;
    token.count[0] = 0;
    for (let c = Math.max(0, span.start); c < Math.min(textLength, span.end); c++) {
      const value = result(chars, c, mode);
      if (value !== undefined) add(token, 0, value);
    }
    out[t] = result(token, 0, mode) ?? 0;
  });
  return out;
}
