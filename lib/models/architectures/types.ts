import type { DecoderConfig } from '../types.ts';

/** A linear layer as stored in the checkpoint. */
export interface LinearSpec {
  weight: string;
  bias?: string;
  inFeatures: number;
  outFeatures: number;
  /** nn.Linear stores [out, in]; GPT-2's Conv1D stores [in, out]. Weights stay in HF orientation. */
  storage: 'out-in' | 'in-out';
}

export interface NormSpec {
  weight: string;
  /** Present for LayerNorm. */
  bias?: string;
  size: number;
}

export type ActivationName = 'silu' | 'gelu_new';

export type AttentionProjections =
  | { kind: 'separate'; q: LinearSpec; k: LinearSpec; v: LinearSpec }
  /** One projection whose output is [q | k | v] along the feature axis (GPT-2 c_attn). */
  | { kind: 'fused'; qkv: LinearSpec };

export type MlpSpec =
  /** down(act(gate(x)) · up(x)) */
  | { kind: 'gated'; gate: LinearSpec; up: LinearSpec; down: LinearSpec; activation: ActivationName }
  /** down(act(up(x))) */
  | { kind: 'plain'; up: LinearSpec; down: LinearSpec; activation: ActivationName };

/** Pre-norm decoder block: x += o(attn(norm1(x))); x += mlp(norm2(x)). */
export interface LayerSpec {
  inputNorm: NormSpec;
  attention: AttentionProjections;
  output: LinearSpec;
  postAttentionNorm: NormSpec;
  mlp: MlpSpec;
}

export interface RopeSpec {
  /** Inverse frequencies, headDim / 2 of them (already rescaled by rope_scaling). */
  invFreq: Float64Array;
  /** Multiplier on cos/sin (HF `attention_scaling`; 1 for the supported rope types). */
  scaling: number;
}

/** Everything the generic decoder needs to run one architecture. */
export interface DecoderLayout {
  norm: 'rms' | 'layer';
  embedTokens: string;
  /** Learned absolute positions [maxPositions, D] (GPT-2); absent for RoPE models. */
  embedPositions?: string;
  rope?: RopeSpec;
  layers: LayerSpec[];
  finalNorm: NormSpec;
  /** Equals embedTokens when the head is tied. */
  lmHead: string;
  /** Keys further back than this many positions are masked (Mistral). */
  slidingWindow?: number;
}

export interface Architecture {
  /** HF `model_type`. */
  modelType: string;
  /** Parse and validate config.json; `source` names the file in errors. */
  fromHfConfig(raw: Record<string, unknown>, source: string): DecoderConfig;
  /** config.json content for a config (raw fields carried through, ours updated). */
  toHfConfig(config: DecoderConfig): Record<string, unknown>;
  layout(config: DecoderConfig): DecoderLayout;
  /** Other names a checkpoint may use for a canonical tensor name (e.g. GPT-2 without `transformer.`). */
  checkpointAliases?(name: string): string[];
}
