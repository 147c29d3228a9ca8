import { registerThresholdRule } from './registry.ts';

/**
 * Quantile with linear interpolation between order statistics (numpy's default `linear` method,
 * which the authors' scripts use through np.percentile).
 */
export function quantile(values: ArrayLike<number>, q: number): number {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  const position = q * (sorted.length - 1);
  const lower = Math.floor(position);
  const upper = Math.min(lower + 1, sorted.length - 1);
  return sorted[lower] + (position - lower) * (sorted[upper] - sorted[lower]);
}

// The authors' scripts: τ = the p-th quantile of the region's Δ values, capped.
registerThresholdRule({
  name: 'percentile',
  description: "τ = min(p-quantile of the region's Δ values, cap) (the authors' scripts)",
  parameters: {
    p: { default: 0.05, min: 0, max: 1, description: 'quantile of the region Δ values, in [0, 1] (0.05 math, 0.10 code in the scripts)' },
    cap: { default: 0.5, description: 'upper bound on τ' },
  },
  threshold: (delta, { p, cap }) => Math.min(quantile(delta, p), cap),
});
