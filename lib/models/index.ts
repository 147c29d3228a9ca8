// Public surface of lib/models: HF checkpoints (safetensors, config.json → architecture registry),
// the decoder forward, generation, and the response-NLL saliency helpers.
export type { CausalLM, DecoderConfig, ForwardOptions, ForwardResult, HiddenResult, KVCache } from './types.ts';
export { loadModel, loadDecoder, heldWeights, holdCandidate, canHoldStored, readConfig, saveModel, writeRandomCheckpoint, type LoadOptions, type SaveOptions } from './io.ts';
export { createRandomModel, type RandomModelOptions } from './random.ts';
export { greedyGenerate, type GenerateOptions } from './generate.ts';
export {
  responseNll, embeddingGradNorms, embeddingGradients, responseTargets, responseLossFromEmbeds,
  type EmbeddingGradients, type ResponseTargets,
} from './loss.ts';
export { SafetensorsReader, readSafetensors, writeSafetensors, type TensorInfo, type NamedTensor, type WriteDtype } from './safetensors.ts';
export { CheckpointReader, writeCheckpointTensors } from './checkpoint.ts';
export { getArchitecture, supportedModelTypes, registerArchitecture, type Architecture, type DecoderLayout } from './architectures/index.ts';
export { DecoderModel } from './decoder.ts';
