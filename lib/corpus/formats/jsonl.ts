import { isUtf8 } from 'node:buffer';
import { closeSync, openSync, writeSync } from 'node:fs';
import type { Schema } from 'apache-arrow';
import { valueToJson, ValueError } from '../column-types.ts';
import { bomLength, firstSignificantChar, strictUtf8 } from './text.ts';
import type { RawRecord, TableFormat } from './types.ts';

const NEWLINE = 0x0a;
const WRITE_CHUNK_CHARS = 1 << 20;

/** A pretty-printed JSON object also starts with "{"; say what it is rather than report every line. */
function rejectSingleDocument(buffer: Buffer): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(buffer.toString('utf8'));
  } catch {
    return;
  }
  const keys = Object.keys(parsed as object).slice(0, 5).join(', ');
  throw new Error(`the file is one JSON object (keys: ${keys}), not JSON Lines or a JSON array of records`);
}

function* jsonLines(bytes: Uint8Array): Generator<RawRecord> {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Checking the whole file once lets valid files (nearly all) use the fast decoder line by line.
  const valid = isUtf8(buffer);
  let index = 0;
  let line = 0;
  for (let start = bomLength(bytes); start < buffer.length; ) {
    let end = buffer.indexOf(NEWLINE, start);
    if (end < 0) end = buffer.length;
    line++;
    let text: string;
    try {
      text = valid ? buffer.toString('utf8', start, end) : strictUtf8.decode(buffer.subarray(start, end));
    } catch {
      yield { index: index++, line, error: 'invalid UTF-8' };
      start = end + 1;
      continue;
    }
    start = end + 1;
    if (text.trim() === '') continue;
    try {
      yield { index, line, value: JSON.parse(text) };
    } catch (error) {
      if (index === 0) rejectSingleDocument(buffer);
      yield { index, line, error: `invalid JSON (${(error as Error).message})` };
    }
    index++;
  }
}

function jsonRow(schema: Schema, row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of schema.fields) {
    try {
      out[field.name] = valueToJson(field.type, row[field.name]);
    } catch (error) {
      throw error instanceof ValueError ? error.within(`column "${field.name}"`) : error;
    }
  }
  return out;
}

async function writeJsonl(path: string, schema: Schema, rows: Iterable<Record<string, unknown>>) {
  const fd = openSync(path, 'w');
  try {
    let pending = '';
    let rowIndex = 0;
    for (const row of rows) {
      try {
        pending += JSON.stringify(jsonRow(schema, row)) + '\n';
      } catch (error) {
        throw error instanceof ValueError ? new Error(`row ${rowIndex}, ${error.message}`) : error;
      }
      rowIndex++;
      if (pending.length > WRITE_CHUNK_CHARS) {
        writeSync(fd, pending);
        pending = '';
      }
    }
    writeSync(fd, pending);
  } finally {
    closeSync(fd);
  }
}

export const jsonlFormat: TableFormat = {
  name: 'jsonl',
  extensions: ['.jsonl', '.ndjson'],
  sniff: (head) => firstSignificantChar(head) === '{',
  read: async (bytes) => ({ records: jsonLines(bytes) }),
  write: writeJsonl,
};
