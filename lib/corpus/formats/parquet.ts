import type { Schema } from 'apache-arrow';
import { parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { ParquetWriter, fileWriter } from 'hyparquet-writer';
import { parquetElements } from '../column-types.ts';
import { plainValue } from '../plain.ts';
import type { TableFormat } from './types.ts';

/** Rows per Parquet row group: fixed, so the same rows always give the same bytes. */
export const PARQUET_ROW_GROUP_ROWS = 10_000;

const MAGIC = [0x50, 0x41, 0x52, 0x31]; // "PAR1"

function parquetSchema(schema: Schema) {
  return [
    { name: 'root', num_children: schema.fields.length },
    ...schema.fields.flatMap((field) => parquetElements(field.name, field.type, field.nullable ? 'OPTIONAL' : 'REQUIRED')),
  ];
}

async function writeParquet(path: string, schema: Schema, rows: Iterable<Record<string, unknown>>) {
  const writer = new ParquetWriter({
    writer: fileWriter(path),
    schema: parquetSchema(schema),
    kvMetadata: [...schema.metadata].map(([key, value]) => ({ key, value })),
    createdBy: 'leaf',
  });
  let group: Record<string, unknown>[] = [];
  const flush = async () => {
    const columnData = schema.fields.map((field) => ({ name: field.name, data: group.map((row) => row[field.name]) }));
    await writer.write({ columnData, rowGroupSize: group.length });
    group = [];
  };
  for (const row of rows) {
    group.push(row);
    if (group.length === PARQUET_ROW_GROUP_ROWS) await flush();
  }
  if (group.length > 0) await flush();
  await writer.finish();
}

export const parquetFormat: TableFormat = {
  name: 'parquet',
  extensions: ['.parquet', '.pq'],
  sniff: (head) => MAGIC.every((byte, i) => head[i] === byte),
  async read(bytes) {
    const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    const rows = await parquetReadObjects({ file, compressors });
    function* records() {
      for (let index = 0; index < rows.length; index++) yield { index, value: plainValue(rows[index]) };
    }
    return { records: records() };
  },
  write: writeParquet,
};
