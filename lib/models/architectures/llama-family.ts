// Llama and its close relatives (Mistral, Qwen2): RMSNorm, RoPE, SiLU-gated MLP, GQA,
// nn.Linear weights [out, in]. Each relative differs only in a few config flags.
import type { DecoderConfig } from '../types.ts';
import type { Architecture, DecoderLayout, LinearSpec } from './types.ts';
import {
  readBoolean, readInteger, readNumber, readOptionalTokenId, readString, readTokenIds, tokenIdsField, type RawConfig,
} from '../hf-config.ts';
import { ropeSpec } from '../rope.ts';

export interface LlamaFamilyOptions {
  modelType: string;
  /** HF class name written to `architectures` when the config has none. */
  hfClass: string;
  /** HF default of tie_word_embeddings for this model_type. */
  tieByDefault: boolean;
  /** Biases on q/k/v projections. */
  qkvBias(raw: RawConfig, source: string): boolean;
  /** Bias on the attention output projection. */
  outputBias(raw: RawConfig, source: string): boolean;
  mlpBias(raw: RawConfig, source: string): boolean;
  slidingWindow(raw: RawConfig, source: string): number | undefined;
}

export function llamaFamily(options: LlamaFamilyOptions): Architecture {
  return {
    modelType: options.modelType,

    fromHfConfig(raw, source) {
      const hiddenSize = readInteger(raw, 'hidden_size', source);
      const numHeads = readInteger(raw, 'num_attention_heads', source);
      const numKvHeads = readInteger(raw, 'num_key_value_heads', source, numHeads);
      if (numHeads % numKvHeads !== 0) throw new Error(`${source}: num_attention_heads (${numHeads}) must be a multiple of num_key_value_heads (${numKvHeads})`);
      if (raw.head_dim == null && hiddenSize % numHeads !== 0) throw new Error(`${source}: hidden_size (${hiddenSize}) is not divisible by num_attention_heads (${numHeads}) and head_dim is not given`);
      const headDim = readInteger(raw, 'head_dim', source, hiddenSize / numHeads);
      const act = readString(raw, 'hidden_act', source, 'silu');
      if (act !== 'silu') throw new Error(`${source}: hidden_act "${act}" is not supported for ${options.modelType} (supported: silu)`);
      const ropeTheta = readNumber(raw, 'rope_theta', source, 10000);
      ropeSpec(headDim, ropeTheta, raw.rope_scaling, source); // validate now, not at first forward
      // Evaluated for their validation errors: unsupported flags fail at load time.
      options.qkvBias(raw, source);
      options.outputBias(raw, source);
      options.mlpBias(raw, source);
      options.slidingWindow(raw, source);
      return {
        modelType: options.modelType,
        vocabSize: readInteger(raw, 'vocab_size', source),
        hiddenSize,
        numLayers: readInteger(raw, 'num_hidden_layers', source),
        numHeads,
        numKvHeads,
        headDim,
        intermediateSize: readInteger(raw, 'intermediate_size', source),
        maxPositions: readInteger(raw, 'max_position_embeddings', source, 2048),
        normEps: readNumber(raw, 'rms_norm_eps', source, 1e-6),
        ropeTheta,
        tieWordEmbeddings: readBoolean(raw, 'tie_word_embeddings', source, options.tieByDefault),
        bosTokenId: readOptionalTokenId(raw, 'bos_token_id', source),
        eosTokenIds: readTokenIds(raw, 'eos_token_id', source),
        raw,
      };
    },

    toHfConfig(config) {
      return {
        ...config.raw,
        architectures: config.raw.architectures ?? [options.hfClass],
        model_type: options.modelType,
        vocab_size: config.vocabSize,
        hidden_size: config.hiddenSize,
        intermediate_size: config.intermediateSize,
        num_hidden_layers: config.numLayers,
        num_attention_heads: config.numHeads,
        num_key_value_heads: config.numKvHeads,
        head_dim: config.headDim,
        hidden_act: 'silu',
        max_position_embeddings: config.maxPositions,
        rms_norm_eps: config.normEps,
        rope_theta: config.ropeTheta,
        tie_word_embeddings: config.tieWordEmbeddings,
        bos_token_id: config.bosTokenId ?? config.raw.bos_token_id,
        eos_token_id: tokenIdsField(config.eosTokenIds) ?? config.raw.eos_token_id,
      };
    },

    layout(config: DecoderConfig): DecoderLayout {
      const source = `${config.modelType} config`;
      const raw = config.raw;
      const D = config.hiddenSize;
      const qkvBias = options.qkvBias(raw, source);
      const linear = (name: string, inFeatures: number, outFeatures: number, bias: boolean): LinearSpec => ({
        weight: `${name}.weight`, bias: bias ? `${name}.bias` : undefined, inFeatures, outFeatures, storage: 'out-in',
      });
      const mlpBias = options.mlpBias(raw, source);
      const layers = Array.from({ length: config.numLayers }, (_, i) => {
        const p = `model.layers.${i}`;
        return {
          inputNorm: { weight: `${p}.input_layernorm.weight`, size: D },
          attention: {
            kind: 'separate' as const,
            q: linear(`${p}.self_attn.q_proj`, D, config.numHeads * config.headDim, qkvBias),
            k: linear(`${p}.self_attn.k_proj`, D, config.numKvHeads * config.headDim, qkvBias),
            v: linear(`${p}.self_attn.v_proj`, D, config.numKvHeads * config.headDim, qkvBias),
          },
          output: linear(`${p}.self_attn.o_proj`, config.numHeads * config.headDim, D, options.outputBias(raw, source)),
          postAttentionNorm: { weight: `${p}.post_attention_layernorm.weight`, size: D },
          mlp: {
            kind: 'gated' as const,
            gate: linear(`${p}.mlp.gate_proj`, D, config.intermediateSize, mlpBias),
            up: linear(`${p}.mlp.up_proj`, D, config.intermediateSize, mlpBias),
            down: linear(`${p}.mlp.down_proj`, config.intermediateSize, D, mlpBias),
            activation: 'silu' as const,
          },
        };
      });
      return {
        norm: 'rms',
        embedTokens: 'model.embed_tokens.weight',
        rope: ropeSpec(config.headDim, config.ropeTheta, raw.rope_scaling, source),
        layers,
        finalNorm: { weight: 'model.norm.weight', size: D },
        lmHead: config.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight',
        slidingWindow: options.slidingWindow(raw, source),
      };
    },
  };
}
