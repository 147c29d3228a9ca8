// Seeded random models: the same seed gives the same weights on every backend and machine,
// because the numbers are drawn in JS, not by a backend's RNG.
import type * as tf from '@tensorflow/tfjs-core';
import type { DecoderConfig } from './types.ts';
import { getArchitecture } from './architectures/index.ts';
import { layoutTensors } from './layout-tensors.ts';
import { DecoderModel } from './decoder.ts';
import { variableFrom } from './variables.ts';
import { mulberry32 } from '../util/random.ts';

/** Seeded uniforms in [0, 1) (mulberry32). */
export const seededUniform = mulberry32;

export function seededNormal(seed: number): () => number {
  const uniform = seededUniform(seed);
  return () => {
    const u = 1 - uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
  };
}

const SMALL_DEFAULTS = {
  vocabSize: 128, hiddenSize: 64, numLayers: 2, numHeads: 4, numKvHeads: 2, intermediateSize: 128, maxPositions: 256,
  normEps: 1e-5, ropeTheta: 10000, eosTokenIds: [] as number[],
};

export interface RandomModelOptions {
  /** Standard deviation of the normal init of embeddings and linear weights (HF initializer_range). */
  initStd?: number;
  trainable?: boolean;
}

/**
 * A small random model of any registered architecture; unspecified fields take small defaults
 * (64 wide, 2 layers, 4 heads, 2 kv heads, vocab 128, head tied as the architecture's HF default).
 */
export function createRandomModel(config: Partial<DecoderConfig> & { modelType: string }, seed: number, options: RandomModelOptions = {}): DecoderModel {
  const architecture = getArchitecture(config.modelType, 'createRandomModel');
  const numHeads = config.numHeads ?? SMALL_DEFAULTS.numHeads;
  const hiddenSize = config.hiddenSize ?? SMALL_DEFAULTS.hiddenSize;
  // tieWordEmbeddings left unset takes the architecture's own default through the config round trip.
  const full = {
    ...SMALL_DEFAULTS,
    numKvHeads: config.modelType === 'gpt2' ? numHeads : SMALL_DEFAULTS.numKvHeads,
    headDim: hiddenSize / numHeads,
    ...config,
    raw: config.raw ?? {},
  } as DecoderConfig;
  // Round-trip through config.json so the model is exactly what loading its saved files gives.
  const normalised = architecture.fromHfConfig(architecture.toHfConfig(full), 'createRandomModel');
  return randomModelFromConfig(normalised, seed, options);
}

export function randomModelFromConfig(config: DecoderConfig, seed: number, options: RandomModelOptions = {}): DecoderModel {
  const architecture = getArchitecture(config.modelType);
  const layout = architecture.layout(config);
  const normal = seededNormal(seed);
  const std = options.initStd ?? 0.02;
  const weights = new Map<string, tf.Variable>();
  for (const spec of layoutTensors(layout, config)) {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    if (spec.init === 'normal') for (let i = 0; i < size; i++) data[i] = normal() * std;
    else if (spec.init === 'ones') data.fill(1);
    weights.set(spec.name, variableFrom(data, spec.shape, options.trainable ?? false));
  }
  return new DecoderModel(config, `random:${config.modelType}:seed=${seed}`, weights, layout);
}
