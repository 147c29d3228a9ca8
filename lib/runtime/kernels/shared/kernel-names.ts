/**
 * Kernels tfjs has no name for, used by the LM-head loss (lib/models/loss.ts) where the active
 * backend registers them (native does), with a composition of stock ops elsewhere:
 * LeafLogSumExpRows(x [N, V]) → [lse, max, sum], each [N]: log Σ_v exp(x[n, v]), the row max and
 * Σ_v exp(x[n, v] − max); LeafSoftmaxScaleRows(x [N, V], max, sum, dy [N]) → [N, V],
 * softmax(x)·dy, its gradient.
 */
export const LOG_SUM_EXP_ROWS = 'LeafLogSumExpRows';
export const SOFTMAX_SCALE_ROWS = 'LeafSoftmaxScaleRows';

/**
 * The decoder's fused element-wise chains (lib/models/fused-ops.ts), likewise used where the
 * backend registers them: LeafRmsNorm(x [N, D], w [D]; eps) → [out [N, D], r [N]];
 * LeafRmsNormGrad(dy, x, w, r) → [dx, dw]; LeafSiluGate(g, u) → silu(g)·u;
 * LeafSiluGateGrad(dy, g, u) → [dg, du]; LeafRope(x, cos, sin; headDim) → x·cos + rotate_half(x)·sin;
 * LeafRopeGrad(dy, cos, sin; headDim) → dx; LeafMaskedSoftmax(scores [B, H, T, Tk], bias [B, 1, T, Tk])
 * → softmax(scores + bias) over the last axis; LeafSoftmaxGrad(y, dy) → dx.
 */
export const RMS_NORM = 'LeafRmsNorm';
export const RMS_NORM_GRAD = 'LeafRmsNormGrad';
export const SILU_GATE = 'LeafSiluGate';
export const SILU_GATE_GRAD = 'LeafSiluGateGrad';
export const ROPE = 'LeafRope';
export const ROPE_GRAD = 'LeafRopeGrad';
export const MASKED_SOFTMAX = 'LeafMaskedSoftmax';
export const SOFTMAX_GRAD = 'LeafSoftmaxGrad';
