import { createWriteStream, openSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { setImmediate as yieldToIo } from 'node:timers/promises';
import {
  CompressionType,
  RecordBatch,
  RecordBatchFileWriter,
  RecordBatchStreamWriter,
  Schema,
  Struct,
  Table,
  compressionRegistry,
  makeData,
  tableFromIPC,
  vectorFromArray,
} from 'apache-arrow';
import { decompressZstd } from 'hyparquet-compressors';
import { plainValue } from '../plain.ts';
import type { TableFormat, WriteOptions } from './types.ts';

/** Rows per RecordBatch: fixed, so the same rows always give the same bytes (HF `datasets` also uses 1000). */
export const ARROW_BATCH_ROWS = 1000;

const FILE_MAGIC = [0x41, 0x52, 0x52, 0x4f, 0x57, 0x31]; // "ARROW1"
const CONTINUATION = [0xff, 0xff, 0xff, 0xff];

// IPC files may compress their buffers (pyarrow: compression="zstd"); zstd is decoded here, the
// LZ4 frame format has no decoder among our dependencies and gets a clear error instead.
compressionRegistry.set(CompressionType.ZSTD, { decode: (data: Uint8Array) => decompressZstd(data) });

function explainCompression(error: unknown): Error {
  const message = (error as Error).message;
  if (!/compressed but codec not found/.test(message)) return error as Error;
  return new Error(
    'its record batches are LZ4-compressed, which leaf cannot read; save it with compression="zstd" or ' +
      '"uncompressed" (pandas/pyarrow feather default to lz4), or as Parquet',
  );
}

function startsWith(head: Uint8Array, magic: number[]): boolean {
  return magic.every((byte, i) => head[i] === byte);
}

function* chunks<T>(items: Iterable<T>, size: number): Generator<T[]> {
  let chunk: T[] = [];
  for (const item of items) {
    chunk.push(item);
    if (chunk.length === size) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length > 0) yield chunk;
}

function recordBatch(schema: Schema, rows: Record<string, unknown>[]): RecordBatch {
  const children = schema.fields.map((field) => vectorFromArray(rows.map((row) => row[field.name]), field.type).data[0]);
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: rows.length, nullCount: 0, children }));
}

async function writeArrow(path: string, schema: Schema, rows: Iterable<Record<string, unknown>>, options: WriteOptions) {
  const writer = options.arrowFormat === 'file' ? new RecordBatchFileWriter() : new RecordBatchStreamWriter();
  // The schema message goes out even for a table without rows, so an empty result is a valid file.
  writer.reset(undefined, schema);
  // Opened here, not lazily by the stream: a stream destroyed before its asynchronous open still
  // creates the file afterwards, behind the caller's clean-up of a failed write.
  const written = pipeline(writer, createWriteStream(path, { fd: openSync(path, 'w') }));
  try {
    for (const chunk of chunks(rows, ARROW_BATCH_ROWS)) {
      writer.write(recordBatch(schema, chunk));
      // Let the file stream drain what this batch produced before building the next one.
      await yieldToIo();
    }
  } catch (error) {
    // Close the file stream too, so a failed write leaves no open descriptor behind.
    writer.abort(error);
    await written.catch(() => undefined);
    throw error;
  }
  writer.finish();
  await written;
}

export const arrowFormat: TableFormat = {
  name: 'arrow',
  extensions: ['.arrow', '.arrows', '.feather', '.ipc'],
  sniff: (head) => startsWith(head, FILE_MAGIC) || startsWith(head, CONTINUATION),
  async read(bytes) {
    let table: Table;
    try {
      table = tableFromIPC(bytes);
    } catch (error) {
      throw explainCompression(error);
    }
    const columns = table.schema.fields.map((field, i) => ({ name: field.name, vector: table.getChildAt(i)! }));
    function* records() {
      for (let index = 0; index < table.numRows; index++) {
        const value: Record<string, unknown> = {};
        for (const column of columns) value[column.name] = plainValue(column.vector.get(index));
        yield { index, value };
      }
    }
    return { schema: table.schema, records: records() };
  },
  write: writeArrow,
};
