import { llamaFamily } from './llama-family.ts';
import { rejectUnsupported } from '../hf-config.ts';
import { registerArchitecture } from './registry.ts';

registerArchitecture(
  llamaFamily({
    modelType: 'qwen2',
    hfClass: 'Qwen2ForCausalLM',
    tieByDefault: false,
    // Qwen2 always has q/k/v biases and none elsewhere.
    qkvBias: () => true,
    outputBias: () => false,
    mlpBias: () => false,
    slidingWindow: (raw, source) => {
      // Per-layer windows (use_sliding_window with max_window_layers) are not implemented.
      rejectUnsupported(raw, 'use_sliding_window', source, (value) => value === false, 'per-layer sliding windows');
      return undefined;
    },
  }),
);
