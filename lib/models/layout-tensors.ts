import type { DecoderConfig } from './types.ts';
import type { DecoderLayout, LinearSpec, NormSpec } from './architectures/types.ts';

export interface TensorSpec {
  /** Canonical HF name. */
  name: string;
  /** Shape in HF orientation. */
  shape: number[];
  /** How a freshly initialised model fills it. */
  init: 'normal' | 'ones' | 'zeros';
}

/** Every tensor a layout needs, each once (a tied head adds nothing), in checkpoint order. */
export function layoutTensors(layout: DecoderLayout, config: DecoderConfig): TensorSpec[] {
  const specs: TensorSpec[] = [];
  const linear = (l: LinearSpec) => {
    specs.push({ name: l.weight, shape: l.storage === 'out-in' ? [l.outFeatures, l.inFeatures] : [l.inFeatures, l.outFeatures], init: 'normal' });
    if (l.bias) specs.push({ name: l.bias, shape: [l.outFeatures], init: 'zeros' });
  };
  const norm = (n: NormSpec) => {
    specs.push({ name: n.weight, shape: [n.size], init: 'ones' });
    if (n.bias) specs.push({ name: n.bias, shape: [n.size], init: 'zeros' });
  };
  specs.push({ name: layout.embedTokens, shape: [config.vocabSize, config.hiddenSize], init: 'normal' });
  if (layout.embedPositions) specs.push({ name: layout.embedPositions, shape: [config.maxPositions, config.hiddenSize], init: 'normal' });
  for (const layer of layout.layers) {
    norm(layer.inputNorm);
    if (layer.attention.kind === 'fused') linear(layer.attention.qkv);
    else [layer.attention.q, layer.attention.k, layer.attention.v].forEach(linear);
    linear(layer.output);
    norm(layer.postAttentionNorm);
    if (layer.mlp.kind === 'gated') [layer.mlp.gate, layer.mlp.up, layer.mlp.down].forEach(linear);
    else [layer.mlp.up, layer.mlp.down].forEach(linear);
  }
  norm(layout.finalNorm);
  if (layout.lmHead !== layout.embedTokens) specs.push({ name: layout.lmHead, shape: [config.vocabSize, config.hiddenSize], init: 'normal' });
  return specs;
}
