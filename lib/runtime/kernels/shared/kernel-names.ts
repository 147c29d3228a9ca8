/**
 * Kernels tfjs has no name for, used by the LM-head loss (lib/models/loss.ts) where the active
 * backend registers them (native does), with a composition of stock ops elsewhere:
 * LeafLogSumExpRows(x [N, V]) → [lse, max, sum], each [N]: log Σ_v exp(x[n, v]), the row max and
 * Σ_v exp(x[n, v] − max); LeafSoftmaxScaleRows(x [N, V], max, sum, dy [N]) → [N, V],
 * softmax(x)·dy, its gradient.
 */
export const LOG_SUM_EXP_ROWS = 'LeafLogSumExpRows';
export const SOFTMAX_SCALE_ROWS = 'LeafSoftmaxScaleRows';
