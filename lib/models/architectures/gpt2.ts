// GPT-2: learned absolute positions, LayerNorm, GELU (tanh approximation), Conv1D weights
// stored [in, out], one fused q|k|v projection, head tied to wte by default.
import type { DecoderConfig } from '../types.ts';
import type { Architecture, DecoderLayout, LinearSpec } from './types.ts';
import { readBoolean, readInteger, readNumber, readOptionalTokenId, readString, readTokenIds, rejectUnsupported, tokenIdsField } from '../hf-config.ts';
import { registerArchitecture } from './registry.ts';

// Both names denote 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³))).
const TANH_GELUS = ['gelu_new', 'gelu_pytorch_tanh'];
const PREFIX = 'transformer.';

const gpt2: Architecture = {
  modelType: 'gpt2',

  fromHfConfig(raw, source) {
    const hiddenSize = readInteger(raw, 'n_embd', source, 768);
    const numHeads = readInteger(raw, 'n_head', source, 12);
    if (hiddenSize % numHeads !== 0) throw new Error(`${source}: n_embd (${hiddenSize}) is not divisible by n_head (${numHeads})`);
    const act = readString(raw, 'activation_function', source, 'gelu_new');
    if (!TANH_GELUS.includes(act)) throw new Error(`${source}: activation_function "${act}" is not supported for gpt2 (supported: ${TANH_GELUS.join(', ')})`);
    rejectUnsupported(raw, 'scale_attn_by_inverse_layer_idx', source, (v) => v === false, 'per-layer attention scaling');
    rejectUnsupported(raw, 'scale_attn_weights', source, (v) => v === true, 'unscaled attention');
    rejectUnsupported(raw, 'add_cross_attention', source, (v) => v === false, 'cross-attention');
    return {
      modelType: 'gpt2',
      vocabSize: readInteger(raw, 'vocab_size', source, 50257),
      hiddenSize,
      numLayers: readInteger(raw, 'n_layer', source, 12),
      numHeads,
      numKvHeads: numHeads,
      headDim: hiddenSize / numHeads,
      intermediateSize: raw.n_inner == null ? 4 * hiddenSize : readInteger(raw, 'n_inner', source),
      maxPositions: readInteger(raw, 'n_positions', source, 1024),
      normEps: readNumber(raw, 'layer_norm_epsilon', source, 1e-5),
      ropeTheta: 0,
      tieWordEmbeddings: readBoolean(raw, 'tie_word_embeddings', source, true),
      bosTokenId: readOptionalTokenId({ bos_token_id: 50256, ...raw }, 'bos_token_id', source),
      eosTokenIds: readTokenIds({ eos_token_id: 50256, ...raw }, 'eos_token_id', source),
      raw,
    };
  },

  toHfConfig(config) {
    if (config.numKvHeads !== config.numHeads) throw new Error(`gpt2 has no grouped-query attention: numKvHeads (${config.numKvHeads}) must equal numHeads (${config.numHeads})`);
    if (config.headDim * config.numHeads !== config.hiddenSize) throw new Error(`gpt2 needs headDim · numHeads = hiddenSize, got ${config.headDim}·${config.numHeads} ≠ ${config.hiddenSize}`);
    return {
      activation_function: 'gelu_new',
      ...config.raw,
      architectures: config.raw.architectures ?? ['GPT2LMHeadModel'],
      model_type: 'gpt2',
      vocab_size: config.vocabSize,
      n_embd: config.hiddenSize,
      n_layer: config.numLayers,
      n_head: config.numHeads,
      n_inner: config.intermediateSize,
      n_positions: config.maxPositions,
      layer_norm_epsilon: config.normEps,
      tie_word_embeddings: config.tieWordEmbeddings,
      bos_token_id: config.bosTokenId ?? config.raw.bos_token_id,
      eos_token_id: tokenIdsField(config.eosTokenIds) ?? config.raw.eos_token_id,
    };
  },

  layout(config: DecoderConfig): DecoderLayout {
    const D = config.hiddenSize;
    const conv1d = (name: string, inFeatures: number, outFeatures: number): LinearSpec => ({
      weight: `${name}.weight`, bias: `${name}.bias`, inFeatures, outFeatures, storage: 'in-out',
    });
    const layerNorm = (name: string) => ({ weight: `${name}.weight`, bias: `${name}.bias`, size: D });
    const layers = Array.from({ length: config.numLayers }, (_, i) => {
      const p = `${PREFIX}h.${i}`;
      return {
        inputNorm: layerNorm(`${p}.ln_1`),
        attention: { kind: 'fused' as const, qkv: conv1d(`${p}.attn.c_attn`, D, 3 * D) },
        output: conv1d(`${p}.attn.c_proj`, D, D),
        postAttentionNorm: layerNorm(`${p}.ln_2`),
        mlp: {
          kind: 'plain' as const,
          up: conv1d(`${p}.mlp.c_fc`, D, config.intermediateSize),
          down: conv1d(`${p}.mlp.c_proj`, config.intermediateSize, D),
          activation: 'gelu_new' as const,
        },
      };
    });
    return {
      norm: 'layer',
      embedTokens: `${PREFIX}wte.weight`,
      embedPositions: `${PREFIX}wpe.weight`,
      layers,
      finalNorm: layerNorm(`${PREFIX}ln_f`),
      lmHead: config.tieWordEmbeddings ? `${PREFIX}wte.weight` : 'lm_head.weight',
    };
  },

  // GPT2LMHeadModel saves `transformer.*`; checkpoints of the bare GPT2Model (e.g. the hub's gpt2) omit it.
  checkpointAliases: (name) => (name.startsWith(PREFIX) ? [name.slice(PREFIX.length)] : []),
};

registerArchitecture(gpt2);
