import { llamaFamily } from './llama-family.ts';
import { registerArchitecture } from './registry.ts';

registerArchitecture(
  llamaFamily({
    modelType: 'mistral',
    hfClass: 'MistralForCausalLM',
    tieByDefault: false,
    qkvBias: () => false,
    outputBias: () => false,
    mlpBias: () => false,
    slidingWindow: (raw, source) => {
      const window = raw.sliding_window;
      if (window === undefined || window === null) return undefined;
      if (typeof window !== 'number' || !Number.isInteger(window) || window <= 0) {
        throw new Error(`${source}: sliding_window must be a positive integer or null, got ${JSON.stringify(window)}`);
      }
      return window;
    },
  }),
);
