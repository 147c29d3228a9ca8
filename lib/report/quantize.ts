/**
 * Score compression for the embedded payload. Every per-token score is stored to 1/1000 of its
 * row's range — for the normalised scores in [0, 1], exactly the 3 decimals the page shows, so the
 * page never displays a digit it does not have (and gzip gets ~10 bits per value instead of 16).
 * Columns that are, per row, an affine function of another stored column (raw = min + norm·(max −
 * min) when no projection happened; Δ = ĝ_T − ĝ_S, or its re-normalisation) are stored as two
 * numbers per row instead of a value per token; the client recomputes them.
 */

export const QUANT_MAX = 1000;

/** Largest error of a quantised value, relative to the range it is quantised over. */
export const QUANT_ERROR = 0.5 / QUANT_MAX;

export function quantizeUnit(value: number): number {
  return Math.round(Math.min(1, Math.max(0, value)) * QUANT_MAX);
}

export function dequantizeUnit(q: number): number {
  return q / QUANT_MAX;
}

/**
 * How one row of a column is stored: `derived` = a + b·reference[i]; `explicit` = a + b·q[i]/QUANT_MAX
 * with q the quantised values (a = row min, b = row range). a and b are float32 (they are stored so).
 */
export interface RowEncoding {
  derived: boolean;
  a: number;
  b: number;
  /** Quantised values; only for explicit rows. */
  q?: Uint16Array;
}

/**
 * Encode `values` (one row) against `reference` (what the client already has for the same tokens,
 * itself exact to within `referenceError`): an affine map a + b·reference when it is as accurate as
 * quantising would be — within b·referenceError, or QUANT_ERROR of the row's range — otherwise
 * quantised over the row's own [min, max].
 */
export function encodeRow(values: ArrayLike<number>, reference: ArrayLike<number>, referenceError: number): RowEncoding {
  const n = values.length;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    lo = Math.min(lo, values[i]);
    hi = Math.max(hi, values[i]);
  }
  if (n === 0) return { derived: true, a: 0, b: 0 };
  const range = hi - lo;
  const slack = 1e-6 * Math.max(Math.abs(lo), Math.abs(hi));
  // The identity first: Δ = ĝ_T − ĝ_S exactly, and (0, 1) compresses to nothing.
  for (const candidate of [{ a: 0, b: 1 }, fitAffine(values, reference)]) {
    const a = Math.fround(candidate.a);
    const b = Math.fround(candidate.b);
    const tolerance = Math.max(Math.abs(b) * referenceError, QUANT_ERROR * range) + slack;
    if (maxAffineError(values, reference, a, b) <= tolerance) return { derived: true, a, b };
  }
  const q = new Uint16Array(n);
  for (let i = 0; i < n; i++) q[i] = range > 0 ? Math.round(((values[i] - lo) / range) * QUANT_MAX) : 0;
  return { derived: false, a: Math.fround(lo), b: Math.fround(range), q };
}

/**
 * The affine map through the points where `values` are extreme. For a min-max relation these are
 * where the reference is exactly 0 and 1, which quantisation keeps exact; the reference's own
 * extremes would not do, since several tokens can quantise to the same 0 or 1.
 */
function fitAffine(values: ArrayLike<number>, reference: ArrayLike<number>): { a: number; b: number } {
  let iMin = 0;
  let iMax = 0;
  for (let i = 1; i < values.length; i++) {
    if (values[i] < values[iMin]) iMin = i;
    if (values[i] > values[iMax]) iMax = i;
  }
  const dx = reference[iMax] - reference[iMin];
  if (dx === 0) return { a: values[iMin], b: 0 };
  const b = (values[iMax] - values[iMin]) / dx;
  return { a: values[iMin] - b * reference[iMin], b };
}

function maxAffineError(values: ArrayLike<number>, reference: ArrayLike<number>, a: number, b: number): number {
  let worst = 0;
  for (let i = 0; i < values.length; i++) worst = Math.max(worst, Math.abs(a + b * reference[i] - values[i]));
  return worst;
}

/** What the client computes from a RowEncoding; used by the tests to check the round trip. */
export function decodeRow(encoding: RowEncoding, reference: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < reference.length; i++) {
    const x = encoding.derived ? reference[i] : encoding.q![i] / QUANT_MAX;
    out.push(encoding.a + encoding.b * x);
  }
  return out;
}
