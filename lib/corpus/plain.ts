import { MapRow, StructRow, Vector } from 'apache-arrow';

function isPlainObject(value: object): value is Record<string, unknown> {
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * A value read by apache-arrow or hyparquet as plain JS: Vectors become arrays, struct rows
 * objects, and 64-bit integers numbers where that is exact (bigint otherwise). Everything else
 * (strings, numbers, booleans, bytes) is kept as it is.
 */
export function plainValue(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint')
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
  if (typeof value !== 'object') return value;
  if (value instanceof Vector || Array.isArray(value)) {
    const out = new Array(value.length);
    let i = 0;
    for (const item of value) out[i++] = plainValue(item);
    return out;
  }
  const record = value instanceof StructRow || value instanceof MapRow ? value.toJSON() : isPlainObject(value) ? { ...value } : null;
  if (record === null) return value;
  for (const key of Object.keys(record)) record[key] = plainValue(record[key]);
  return record;
}
