import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** Activation codes understood by `epilogue`; the numbers mirror the enum in src/gemm.c. */
export const ACTIVATION_CODES = {
  linear: 0,
  relu: 1,
  relu6: 2,
  elu: 3,
  leakyrelu: 4,
  prelu: 5,
  sigmoid: 6,
} as const;

/** Operation codes of `binary`; the numbers mirror the enum in src/elementwise.c. */
export const BINARY_CODES = { Add: 0, Sub: 1, Multiply: 2, RealDiv: 3, Maximum: 4, Minimum: 5, SquaredDifference: 6 } as const;

/** Operation codes of `unary`; the numbers mirror the enum in src/elementwise.c. */
export const UNARY_CODES = { Exp: 0, Log: 1, Sigmoid: 2, Sqrt: 3, Rsqrt: 4, Neg: 5, Square: 6, Tanh: 7 } as const;

/** Operation codes of `reduce`; the numbers mirror the enum in src/elementwise.c. */
export const REDUCE_CODES = { Sum: 0, Mean: 1, Max: 2, Min: 3 } as const;

export type FourByteArray = Float32Array | Int32Array;

export interface NativeAddon {
  /** c[i] = op(a[aIndex[i]]) · op(b[bIndex[i]]) for every i; row-major m×k, k×n, m×n matrices. */
  sgemmBatched(
    a: Float32Array,
    b: Float32Array,
    c: Float32Array,
    m: number,
    n: number,
    k: number,
    transposeA: boolean,
    transposeB: boolean,
    aIndex: Int32Array,
    bIndex: Int32Array,
  ): void;
  /** In place: c[i] = act(c[i] + bias[i % bias.length]); preluAlpha repeats the same way. */
  epilogue(
    c: Float32Array,
    bias: Float32Array | null,
    activation: number,
    leakyAlpha: number,
    preluAlpha: Float32Array | null,
  ): void;
  /** out = a ∘ b over `shape`, each operand read through its strides (0 where it broadcasts). */
  binary(op: number, a: Float32Array, aStrides: Int32Array, b: Float32Array, bStrides: Int32Array, out: Float32Array, shape: Int32Array): void;
  /** out[i] = f(x[i]). */
  unary(op: number, x: Float32Array, out: Float32Array): void;
  /** Softmax over each contiguous row of `cols` elements. */
  softmax(x: Float32Array, out: Float32Array, cols: number): void;
  /** out[r] = reduction of the contiguous row r of `cols` elements. */
  reduce(op: number, x: Float32Array, out: Float32Array, cols: number): void;
  /** Bitwise strided copy of 4-byte elements over the index space `shape`. */
  copyStrided(
    src: FourByteArray,
    srcOffset: number,
    srcStrides: Int32Array,
    dst: FourByteArray,
    dstOffset: number,
    dstStrides: Int32Array,
    shape: Int32Array,
  ): void;
  /** x as [batch, outer, dim, slice], indices as [batch, n]: out[b, o, i, :] = x[b, o, indices[b, i], :]. */
  gather(x: FourByteArray, batch: number, outer: number, dim: number, slice: number, indices: Int32Array, out: FourByteArray): void;
  /** out[r] = log Σ_j exp(x[r, j]) over rows of `cols` elements; also the row max and Σ exp(x − max). */
  logSumExpRows(x: Float32Array, out: Float32Array, max: Float32Array, sum: Float32Array, cols: number): void;
  /** out[r, j] = softmax(x[r])[j] · dy[r], from the row max and sum of logSumExpRows. */
  softmaxScaleRows(x: Float32Array, max: Float32Array, sum: Float32Array, dy: Float32Array, out: Float32Array, cols: number): void;
  /** The file mapped once (copy-on-write); one ArrayBuffer per [start, end) byte pair of `ranges`. */
  mapRanges(path: string, ranges: Float64Array): ArrayBuffer[];
  /** Returns the resident pages under a mapped view to the kernel (re-read from the file on next use). */
  dropPages(view: Uint16Array): void;
  /** out[m×n] = a[m×k] · op(W), W a 16-bit (BF16 or F16) wRows×wCols matrix widened a panel at a time; op(W) = Wᵀ when transposeW. */
  halfGemm(a: Float32Array, m: number, k: number, w: Uint16Array, wRows: number, wCols: number, transposeW: boolean, bf16: boolean, out: Float32Array): void;
  /** out[i, :] = float32(W[rows[i], :]) for a 16-bit W with `cols` columns. */
  widenRows(w: Uint16Array, cols: number, bf16: boolean, rows: Int32Array, out: Float32Array): void;
  /** out = (x·r)·w per row of w.length, r = 1/√(mean(x²) + eps) written per row. */
  rmsNorm(x: Float32Array, w: Float32Array, eps: number, out: Float32Array, r: Float32Array): void;
  /** RMSNorm's gradients from the forward's r: dx per element, dw per column. */
  rmsNormGrad(dy: Float32Array, x: Float32Array, w: Float32Array, r: Float32Array, dx: Float32Array, dw: Float32Array): void;
  /** out = silu(g)·u. */
  siluGate(g: Float32Array, u: Float32Array, out: Float32Array): void;
  /** The gradients of siluGate w.r.t. g and u. */
  siluGateGrad(dy: Float32Array, g: Float32Array, u: Float32Array, dg: Float32Array, du: Float32Array): void;
  /** out = x·cos + rotate_half(x)·sin over heads of headDim elements. */
  rope(x: Float32Array, cos: Float32Array, sin: Float32Array, headDim: number, out: Float32Array): void;
  /** The gradient of rope w.r.t. x. */
  ropeGrad(dy: Float32Array, cos: Float32Array, sin: Float32Array, headDim: number, dx: Float32Array): void;
  /** out = softmax(scores + bias) over rows; scores [B, heads, length, cols], bias [B, 1, length, cols]. */
  maskedSoftmax(scores: Float32Array, bias: Float32Array, heads: number, length: number, cols: number, out: Float32Array): void;
  /** dx = dy·y − Σ(dy·y)·y per row of cols elements: the gradient of a softmax y. */
  softmaxGrad(y: Float32Array, dy: Float32Array, cols: number, dx: Float32Array): void;
  /** AdamW on one parameter in place (w, m, v); hyper = [gradScale, beta1, beta2, stepSize, correction2Sqrt, epsilon, decay]. */
  adamwStep(w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, hyper: Float64Array): void;
  info(): { config: string; corename: string; threads: number; processors: number };
  /** Keeps freed heap memory mapped for reuse (glibc); true when the allocator was tuned. */
  retainFreedMemory(): boolean;
  /** Bytes freed but kept by the allocator for reuse (glibc), 0 where unknown. */
  retainedFreeBytes(): number;
  setThreads(threads: number): void;
}

export const DEFAULT_ADDON_PATH = fileURLToPath(new URL('./build/Release/leaf_native.node', import.meta.url));

/** Where the addon is loaded from: LEAF_NATIVE_ADDON overrides the build output (tests use it to simulate absence). */
export function addonPath(): string {
  return process.env.LEAF_NATIVE_ADDON || DEFAULT_ADDON_PATH;
}

export const BUILD_HINT = 'apt-get install libopenblas-dev, then npm run build:native';

let loaded: { path: string; addon: NativeAddon } | undefined;

/** Loads the addon once per path; throws an Error whose message says why it is unavailable. */
export function loadAddon(): NativeAddon {
  const path = addonPath();
  if (loaded?.path === path) return loaded.addon;
  if (!existsSync(path)) throw new Error(`native addon not built (no ${path})`);
  let addon: NativeAddon;
  try {
    addon = createRequire(import.meta.url)(path) as NativeAddon;
  } catch (error) {
    throw new Error(`native addon at ${path} failed to load: ${(error as Error).message}`);
  }
  if (typeof addon.sgemmBatched !== 'function' || typeof addon.info !== 'function')
    throw new Error(`${path} is not leaf's native addon (sgemmBatched/info missing)`);
  loaded = { path, addon };
  return addon;
}

/** "OpenBLAS 0.3.21 (Haswell)" from openblas_get_config / openblas_get_corename. */
export function describeBlas(addon: NativeAddon): string {
  const { config, corename } = addon.info();
  const version = /OpenBLAS\s+(\S+)/.exec(config)?.[1];
  return `OpenBLAS${version ? ` ${version}` : ''} (${corename})`;
}
