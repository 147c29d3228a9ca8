import { gunzipSync, gzipSync } from 'node:zlib';

/**
 * The report's data payload: a JSON header plus typed-array columns in one buffer, gzipped and
 * base64-encoded into the page. Base64 cannot contain `<`, `&` or quotes, so no sample text can
 * end the <script> element that carries it; the page inflates it with the browser's own
 * DecompressionStream and views the columns in place, without parsing a number per token.
 *
 * Layout (little-endian): "LEAF" | u32 header length | header JSON (UTF-8) | zero padding to a
 * multiple of 8 | columns, each starting at a multiple of 8. header.columns[name] =
 * [type, byte offset from the start of the column area, element count].
 */

export const COLUMN_TYPES = {
  i8: Int8Array,
  u8: Uint8Array,
  i16: Int16Array,
  u16: Uint16Array,
  u32: Uint32Array,
  i32: Int32Array,
  f32: Float32Array,
  f64: Float64Array,
} as const;

export type ColumnType = keyof typeof COLUMN_TYPES;
export type Column = InstanceType<(typeof COLUMN_TYPES)[ColumnType]>;
export type ColumnIndex = Record<string, [ColumnType, number, number]>;

const MAGIC = 'LEAF';

/** The narrowest integer array that holds every value (offsets, lengths: mostly small numbers). */
export function narrowInts(values: ArrayLike<number>): Column {
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < values.length; i++) {
    lo = Math.min(lo, values[i]);
    hi = Math.max(hi, values[i]);
  }
  const candidates = lo < 0 ? [Int8Array, Int16Array, Int32Array] : [Uint8Array, Uint16Array, Uint32Array];
  const fits = (bits: number) => (lo < 0 ? lo >= -(2 ** (bits - 1)) && hi < 2 ** (bits - 1) : hi < 2 ** bits);
  const index = [8, 16, 32].findIndex(fits);
  if (index < 0) throw new Error(`report payload: integer ${lo < 0 ? lo : hi} does not fit in 32 bits`);
  return candidates[index].from(values);
}

function align8(n: number): number {
  return Math.ceil(n / 8) * 8;
}

function columnType(column: Column): ColumnType {
  for (const [name, ctor] of Object.entries(COLUMN_TYPES)) if (column instanceof ctor) return name as ColumnType;
  throw new Error('report payload: unsupported column array type');
}

export function packPayload(header: Record<string, unknown>, columns: Record<string, Column>): Buffer {
  const index: ColumnIndex = {};
  let offset = 0;
  for (const [name, column] of Object.entries(columns)) {
    index[name] = [columnType(column), offset, column.length];
    offset = align8(offset + column.byteLength);
  }
  const json = Buffer.from(JSON.stringify({ ...header, columns: index }), 'utf8');
  const base = align8(8 + json.length);
  const buffer = Buffer.alloc(base + offset);
  buffer.write(MAGIC, 0, 'latin1');
  buffer.writeUInt32LE(json.length, 4);
  json.copy(buffer, 8);
  for (const [name, column] of Object.entries(columns))
    Buffer.from(column.buffer, column.byteOffset, column.byteLength).copy(buffer, base + index[name][1]);
  return gzipSync(buffer);
}

/** Node-side inverse of packPayload (the page has its own, in client/decode.js). */
export function unpackPayload(gzipped: Uint8Array): { header: Record<string, unknown>; columns: Record<string, Column> } {
  const buffer = gunzipSync(gzipped);
  if (buffer.toString('latin1', 0, 4) !== MAGIC) throw new Error('report payload: bad magic');
  const length = buffer.readUInt32LE(4);
  const header = JSON.parse(buffer.toString('utf8', 8, 8 + length)) as Record<string, unknown>;
  const base = align8(8 + length);
  const aligned = new Uint8Array(buffer).buffer;
  const columns: Record<string, Column> = {};
  for (const [name, [type, offset, count]] of Object.entries(header.columns as ColumnIndex))
    columns[name] = new COLUMN_TYPES[type](aligned, base + offset, count);
  return { header, columns };
}
