// Importing this module registers every architecture; add one = add a file + one line here.
import './llama.ts';
import './mistral.ts';
import './qwen2.ts';
import './gpt2.ts';

export { getArchitecture, supportedModelTypes, registerArchitecture } from './registry.ts';
export type { Architecture, DecoderLayout } from './types.ts';
