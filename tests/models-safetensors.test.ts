import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { CheckpointReader, SafetensorsReader, readSafetensors, writeSafetensors } from '../lib/models/index.ts';
import { f32BitsToBf16, f32BitsToF16 } from '../lib/models/float16.ts';

const dir = mkdtempSync(join(tmpdir(), 'leaf-safetensors-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A safetensors file assembled by hand from raw little-endian bytes (independent of our writer). */
function handMade(path: string, entries: Array<{ name: string; dtype: string; shape: number[]; bytes: Uint8Array }>, headerPatch?: (h: Record<string, unknown>) => void) {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const e of entries) {
    header[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: [offset, offset + e.bytes.length] };
    offset += e.bytes.length;
  }
  headerPatch?.(header);
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(path, Buffer.concat([length, json, ...entries.map((e) => Buffer.from(e.bytes))]));
}

function dataBytes(path: string): Buffer {
  const file = readFileSync(path);
  return file.subarray(8 + Number(file.readBigUInt64LE(0)));
}

const allU16 = () => Uint16Array.from({ length: 65536 }, (_, i) => i);

describe('16-bit conversions', () => {
  test('known values decode exactly', () => {
    const path = join(dir, 'known.safetensors');
    const f16 = Uint16Array.from([0x3c00, 0xc000, 0x7bff, 0x0001, 0x8000, 0x7c00, 0x3555]);
    const bf16 = Uint16Array.from([0x3f80, 0xc040, 0x0001, 0xff80]);
    handMade(path, [
      { name: 'h', dtype: 'F16', shape: [7], bytes: new Uint8Array(f16.buffer) },
      { name: 'b', dtype: 'BF16', shape: [2, 2], bytes: new Uint8Array(bf16.buffer) },
    ]);
    const tensors = readSafetensors(path);
    expect(Array.from(tensors.get('h')!.data)).toEqual([1, -2, 65504, 2 ** -24, -0, Infinity, 0.333251953125]);
    expect(Object.is(tensors.get('h')!.data[4], -0)).toBe(true);
    expect(tensors.get('b')!.shape).toEqual([2, 2]);
    expect(Array.from(tensors.get('b')!.data)).toEqual([1, -3, 2 ** -133, -Infinity]);
  });

  test('float32 → float16 rounds to nearest even, overflows to Inf, keeps subnormals', () => {
    const bits = (x: number) => new Uint32Array(Float32Array.of(x).buffer)[0];
    expect(f32BitsToF16(bits(1 + 2 ** -11))).toBe(0x3c00); // tie → even
    expect(f32BitsToF16(bits(1 + 3 * 2 ** -11))).toBe(0x3c02); // tie → even (up)
    expect(f32BitsToF16(bits(1 + 2 ** -11 + 2 ** -20))).toBe(0x3c01); // above tie
    expect(f32BitsToF16(bits(65520))).toBe(0x7c00); // rounds past max → Inf
    expect(f32BitsToF16(bits(2 ** -25))).toBe(0x0000); // tie between 0 and min subnormal → 0
    expect(f32BitsToF16(bits(3 * 2 ** -26))).toBe(0x0001);
    expect(f32BitsToF16(bits(-(2 ** -14) * 0.5))).toBe(0x8200);
    expect(f32BitsToBf16(bits(1 + 2 ** -8))).toBe(0x3f80); // tie → even
    expect(f32BitsToBf16(bits(1 + 3 * 2 ** -8))).toBe(0x3f82);
  });
});

describe('round trip is bit-exact', () => {
  test.each(['F16', 'BF16'] as const)('%s: every one of the 65536 bit patterns', (dtype) => {
    const source = join(dir, `all-${dtype}.safetensors`);
    const copy = join(dir, `all-${dtype}-copy.safetensors`);
    const raw = allU16();
    handMade(source, [{ name: 'x', dtype, shape: [256, 256], bytes: new Uint8Array(raw.buffer) }]);
    const read = readSafetensors(source).get('x')!;
    writeSafetensors(copy, [{ name: 'x', shape: read.shape, data: read.data }], { dtype });
    expect(Buffer.compare(dataBytes(copy), Buffer.from(raw.buffer))).toBe(0);
    expect(SafetensorsReader.open(copy).info('x').dtype).toBe(dtype);
  });

  test('F32: random bit patterns incl. NaN payloads, Inf, -0 and subnormals', () => {
    const path = join(dir, 'f32.safetensors');
    const bits = new Uint32Array(10000);
    let state = 12345;
    for (let i = 0; i < bits.length; i++) {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      bits[i] = state;
    }
    bits.set([0x7fc00001, 0xffa00000, 0x7f800000, 0x80000000, 0x00000001], 0);
    const values = new Float32Array(bits.buffer);
    writeSafetensors(path, [{ name: 'a', shape: [100, 100], data: values }, { name: 'empty', shape: [0, 3], data: new Float32Array(0) }], { metadata: { format: 'pt' } });
    const reader = SafetensorsReader.open(path);
    try {
      expect(Buffer.compare(Buffer.from(reader.readFloat32('a').buffer), Buffer.from(bits.buffer))).toBe(0);
      expect(reader.readFloat32('empty').length).toBe(0);
      expect(reader.metadata).toEqual({ format: 'pt' });
    } finally {
      reader.close();
    }
    // Data starts 8-byte aligned, as HF's writer does.
    expect((8 + Number(readFileSync(path).readBigUInt64LE(0))) % 8).toBe(0);
  });
});

describe('corrupt files fail with a message naming the file', () => {
  const good = () => {
    const path = join(dir, `good-${Math.random().toString(36).slice(2)}.safetensors`);
    writeSafetensors(path, [{ name: 'w', shape: [4, 4], data: new Float32Array(16).fill(1) }]);
    return path;
  };

  test('truncated data', () => {
    const path = good();
    const bytes = readFileSync(path);
    writeFileSync(path, bytes.subarray(0, bytes.length - 10));
    expect(() => SafetensorsReader.open(path)).toThrow(new RegExp(`${path}: tensor "w": data_offsets \\[0, 64\\] run past the end`));
  });

  test('header length beyond the file', () => {
    const path = good();
    const bytes = readFileSync(path);
    writeFileSync(path, bytes.subarray(0, 40));
    expect(() => SafetensorsReader.open(path)).toThrow(new RegExp(`${path}: header length \\d+ exceeds`));
  });

  test('shorter than the length field', () => {
    const path = join(dir, 'tiny.safetensors');
    writeFileSync(path, Buffer.from([1, 2, 3]));
    expect(() => SafetensorsReader.open(path)).toThrow(/tiny\.safetensors: 3 bytes is too short/);
  });

  test('header is not JSON', () => {
    const path = join(dir, 'badjson.safetensors');
    const json = Buffer.from('{"w": {"dtype": "F32", ');
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(json.length));
    writeFileSync(path, Buffer.concat([length, json]));
    expect(() => SafetensorsReader.open(path)).toThrow(/badjson\.safetensors: header is not valid JSON/);
  });

  test('unknown dtype', () => {
    const path = join(dir, 'dtype.safetensors');
    handMade(path, [{ name: 'w', dtype: 'F12', shape: [2], bytes: new Uint8Array(3) }]);
    expect(() => SafetensorsReader.open(path)).toThrow(/dtype\.safetensors: tensor "w" has unknown dtype "F12"/);
  });

  test('offsets that do not match the shape', () => {
    const path = join(dir, 'size.safetensors');
    handMade(path, [{ name: 'w', dtype: 'F32', shape: [3], bytes: new Uint8Array(8) }]);
    expect(() => SafetensorsReader.open(path)).toThrow(/size\.safetensors: tensor "w": data_offsets cover 8 bytes but F32 \[3\] needs 12/);
  });

  test('integer tensors are listed but cannot be read as floats', () => {
    const path = join(dir, 'int.safetensors');
    handMade(path, [{ name: 'ids', dtype: 'I64', shape: [2], bytes: new Uint8Array(16) }]);
    const reader = SafetensorsReader.open(path);
    try {
      expect(() => reader.readFloat32('ids')).toThrow(/int\.safetensors: tensor "ids" has dtype I64/);
      expect(() => reader.readFloat32('nope')).toThrow(/int\.safetensors: no tensor named "nope"/);
    } finally {
      reader.close();
    }
  });
});

describe('sharded checkpoints', () => {
  const shardDir = join(dir, 'sharded');
  const tensor = (value: number) => new Float32Array(4).fill(value);

  test('weight_map routes each tensor to its shard', () => {
    writeSafetensors(join(shardDir, 'a.safetensors'), [{ name: 'x', shape: [4], data: tensor(1) }]);
    writeSafetensors(join(shardDir, 'b.safetensors'), [{ name: 'y', shape: [2, 2], data: tensor(2) }]);
    writeFileSync(join(shardDir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { x: 'a.safetensors', y: 'b.safetensors' } }));
    const checkpoint = CheckpointReader.open(shardDir);
    try {
      expect(checkpoint.names().sort()).toEqual(['x', 'y']);
      expect(Array.from(checkpoint.readFloat32('y'))).toEqual([2, 2, 2, 2]);
      expect(checkpoint.info('y').shape).toEqual([2, 2]);
    } finally {
      checkpoint.close();
    }
  });

  test('a missing shard or a tensor missing from its shard is named', () => {
    writeFileSync(join(shardDir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { x: 'a.safetensors', z: 'c.safetensors' } }));
    expect(() => CheckpointReader.open(shardDir)).toThrow(/shard c\.safetensors \(listed for "z"\) does not exist/);
    writeFileSync(join(shardDir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { x: 'a.safetensors', q: 'b.safetensors' } }));
    expect(() => CheckpointReader.open(shardDir)).toThrow(/"q" is mapped to b\.safetensors, which has no such tensor/);
    writeFileSync(join(shardDir, 'model.safetensors.index.json'), '{"weight_map": ');
    expect(() => CheckpointReader.open(shardDir)).toThrow(/model\.safetensors\.index\.json: not valid JSON/);
  });

  test('a directory without weights says what it looked for', () => {
    expect(() => CheckpointReader.open(join(dir, 'nothing-here'))).toThrow(/neither model\.safetensors nor model\.safetensors\.index\.json/);
  });
});
