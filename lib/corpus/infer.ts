import { Binary, Bool, DataType, Field, Float64, Int64, List, Struct, Utf8 } from 'apache-arrow';

/**
 * Arrow types for columns that leaf carries through from a user's corpus without knowing them
 * (a pruned dataset's extra columns), inferred from the JS values: every row must agree.
 *
 * Columns and struct fields are ordered by their first non-null value, then the never-non-null
 * ones by name. The order then depends only on the values, not on which keys happened to be
 * present as null (a resumable run's parts fill absent keys with nulls batch by batch).
 */

type Shape =
  | { kind: 'null' }
  | { kind: 'string' | 'bool' | 'int' | 'float' | 'bytes'; row: number }
  | { kind: 'list'; row: number; item: Shape }
  | { kind: 'struct'; row: number; fields: Map<string, Shape> };

const NULL: Shape = { kind: 'null' };

const KIND_NAMES: Record<Shape['kind'], string> = {
  null: 'null',
  string: 'a string',
  bool: 'a boolean',
  int: 'an integer',
  float: 'a number',
  bytes: 'bytes',
  list: 'a list',
  struct: 'an object',
};

class InferenceError extends Error {}

function shapeOf(value: unknown, row: number): Shape {
  if (value === null || value === undefined) return NULL;
  if (typeof value === 'string') return { kind: 'string', row };
  if (typeof value === 'boolean') return { kind: 'bool', row };
  if (typeof value === 'bigint') return { kind: 'int', row };
  if (typeof value === 'number') return { kind: Number.isSafeInteger(value) ? 'int' : 'float', row };
  if (value instanceof Uint8Array) return { kind: 'bytes', row };
  if (Array.isArray(value)) return { kind: 'list', row, item: value.reduce((item: Shape, element) => merge(item, shapeOf(element, row)), NULL) };
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const fields = new Map<string, Shape>();
    for (const [key, fieldValue] of Object.entries(value)) mergeInto(fields, key, shapeOf(fieldValue, row));
    return { kind: 'struct', row, fields };
  }
  throw new InferenceError(`row ${row} holds a value leaf cannot store (${Object.prototype.toString.call(value)})`);
}

function merge(a: Shape, b: Shape): Shape {
  if (a.kind === 'null') return b;
  if (b.kind === 'null') return a;
  if (a.kind === 'list' && b.kind === 'list') return { ...a, item: merge(a.item, b.item) };
  if (a.kind === 'struct' && b.kind === 'struct') {
    const fields = new Map(a.fields);
    for (const [key, shape] of b.fields) mergeInto(fields, key, shape);
    return { ...a, fields };
  }
  // Integers and fractions mix in JSON (1 and 1.5): the column is a float column.
  const numeric = new Set(['int', 'float']);
  if (numeric.has(a.kind) && numeric.has(b.kind)) return a.kind === 'float' ? a : b;
  if (a.kind === b.kind) return a;
  throw new InferenceError(`row ${a.row} holds ${KIND_NAMES[a.kind]} but row ${b.row} holds ${KIND_NAMES[b.kind]}`);
}

/** Merge a key's shape in; a key that gets its first non-null value moves behind the others. */
function mergeInto(fields: Map<string, Shape>, key: string, shape: Shape): void {
  const before = fields.get(key) ?? NULL;
  const merged = merge(before, shape);
  if (before.kind === 'null' && merged.kind !== 'null') fields.delete(key);
  fields.set(key, merged);
}

function ordered(fields: Map<string, Shape>): [string, Shape][] {
  const entries = [...fields];
  const valued = entries.filter(([, shape]) => shape.kind !== 'null');
  const nullOnly = entries.filter(([, shape]) => shape.kind === 'null').sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return [...valued, ...nullOnly];
}

function arrowType(shape: Shape): DataType {
  switch (shape.kind) {
    // A column that is null in every row has no type to find; utf8 is what readers expect most.
    case 'null':
    case 'string':
      return new Utf8();
    case 'bool':
      return new Bool();
    case 'int':
      return new Int64();
    case 'float':
      return new Float64();
    case 'bytes':
      return new Binary();
    case 'list':
      return new List(new Field('item', arrowType(shape.item), true));
    case 'struct':
      return new Struct(ordered(shape.fields).map(([name, field]) => new Field(name, arrowType(field), true)));
  }
}

/** Nullable Arrow fields for the `extra` columns of `rows`. */
export function inferExtraFields(rows: Iterable<{ extra?: Record<string, unknown> }>): Field[] {
  const shapes = new Map<string, Shape>();
  let row = 0;
  for (const { extra } of rows) {
    for (const [name, value] of Object.entries(extra ?? {})) {
      try {
        mergeInto(shapes, name, shapeOf(value, row));
      } catch (error) {
        if (!(error instanceof InferenceError)) throw error;
        throw new Error(`extra column "${name}": ${error.message}; a column must hold one type of value`);
      }
    }
    row++;
  }
  return ordered(shapes).map(([name, shape]) => new Field(name, arrowType(shape), true));
}
