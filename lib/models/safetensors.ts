// safetensors: u64 LE header length N, N bytes of JSON {name: {dtype, shape, data_offsets}} (plus an
// optional "__metadata__" string map), then little-endian tensor data; offsets are relative to 8 + N.
// Reading goes tensor by tensor through a file descriptor, so multi-GB files never sit in one buffer.
import { closeSync, fstatSync, openSync, readSync, renameSync, rmSync, writeSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { tempPathFor } from '../util/atomic.ts';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from './float16.ts';

/** Bytes per element of every dtype the safetensors format defines. */
const DTYPE_BYTES: Record<string, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U64: 8, U32: 4, U16: 2, U8: 1, BOOL: 1,
  F8_E4M3: 1, F8_E5M2: 1,
};

/** The dtypes leaf converts to float32 when reading. */
export type FloatDtype = 'F64' | 'F32' | 'F16' | 'BF16';
/** The dtypes leaf writes. */
export type WriteDtype = 'F32' | 'F16' | 'BF16';

export interface TensorInfo {
  name: string;
  dtype: string;
  shape: number[];
  /** Absolute byte range [start, end) in the file. */
  start: number;
  end: number;
}

export interface NamedTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

const MAX_HEADER_BYTES = 100_000_000;

export class SafetensorsReader {
  private constructor(
    readonly path: string,
    private readonly fd: number,
    readonly tensors: ReadonlyMap<string, TensorInfo>,
    readonly metadata: Readonly<Record<string, string>>,
  ) {}

  static open(path: string): SafetensorsReader {
    const fd = openSync(path, 'r');
    try {
      const { tensors, metadata } = parseHeader(path, fd);
      return new SafetensorsReader(path, fd, tensors, metadata);
    } catch (error) {
      closeSync(fd);
      throw error;
    }
  }

  info(name: string): TensorInfo {
    const info = this.tensors.get(name);
    if (!info) throw new Error(`${this.path}: no tensor named "${name}"`);
    return info;
  }

  /** The tensor's raw little-endian bytes, in its stored dtype. */
  readRaw(name: string): Uint8Array {
    const info = this.info(name);
    const bytes = new Uint8Array(info.end - info.start);
    this.readInto(info, bytes);
    return bytes;
  }

  /** The tensor converted to float32 (F32, F16, BF16 and F64 are accepted). */
  readFloat32(name: string): Float32Array {
    const info = this.info(name);
    const count = info.shape.reduce((a, b) => a * b, 1);
    switch (info.dtype) {
      case 'F32': {
        const out = new Float32Array(count);
        this.readInto(info, new Uint8Array(out.buffer));
        return out;
      }
      case 'F16':
      case 'BF16': {
        const half = new Uint16Array(count);
        this.readInto(info, new Uint8Array(half.buffer));
        return info.dtype === 'F16' ? f16ToF32(half) : bf16ToF32(half);
      }
      case 'F64': {
        const wide = new Float64Array(count);
        this.readInto(info, new Uint8Array(wide.buffer));
        return Float32Array.from(wide);
      }
      default:
        throw new Error(`${this.path}: tensor "${name}" has dtype ${info.dtype}; only F32, F16, BF16 and F64 can be read as floats`);
    }
  }

  close(): void {
    closeSync(this.fd);
  }

  private readInto(info: TensorInfo, bytes: Uint8Array): void {
    let done = 0;
    while (done < bytes.length) {
      const n = readSync(this.fd, bytes, done, bytes.length - done, info.start + done);
      if (n === 0) throw new Error(`${this.path}: unexpected end of file while reading tensor "${info.name}"`);
      done += n;
    }
  }
}

function parseHeader(path: string, fd: number): { tensors: Map<string, TensorInfo>; metadata: Record<string, string> } {
  const fileSize = fstatSync(fd).size;
  if (fileSize < 8) throw new Error(`${path}: ${fileSize} bytes is too short for a safetensors file (truncated?)`);
  const lengthBytes = Buffer.alloc(8);
  readSync(fd, lengthBytes, 0, 8, 0);
  const headerLength = Number(lengthBytes.readBigUInt64LE(0));
  if (headerLength > fileSize - 8) {
    throw new Error(`${path}: header length ${headerLength} exceeds the ${fileSize - 8} bytes after the length field (truncated or not a safetensors file)`);
  }
  if (headerLength > MAX_HEADER_BYTES) throw new Error(`${path}: header length ${headerLength} is implausibly large (not a safetensors file?)`);
  const headerBytes = Buffer.alloc(headerLength);
  readSync(fd, headerBytes, 0, headerLength, 8);
  let header: unknown;
  try {
    header = JSON.parse(headerBytes.toString('utf8'));
  } catch (error) {
    throw new Error(`${path}: header is not valid JSON (${(error as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new Error(`${path}: header is not a JSON object`);

  const dataStart = 8 + headerLength;
  const dataLength = fileSize - dataStart;
  const tensors = new Map<string, TensorInfo>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = (entry ?? {}) as Record<string, string>;
      continue;
    }
    tensors.set(name, validateEntry(path, name, entry, dataStart, dataLength));
  }
  return { tensors, metadata };
}

function validateEntry(path: string, name: string, entry: unknown, dataStart: number, dataLength: number): TensorInfo {
  const where = `${path}: tensor "${name}"`;
  const { dtype, shape, data_offsets: offsets } = (entry ?? {}) as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  if (typeof dtype !== 'string' || !(dtype in DTYPE_BYTES)) {
    throw new Error(`${where} has unknown dtype ${JSON.stringify(dtype)} (known: ${Object.keys(DTYPE_BYTES).join(', ')})`);
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new Error(`${where} has an invalid shape ${JSON.stringify(shape)}`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o) && o >= 0) || offsets[0] > offsets[1]) {
    throw new Error(`${where} has invalid data_offsets ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  if (end > dataLength) {
    throw new Error(`${where}: data_offsets [${begin}, ${end}] run past the end of the data (${dataLength} bytes; truncated file?)`);
  }
  const expected = (shape as number[]).reduce((a, b) => a * b, 1) * DTYPE_BYTES[dtype];
  if (end - begin !== expected) {
    throw new Error(`${where}: data_offsets cover ${end - begin} bytes but ${dtype} ${JSON.stringify(shape)} needs ${expected}`);
  }
  return { name, dtype, shape: shape as number[], start: dataStart + begin, end: dataStart + end };
}

/** Read every tensor of one file as float32. */
export function readSafetensors(path: string): Map<string, NamedTensor> {
  const reader = SafetensorsReader.open(path);
  try {
    const out = new Map<string, NamedTensor>();
    for (const info of reader.tensors.values()) out.set(info.name, { name: info.name, shape: info.shape, data: reader.readFloat32(info.name) });
    return out;
  } finally {
    reader.close();
  }
}

function encode(data: Float32Array, dtype: WriteDtype): Uint8Array {
  switch (dtype) {
    case 'F32':
      return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    case 'F16':
      return new Uint8Array(f32ToF16(data).buffer);
    case 'BF16':
      return new Uint8Array(f32ToBf16(data).buffer);
  }
}

export interface WriteOptions {
  dtype?: WriteDtype;
  metadata?: Record<string, string>;
}

/**
 * Write tensors to `path` atomically (temp file, then rename), streaming one tensor at a time.
 * `data` may be a function so callers can produce each tensor only when it is written.
 */
export function writeSafetensors(
  path: string,
  tensors: Array<{ name: string; shape: number[]; data: Float32Array | (() => Float32Array) }>,
  options: WriteOptions = {},
): void {
  const dtype = options.dtype ?? 'F32';
  const header: Record<string, unknown> = {};
  if (options.metadata) header.__metadata__ = options.metadata;
  let offset = 0;
  for (const tensor of tensors) {
    if (tensor.name in header) throw new Error(`${path}: duplicate tensor name "${tensor.name}"`);
    const bytes = tensor.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[dtype];
    header[tensor.name] = { dtype, shape: tensor.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  // Pad with spaces (allowed by the format) so the data starts 8-byte aligned, as HF's writer does.
  json += ' '.repeat((8 - ((Buffer.byteLength(json) + 8) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const lengthField = Buffer.alloc(8);
  lengthField.writeBigUInt64LE(BigInt(headerBytes.length));

  mkdirSync(dirname(path), { recursive: true });
  const temp = tempPathFor(path);
  const fd = openSync(temp, 'w');
  try {
    writeAll(fd, lengthField);
    writeAll(fd, headerBytes);
    for (const tensor of tensors) {
      const data = typeof tensor.data === 'function' ? tensor.data() : tensor.data;
      const count = tensor.shape.reduce((a, b) => a * b, 1);
      if (data.length !== count) throw new Error(`${path}: tensor "${tensor.name}" has ${data.length} values but shape ${JSON.stringify(tensor.shape)} needs ${count}`);
      writeAll(fd, encode(data, dtype));
    }
    closeSync(fd);
    renameSync(temp, path);
  } catch (error) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    rmSync(temp, { force: true });
    throw error;
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
}
