import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { arrowFormat } from './arrow.ts';
import { jsonFormat } from './json.ts';
import { jsonlFormat } from './jsonl.ts';
import { parquetFormat } from './parquet.ts';
import { invalidText } from './text.ts';
import type { RawRecord, RecordSource, TableFormat } from './types.ts';

export type { ArrowEncoding, RawRecord, RecordSource, TableFormat, WriteOptions } from './types.ts';

/** Content sniffing tries these in order; binary magics come before the text formats. */
const FORMATS: readonly TableFormat[] = [parquetFormat, arrowFormat, jsonFormat, jsonlFormat];

export const WRITABLE_FORMATS = ['arrow', 'parquet', 'jsonl'] as const;
export type WritableFormat = (typeof WRITABLE_FORMATS)[number];

const GZIP_MAGIC = [0x1f, 0x8b];
const SNIFF_BYTES = 64;

export function writableFormat(name: WritableFormat): TableFormat & Required<Pick<TableFormat, 'write'>> {
  const format = FORMATS.find((candidate) => candidate.name === name);
  if (!format?.write) throw new Error(`unknown output format "${name}" (expected one of: ${WRITABLE_FORMATS.join(', ')})`);
  return format as TableFormat & Required<Pick<TableFormat, 'write'>>;
}

/**
 * The format of a file: its leading bytes decide when they are recognisable (a `.json` file
 * that holds JSON Lines is common), its extension otherwise.
 */
export function detectFormat(path: string, bytes: Uint8Array): TableFormat {
  const head = bytes.subarray(0, SNIFF_BYTES);
  const sniffed = FORMATS.find((format) => format.sniff(head));
  if (sniffed) return sniffed;
  const name = path.toLowerCase().replace(/\.gz$/, '');
  const byExtension = FORMATS.find((format) => format.extensions.some((extension) => name.endsWith(extension)));
  if (byExtension) return byExtension;
  const known = FORMATS.map((format) => `${format.name} (${format.extensions.join(', ')})`).join('; ');
  throw new Error(`${path}: cannot tell the file format from its content or extension; supported: ${known}`);
}

export interface OpenedTable {
  format: TableFormat;
  source: RecordSource;
  /** sha256 of the file as stored (before any gunzip). */
  sha256: string;
}

/** Read a table file of any supported format (optionally gzip-compressed) into records. */
export async function openTable(path: string): Promise<OpenedTable> {
  const stored = readFileSync(path);
  const sha256 = createHash('sha256').update(stored).digest('hex');
  const bytes: Uint8Array = GZIP_MAGIC.every((byte, i) => stored[i] === byte) ? gunzipSync(stored) : stored;
  const format = detectFormat(path, bytes);
  const failure = (error: unknown) => new Error(`${path}: cannot read as ${format.name}: ${(error as Error).message}`, { cause: error });
  let source: RecordSource;
  try {
    source = await format.read(bytes);
  } catch (error) {
    throw failure(error);
  }
  // Formats that parse lazily report a broken file while their records are iterated. Text that
  // cannot be stored as such is a bad record in every format, so each reader refuses it alike.
  function* records(): Generator<RawRecord> {
    try {
      for (const record of source.records) {
        const problem = record.error === undefined ? invalidText(record.value) : undefined;
        yield problem ? { index: record.index, ...(record.line !== undefined && { line: record.line }), error: problem } : record;
      }
    } catch (error) {
      throw failure(error);
    }
  }
  return { format, source: { ...source, records: records() }, sha256 };
}

/** The writable format a path's extension names; Arrow IPC when it names none. */
export function formatForPath(path: string): WritableFormat {
  const name = path.toLowerCase();
  const match = WRITABLE_FORMATS.find((format) => writableFormat(format).extensions.some((extension) => name.endsWith(extension)));
  return match ?? 'arrow';
}
