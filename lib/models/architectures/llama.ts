import { llamaFamily } from './llama-family.ts';
import { readBoolean } from '../hf-config.ts';
import { registerArchitecture } from './registry.ts';

registerArchitecture(
  llamaFamily({
    modelType: 'llama',
    hfClass: 'LlamaForCausalLM',
    tieByDefault: false,
    qkvBias: (raw, source) => readBoolean(raw, 'attention_bias', source, false),
    outputBias: (raw, source) => readBoolean(raw, 'attention_bias', source, false),
    mlpBias: (raw, source) => readBoolean(raw, 'mlp_bias', source, false),
    slidingWindow: () => undefined,
  }),
);
