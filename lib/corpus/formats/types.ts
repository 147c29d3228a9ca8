import type { Schema } from 'apache-arrow';

/** One record of a source file, or the reason it could not be parsed. */
export interface RawRecord {
  /** 0-based record index (blank JSONL lines are not records). */
  index: number;
  /** 1-based line number, for line-oriented formats. */
  line?: number;
  value?: unknown;
  error?: string;
}

export interface RecordSource {
  /** The file's own Arrow schema, where the format has one that leaf can check column types against. */
  schema?: Schema;
  records: Iterable<RawRecord>;
}

export type ArrowEncoding = 'stream' | 'file';

export interface WriteOptions {
  /** IPC stream (what Hugging Face `datasets` writes and reads) or the random-access file encoding (Feather v2). */
  arrowFormat: ArrowEncoding;
}

/** A table file format: how it is recognised, read into records, and (when writable) written. */
export interface TableFormat {
  name: string;
  extensions: readonly string[];
  /** True when the file's leading bytes identify this format. */
  sniff(head: Uint8Array): boolean;
  read(bytes: Uint8Array): Promise<RecordSource>;
  /** Write rows already normalised to `schema` (see column-types.ts) to `path`, replacing it. */
  write?(path: string, schema: Schema, rows: Iterable<Record<string, unknown>>, options: WriteOptions): Promise<void>;
}
