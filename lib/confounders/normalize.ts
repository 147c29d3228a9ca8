/**
 * Min-max normalisation of one region's scores to [0, 1].
 * A constant region (max == min, including a single token) maps to all zeros: it carries no
 * ranking, and zeros keep Δ = ĝ_T − ĝ_S defined instead of dividing by zero.
 */
export function minMaxNormalize(values: ArrayLike<number>): Float32Array {
  const out = new Float32Array(values.length);
  if (values.length === 0) return out;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    lo = Math.min(lo, values[i]);
    hi = Math.max(hi, values[i]);
  }
  const range = hi - lo;
  if (!(range > 0)) return out;
  for (let i = 0; i < values.length; i++) out[i] = (values[i] - lo) / range;
  return out;
}
