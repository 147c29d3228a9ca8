// A checkpoint directory's weights: one model.safetensors, or shards listed by
// model.safetensors.index.json ({"weight_map": {tensor name: shard file}}).
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { SafetensorsReader, writeSafetensors, type TensorInfo, type WriteDtype } from './safetensors.ts';
import { writeFileAtomic } from '../util/atomic.ts';

export const SINGLE_FILE = 'model.safetensors';
export const INDEX_FILE = 'model.safetensors.index.json';

export class CheckpointReader {
  private constructor(
    readonly dir: string,
    private readonly readers: SafetensorsReader[],
    private readonly owner: Map<string, SafetensorsReader>,
  ) {}

  static open(dir: string): CheckpointReader {
    const indexPath = join(dir, INDEX_FILE);
    if (existsSync(indexPath)) return CheckpointReader.openSharded(dir, indexPath);
    const single = join(dir, SINGLE_FILE);
    if (!existsSync(single)) throw new Error(`${dir}: neither ${SINGLE_FILE} nor ${INDEX_FILE} found`);
    const reader = SafetensorsReader.open(single);
    return new CheckpointReader(dir, [reader], new Map([...reader.tensors.keys()].map((name) => [name, reader])));
  }

  private static openSharded(dir: string, indexPath: string): CheckpointReader {
    let weightMap: unknown;
    try {
      weightMap = (JSON.parse(readFileSync(indexPath, 'utf8')) as { weight_map?: unknown }).weight_map;
    } catch (error) {
      throw new Error(`${indexPath}: not valid JSON (${(error as Error).message})`);
    }
    if (typeof weightMap !== 'object' || weightMap === null) throw new Error(`${indexPath}: missing "weight_map" object`);
    const byFile = new Map<string, SafetensorsReader>();
    const owner = new Map<string, SafetensorsReader>();
    try {
      for (const [name, file] of Object.entries(weightMap as Record<string, unknown>)) {
        if (typeof file !== 'string' || file.includes('/') || file.includes('\\')) {
          throw new Error(`${indexPath}: weight_map entry "${name}" must name a shard file in the same directory, got ${JSON.stringify(file)}`);
        }
        let reader = byFile.get(file);
        if (!reader) {
          const shardPath = join(dir, file);
          if (!existsSync(shardPath)) throw new Error(`${indexPath}: shard ${file} (listed for "${name}") does not exist`);
          reader = SafetensorsReader.open(shardPath);
          byFile.set(file, reader);
        }
        if (!reader.tensors.has(name)) throw new Error(`${indexPath}: "${name}" is mapped to ${file}, which has no such tensor`);
        owner.set(name, reader);
      }
    } catch (error) {
      for (const reader of byFile.values()) reader.close();
      throw error;
    }
    return new CheckpointReader(dir, [...byFile.values()], owner);
  }

  names(): string[] {
    return [...this.owner.keys()];
  }

  has(name: string): boolean {
    return this.owner.has(name);
  }

  info(name: string): TensorInfo {
    return this.reader(name).info(name);
  }

  readFloat32(name: string): Float32Array {
    return this.reader(name).readFloat32(name);
  }

  /** The shard file holding a tensor. */
  fileOf(name: string): string {
    return this.reader(name).path;
  }

  /** A 16-bit tensor's stored values, copied into memory (for data the file does not align to 2 bytes). */
  readHalf(name: string): Uint16Array {
    const raw = this.reader(name).readRaw(name);
    return new Uint16Array(raw.buffer, raw.byteOffset, raw.byteLength / 2);
  }

  close(): void {
    for (const reader of this.readers) reader.close();
  }

  private reader(name: string): SafetensorsReader {
    const reader = this.owner.get(name);
    if (!reader) throw new Error(`${this.dir}: checkpoint has no tensor "${name}"`);
    return reader;
  }
}

export interface CheckpointTensor {
  name: string;
  shape: number[];
  data: () => Float32Array;
}

/**
 * Write tensors as HF does: one model.safetensors, or shards of at most `maxShardBytes` named
 * model-0000i-of-0000n.safetensors plus the index. Weight files of an earlier save in the same
 * layout family are removed afterwards, so a stale index can never shadow the new weights.
 */
export function writeCheckpointTensors(dir: string, tensors: CheckpointTensor[], options: { dtype?: WriteDtype; maxShardBytes?: number } = {}): string[] {
  const dtype = options.dtype ?? 'F32';
  const bytesPer = dtype === 'F32' ? 4 : 2;
  const sizeOf = (t: CheckpointTensor) => t.shape.reduce((a, b) => a * b, 1) * bytesPer;
  const maxShard = options.maxShardBytes ?? Infinity;
  const shards: CheckpointTensor[][] = [[]];
  let current = 0;
  for (const tensor of tensors) {
    const size = sizeOf(tensor);
    if (current > 0 && current + size > maxShard) {
      shards.push([]);
      current = 0;
    }
    shards[shards.length - 1].push(tensor);
    current += size;
  }
  const metadata = { format: 'pt' };
  if (shards.length === 1) {
    writeSafetensors(join(dir, SINGLE_FILE), tensors, { dtype, metadata });
    removeStale(dir, [SINGLE_FILE]);
    return [SINGLE_FILE];
  }
  const pad = (n: number) => String(n).padStart(5, '0');
  const files = shards.map((_, i) => `model-${pad(i + 1)}-of-${pad(shards.length)}.safetensors`);
  const weightMap: Record<string, string> = {};
  shards.forEach((shard, i) => {
    writeSafetensors(join(dir, files[i]), shard, { dtype, metadata });
    for (const tensor of shard) weightMap[tensor.name] = files[i];
  });
  const totalSize = tensors.reduce((sum, t) => sum + sizeOf(t), 0);
  writeFileAtomic(join(dir, INDEX_FILE), JSON.stringify({ metadata: { total_size: totalSize }, weight_map: weightMap }, null, 2) + '\n');
  removeStale(dir, [...files, INDEX_FILE]);
  return [...files, INDEX_FILE];
}

const SHARD_PATTERN = /^model-\d+-of-\d+\.safetensors$/;

function removeStale(dir: string, keep: string[]): void {
  for (const file of readdirSync(dir)) {
    if (keep.includes(file)) continue;
    if (file === SINGLE_FILE || file === INDEX_FILE || SHARD_PATTERN.test(file)) rmSync(join(dir, file), { force: true });
  }
}
