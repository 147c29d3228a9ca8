import { registerThresholdRule } from './registry.ts';

// The paper: one absolute τ on Δ for every region (0.05, 0.10, 0.15 studied).
registerThresholdRule({
  name: 'absolute',
  description: 'a fixed τ on Δ (the paper)',
  parameters: { tau: { default: 0.05, description: 'flag tokens with Δ ≤ tau' } },
  threshold: (_delta, { tau }) => tau,
});
