import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';
import { removeStaleTemps, writeFileAtomic } from '../../util/atomic.ts';

/**
 * On-disk teacher cache: for every supervised position of every row, the teacher's top-K token ids
 * (student vocabulary), their log-probabilities and the log of the remaining (tail) mass.
 *   topk.bin   per row, contiguous: int32 ids[R·K], float32 logProbs[R·K], float32 tail[R]
 *   index.bin  float64 pairs (byte offset, R) per row, in row order
 *   header.json  written last: its presence marks a complete cache
 */
export const CACHE_VERSION = 1;

export interface CacheHeader {
  version: number;
  k: number;
  temperature: number;
  rows: number;
  /** sha256 over the teacher, vocabulary mode and every row's supervised target ids: a cache built for other data is refused. */
  fingerprint: string;
  teacher: string;
  bytes: number;
}

export interface TopKRecord {
  positions: number;
  ids: Int32Array;
  logProbs: Float32Array;
  tailLogMass: Float32Array;
}

const files = (dir: string) => ({ data: join(dir, 'topk.bin'), index: join(dir, 'index.bin'), header: join(dir, 'header.json') });

export class TeacherCacheWriter {
  private fd: number;
  private offset = 0;
  private readonly index: Float64Array;
  private readonly written: Uint8Array;
  private readonly tempData: string;

  constructor(private readonly dir: string, private readonly k: number, private readonly rows: number) {
    mkdirSync(dir, { recursive: true });
    rmSync(files(dir).header, { force: true });
    removeStaleTemps(dir, `${basename(files(dir).data)}.`);
    this.tempData = `${files(dir).data}.${process.pid}.tmp`;
    this.fd = openSync(this.tempData, 'w');
    this.index = new Float64Array(rows * 2);
    this.written = new Uint8Array(rows);
  }

  append(row: number, record: TopKRecord): void {
    const { positions, ids, logProbs, tailLogMass } = record;
    if (ids.length !== positions * this.k || logProbs.length !== positions * this.k || tailLogMass.length !== positions)
      throw new Error(`teacher cache: record of row ${row} has inconsistent lengths`);
    if (this.written[row]) throw new Error(`teacher cache: row ${row} written twice`);
    for (const part of [ids, logProbs, tailLogMass]) {
      const bytes = new Uint8Array(part.buffer, part.byteOffset, part.byteLength);
      writeSync(this.fd, bytes, 0, bytes.length, this.offset);
      this.offset += bytes.length;
    }
    this.index[2 * row] = this.offset - (2 * positions * this.k + positions) * 4;
    this.index[2 * row + 1] = positions;
    this.written[row] = 1;
  }

  finish(header: Omit<CacheHeader, 'version' | 'k' | 'rows' | 'bytes'>): CacheHeader {
    closeSync(this.fd);
    const missing = this.written.indexOf(0);
    if (missing >= 0) throw new Error(`teacher cache: row ${missing} was never written`);
    const paths = files(this.dir);
    renameSync(this.tempData, paths.data);
    writeFileAtomic(paths.index, new Uint8Array(this.index.buffer));
    const full: CacheHeader = { version: CACHE_VERSION, k: this.k, rows: this.rows, bytes: this.offset, ...header };
    writeFileAtomic(paths.header, `${JSON.stringify(full, null, 2)}\n`);
    return full;
  }

  abort(): void {
    closeSync(this.fd);
    rmSync(this.tempData, { force: true });
  }
}

/** The complete cache in `dir`, or undefined when there is none (or it is incomplete). */
export function readCacheHeader(dir: string): CacheHeader | undefined {
  const path = files(dir).header;
  if (!existsSync(path)) return undefined;
  const header = JSON.parse(readFileSync(path, 'utf8')) as CacheHeader;
  if (header.version !== CACHE_VERSION) throw new Error(`${path}: teacher cache version ${header.version}, this leaf reads ${CACHE_VERSION}`);
  return header;
}

export class TeacherCacheReader {
  private readonly fd: number;
  private readonly index: Float64Array;

  constructor(private readonly dir: string, readonly header: CacheHeader) {
    const paths = files(dir);
    const raw = readFileSync(paths.index);
    if (raw.byteLength !== header.rows * 16) throw new Error(`${paths.index}: expected ${header.rows} rows, file is truncated or corrupt`);
    this.index = new Float64Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    this.fd = openSync(paths.data, 'r');
  }

  read(row: number): TopKRecord {
    if (row < 0 || row >= this.header.rows) throw new Error(`teacher cache ${this.dir}: no row ${row}`);
    const offset = this.index[2 * row];
    const positions = this.index[2 * row + 1];
    const k = this.header.k;
    const buffer = new ArrayBuffer((2 * positions * k + positions) * 4);
    const got = readSync(this.fd, new Uint8Array(buffer), 0, buffer.byteLength, offset);
    if (got !== buffer.byteLength) throw new Error(`teacher cache ${this.dir}: row ${row} is truncated`);
    return {
      positions,
      ids: new Int32Array(buffer, 0, positions * k),
      logProbs: new Float32Array(buffer, positions * k * 4, positions * k),
      tailLogMass: new Float32Array(buffer, 2 * positions * k * 4, positions),
    };
  }

  close(): void {
    closeSync(this.fd);
  }
}
