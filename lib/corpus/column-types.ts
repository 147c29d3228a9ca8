import { DataType, Field, Type, type Float, type Int, type List, type Struct } from 'apache-arrow';
import type { SchemaElement } from 'hyparquet';

/**
 * What each Arrow column type means for leaf's tables, in one place: how a JS value is checked
 * and normalised before it is written and after it is read (the same normalised value goes to
 * Arrow, Parquet and JSONL, so the three formats carry identical rows), its JSON form, and which
 * Parquet schema elements store it. Adding a type = adding an entry.
 */
export interface ColumnType {
  /** The type as the docs and error messages spell it (pyarrow style: list<float32>). */
  label(type: DataType): string;
  /** Check a non-null value and return its normalised form; throw ValueError when it does not fit. */
  normalise(value: unknown, type: DataType): unknown;
  /** JSON form of a normalised value. */
  toJson(value: unknown, type: DataType): unknown;
  /** Parquet schema elements (depth-first) for a column or nested field of this type. */
  parquet(name: string, type: DataType, repetition: 'REQUIRED' | 'OPTIONAL'): SchemaElement[];
}

/** A value that does not fit its column; `path` grows as the error leaves nested lists/structs. */
export class ValueError extends Error {
  constructor(
    readonly reason: string,
    readonly path = '',
  ) {
    super(path ? `${path}: ${reason}` : reason);
  }
  within(step: string): ValueError {
    return new ValueError(this.reason, step + this.path);
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/**
 * The shortest decimal that reads back as the same float32, so JSONL shows 0.1 rather than
 * 0.10000000149011612 for a float32 column while still parsing to the stored value.
 */
export function shortestFloat32(value: number): number {
  if (!Number.isFinite(value) || value === 0) return value;
  for (let digits = 1; digits < 9; digits++) {
    const candidate = Number(value.toPrecision(digits));
    if (Math.fround(candidate) === value) return candidate;
  }
  return Number(value.toPrecision(9));
}

function childOf(type: DataType): Field {
  return (type as List).children[0];
}

function parquetRepetition(field: Field): 'REQUIRED' | 'OPTIONAL' {
  return field.nullable ? 'OPTIONAL' : 'REQUIRED';
}

const utf8: ColumnType = {
  label: () => 'utf8',
  normalise(value) {
    if (typeof value !== 'string') throw new ValueError(`expected a string, got ${describe(value)}`);
    return value;
  },
  toJson: (value) => value,
  parquet: (name, _type, repetition_type) => [{ name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type }],
};

const bool: ColumnType = {
  label: () => 'bool',
  normalise(value) {
    if (typeof value !== 'boolean') throw new ValueError(`expected a boolean, got ${describe(value)}`);
    return value;
  },
  toJson: (value) => value,
  parquet: (name, _type, repetition_type) => [{ name, type: 'BOOLEAN', repetition_type }],
};

const int: ColumnType = {
  label: (type) => `int${(type as Int).bitWidth}`,
  normalise(value, type) {
    const { bitWidth, isSigned } = type as Int;
    if (!isSigned || (bitWidth !== 32 && bitWidth !== 64)) throw new ValueError(`unsupported integer type ${type}`);
    if (bitWidth === 64) {
      if (typeof value === 'bigint') return value;
      if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
      throw new ValueError(`expected an integer, got ${describe(value)}`);
    }
    if (typeof value !== 'number' || !Number.isInteger(value) || value < INT32_MIN || value > INT32_MAX)
      throw new ValueError(`expected a 32-bit integer, got ${describe(value)}`);
    return value;
  },
  toJson(value, type) {
    if (typeof value !== 'bigint') return value;
    if (value < BigInt(Number.MIN_SAFE_INTEGER) || value > BigInt(Number.MAX_SAFE_INTEGER))
      throw new ValueError(`${value} does not fit a JSON number exactly; write ${type} columns this large to arrow or parquet`);
    return Number(value);
  },
  parquet: (name, type, repetition_type) => [{ name, type: (type as Int).bitWidth === 64 ? 'INT64' : 'INT32', repetition_type }],
};

const float: ColumnType = {
  label: (type) => ((type as Float).precision === 1 ? 'float32' : 'float64'),
  normalise(value, type) {
    if (typeof value !== 'number') throw new ValueError(`expected a number, got ${describe(value)}`);
    // JSON cannot carry NaN or Infinity, and a non-finite score is a failed computation, not data.
    if (!Number.isFinite(value)) throw new ValueError(`${value} is not written: leaf tables hold finite numbers only`);
    return (type as Float).precision === 1 ? Math.fround(value) : value;
  },
  toJson: (value, type) => ((type as Float).precision === 1 ? shortestFloat32(value as number) : value),
  parquet: (name, type, repetition_type) => [{ name, type: (type as Float).precision === 1 ? 'FLOAT' : 'DOUBLE', repetition_type }],
};

const binary: ColumnType = {
  label: () => 'binary',
  normalise(value) {
    if (!(value instanceof Uint8Array)) throw new ValueError(`expected bytes (Uint8Array), got ${describe(value)}`);
    return value;
  },
  toJson() {
    throw new ValueError('binary values have no JSON form; write this table to arrow or parquet');
  },
  parquet: (name, _type, repetition_type) => [{ name, type: 'BYTE_ARRAY', repetition_type }],
};

const list: ColumnType = {
  label: (type) => `list<${typeLabel(childOf(type).type)}>`,
  normalise(value, type) {
    if (!Array.isArray(value) && !(ArrayBuffer.isView(value) && !(value instanceof DataView)))
      throw new ValueError(`expected a list, got ${describe(value)}`);
    const items = value as ArrayLike<unknown>;
    const child = childOf(type);
    const out = new Array(items.length);
    for (let i = 0; i < items.length; i++) {
      try {
        out[i] = normaliseValue(child.type, child.nullable, items[i]);
      } catch (error) {
        throw error instanceof ValueError ? error.within(`[${i}]`) : error;
      }
    }
    return out;
  },
  toJson(value, type) {
    const child = childOf(type);
    return (value as unknown[]).map((item, i) => {
      try {
        return valueToJson(child.type, item);
      } catch (error) {
        throw error instanceof ValueError ? error.within(`[${i}]`) : error;
      }
    });
  },
  parquet(name, type, repetition_type) {
    const child = childOf(type);
    return [
      { name, repetition_type, converted_type: 'LIST', num_children: 1 },
      { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
      ...parquetElements('element', child.type, parquetRepetition(child)),
    ];
  },
};

function structFields(type: DataType): Field[] {
  return (type as Struct).children;
}

const struct: ColumnType = {
  label: (type) => `struct<${structFields(type).map((field) => `${field.name}: ${typeLabel(field.type)}`).join(', ')}>`,
  normalise(value, type) {
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw new ValueError(`expected an object, got ${describe(value)}`);
    const record = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const field of structFields(type)) {
      try {
        out[field.name] = normaliseValue(field.type, field.nullable, record[field.name]);
      } catch (error) {
        throw error instanceof ValueError ? error.within(`.${field.name}`) : error;
      }
    }
    return out;
  },
  toJson(value, type) {
    const record = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const field of structFields(type)) {
      try {
        out[field.name] = valueToJson(field.type, record[field.name]);
      } catch (error) {
        throw error instanceof ValueError ? error.within(`.${field.name}`) : error;
      }
    }
    return out;
  },
  parquet(name, type, repetition_type) {
    const fields = structFields(type);
    return [
      { name, repetition_type, num_children: fields.length },
      ...fields.flatMap((field) => parquetElements(field.name, field.type, parquetRepetition(field))),
    ];
  },
};

const COLUMN_TYPES: Partial<Record<Type, ColumnType>> = {
  [Type.Utf8]: utf8,
  [Type.Bool]: bool,
  [Type.Int]: int,
  [Type.Float]: float,
  [Type.Binary]: binary,
  [Type.List]: list,
  [Type.Struct]: struct,
};

function columnType(type: DataType): ColumnType {
  const entry = COLUMN_TYPES[type.typeId];
  if (!entry) throw new ValueError(`column type ${type} is not supported (supported: utf8, bool, int32, int64, float32, float64, binary, list, struct)`);
  return entry;
}

export function isSupportedType(type: DataType): boolean {
  const entry = COLUMN_TYPES[type.typeId];
  if (!entry) return false;
  if (type.typeId === Type.Int) return (type as Int).isSigned && ((type as Int).bitWidth === 32 || (type as Int).bitWidth === 64);
  if (type.typeId === Type.Float) return (type as Float).precision !== 0;
  return (type.children ?? []).every((child: Field) => isSupportedType(child.type));
}

/** pyarrow-style name of a type; types leaf does not write keep apache-arrow's own name. */
export function typeLabel(type: DataType): string {
  return isSupportedType(type) ? columnType(type).label(type) : String(type);
}

/** Check one value against a column type; null/undefined is allowed only where `nullable`. */
export function normaliseValue(type: DataType, nullable: boolean, value: unknown): unknown {
  if (value === null || value === undefined) {
    if (nullable) return null;
    throw new ValueError('missing value (null) in a non-nullable column');
  }
  return columnType(type).normalise(value, type);
}

export function valueToJson(type: DataType, value: unknown): unknown {
  return value === null || value === undefined ? null : columnType(type).toJson(value, type);
}

export function parquetElements(name: string, type: DataType, repetition: 'REQUIRED' | 'OPTIONAL'): SchemaElement[] {
  return columnType(type).parquet(name, type, repetition);
}
