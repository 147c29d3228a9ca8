import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Schema } from 'apache-arrow';
import { tempPathFor } from '../util/atomic.ts';
import { normaliseValue, typeLabel, ValueError } from './column-types.ts';
import { formatForPath, openTable, writableFormat, type ArrowEncoding, type WritableFormat } from './formats/index.ts';
import { inferExtraFields } from './infer.ts';
import { ARTIFACT_METADATA_KEY, arrowSchema, artifactSchema, fixedFields, type ArtifactName, type ArtifactRow } from './schemas.ts';

export interface WriteRowsOptions {
  /** Default: from the path's extension (.parquet, .jsonl), else Arrow IPC. */
  format?: WritableFormat;
  /** Arrow only: IPC stream (default; what HF `datasets` reads) or the random-access file encoding. */
  arrowFormat?: ArrowEncoding;
}

export interface WriteRowsResult {
  path: string;
  format: WritableFormat;
  rows: number;
  schema: Schema;
}

/** An artifact row as callers hold it: fixed fields, plus carried-through columns in `extra`. */
export type AnyRow = Record<string, unknown> & { extra?: Record<string, unknown> };

/** A row's column values: the fixed fields from the row itself, the other columns from its `extra`. */
export function flattenRow(row: AnyRow, fixedNames: readonly string[]): Record<string, unknown> {
  const flat: Record<string, unknown> = { ...row.extra };
  for (const name of fixedNames) flat[name] = row[name];
  return flat;
}

function normaliseRow(schema: Schema, row: Record<string, unknown>, index: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of schema.fields) {
    try {
      out[field.name] = normaliseValue(field.type, field.nullable, row[field.name]);
    } catch (error) {
      if (!(error instanceof ValueError)) throw error;
      throw new Error(`row ${index}, column "${field.name}"${error.path}: ${error.reason}`);
    }
  }
  return out;
}

/**
 * Write rows of column values under a resolved schema: every value is checked and normalised,
 * and the file appears only when complete (temp file + rename). Returns the row count.
 */
export async function writeSchemaRows(
  path: string,
  schema: Schema,
  rows: Iterable<Record<string, unknown>>,
  format: WritableFormat,
  arrowFormat: ArrowEncoding = 'stream',
): Promise<number> {
  let count = 0;
  function* normalised() {
    for (const row of rows) yield normaliseRow(schema, row, count++);
  }
  mkdirSync(dirname(path), { recursive: true });
  const temp = tempPathFor(path);
  try {
    await writableFormat(format).write(temp, schema, normalised(), { arrowFormat });
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
  return count;
}

/**
 * Write an artifact through the one schema definition, to a temp file renamed into place.
 * `rows` is called once more when the schema carries extra columns (their types are inferred
 * first), so a caller can stream rows from disk instead of holding them all.
 */
export async function writeTable<N extends ArtifactName>(
  path: string,
  name: N,
  rows: () => Iterable<ArtifactRow<N>>,
  options: WriteRowsOptions = {},
): Promise<WriteRowsResult> {
  const format = options.format ?? formatForPath(path);
  try {
    const extraFields = artifactSchema(name).carriesExtraColumns ? inferExtraFields(rows() as Iterable<AnyRow>) : [];
    const schema = arrowSchema(name, extraFields);
    const fixedNames = fixedFields(name).map((field) => field.name);
    function* flat() {
      for (const row of rows()) yield flattenRow(row as unknown as AnyRow, fixedNames);
    }
    const count = await writeSchemaRows(path, schema, flat(), format, options.arrowFormat);
    return { path, format, rows: count, schema };
  } catch (error) {
    throw new Error(`cannot write ${name} to ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/** Write artifact rows (Arrow IPC stream by default; Parquet or JSONL carry the same rows). */
export function writeRows<N extends ArtifactName>(
  path: string,
  rows: Iterable<ArtifactRow<N>>,
  name: N,
  options: WriteRowsOptions = {},
): Promise<WriteRowsResult> {
  const list = Array.isArray(rows) ? rows : [...rows];
  return writeTable(path, name, () => list, options);
}

function checkArrowSchema(path: string, name: ArtifactName, schema: Schema): void {
  const artifact = schema.metadata.get(ARTIFACT_METADATA_KEY);
  if (artifact !== undefined && artifact !== name) throw new Error(`${path} holds leaf ${artifact} rows, not ${name}`);
  const present = new Map(schema.fields.map((field) => [field.name, field]));
  for (const expected of fixedFields(name)) {
    const actual = present.get(expected.name);
    if (!actual) throw new Error(`${path}: column "${expected.name}" (${typeLabel(expected.type)}) is missing`);
    if (typeLabel(actual.type) !== typeLabel(expected.type))
      throw new Error(`${path}: column "${expected.name}" has type ${typeLabel(actual.type)}, expected ${typeLabel(expected.type)}`);
  }
}

/**
 * Read an artifact written by leaf (or by anyone, in any supported format) and check it against
 * the schema: a missing or mistyped column, or a bad value, is an error naming file, row and column.
 */
export async function readRows<N extends ArtifactName>(path: string, name: N): Promise<ArtifactRow<N>[]> {
  const { source } = await openTable(path);
  if (source.schema) checkArrowSchema(path, name, source.schema);
  const rows: ArtifactRow<N>[] = [];
  for (const record of source.records) {
    const where = record.line !== undefined ? `${path}:${record.line}` : `${path}: row ${record.index}`;
    if (record.error !== undefined) throw new Error(`${where}: ${record.error}`);
    rows.push(artifactRowFrom(record.value, name, where));
  }
  return rows;
}

/**
 * A record read from a table file as an artifact row: the fixed columns checked against the
 * schema (error names `where` and the column), every other column into `extra` where the
 * artifact carries them.
 */
export function artifactRowFrom<N extends ArtifactName>(value: unknown, name: N, where: string): ArtifactRow<N> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${where}: not a record`);
  const record = value as Record<string, unknown>;
  const row: Record<string, unknown> = {};
  const fields = fixedFields(name);
  for (const field of fields) {
    if (!(field.name in record)) throw new Error(`${where}: column "${field.name}" (${typeLabel(field.type)}) is missing`);
    try {
      row[field.name] = normaliseValue(field.type, field.nullable, record[field.name]);
    } catch (error) {
      if (!(error instanceof ValueError)) throw error;
      throw new Error(`${where}, column "${field.name}"${error.path}: ${error.reason}`);
    }
  }
  if (artifactSchema(name).carriesExtraColumns) {
    const fixed = new Set(fields.map((field) => field.name));
    const extra: Record<string, unknown> = {};
    for (const key of Object.keys(record)) if (!fixed.has(key)) extra[key] = record[key];
    row.extra = extra;
  }
  return row as unknown as ArtifactRow<N>;
}

export const readAttributions = (path: string) => readRows(path, 'attributions');
export const readPruned = (path: string) => readRows(path, 'pruned');
