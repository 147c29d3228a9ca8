import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Field, Int32, Schema, tableFromIPC, type Table } from 'apache-arrow';
import { writeFileAtomic } from '../util/atomic.ts';
import { inferExtraFields } from './infer.ts';
import { plainValue } from './plain.ts';
import { arrowSchema, artifactSchema, fixedFields, type ArtifactName, type ArtifactRow } from './schemas.ts';
import { artifactRowFrom, flattenRow, writeSchemaRows, writeTable, type AnyRow, type WriteRowsOptions, type WriteRowsResult } from './rows.ts';

/**
 * Resumable, shardable output of a long corpus run (analyze, verified prune). The run directory:
 *
 *   DIR/run.json                  what the run is: artifact, corpus size, shard, config fingerprint
 *   DIR/parts/<first>.arrow       one committed batch: its rows, the sample index of each row
 *                                 (column `_sample`), and in the schema metadata the samples it
 *                                 completes and those it skipped with the reason
 *
 * A part appears by rename only once fully written, so a kill -9 at any moment loses at most the
 * batch being written and never touches earlier parts; the set of parts IS the run's progress
 * (no separate index to fall out of step). Samples are the positions 0..total-1 of the corpus
 * as read; sample k belongs to shard floor(k / block) mod n (block 1 unless the run says). `finalize` (one process) or `mergeShards` (n
 * shard directories) write the artifact in corpus order with fixed-size batches, so the bytes
 * depend only on the rows, never on how the work was batched, interrupted or sharded.
 */

export interface Shard {
  /** 0-based: shard i of n takes samples k with floor(k / block) mod n = i. */
  index: number;
  count: number;
  /**
   * Consecutive samples that always go to one shard (default 1: round robin). A run whose batching
   * depends on a sample's neighbours (analyze buckets by length within windows) shards by whole
   * windows, so every shard computes exactly the batches one process would have.
   */
  block?: number;
}

export const WHOLE_CORPUS: Shard = { index: 0, count: 1 };

/** Parse "i/n" (0-based i), as given to `--shard`. */
export function parseShard(text: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  const shard = match && { index: Number(match[1]), count: Number(match[2]) };
  if (!shard || shard.count < 1 || shard.index >= shard.count)
    throw new Error(`--shard must be i/n with 0 <= i < n (e.g. 0/4), got "${text}"`);
  return shard;
}

export interface RunOptions {
  artifact: ArtifactName;
  /** Number of samples in the corpus (positions 0..total-1). */
  total: number;
  /** Hash of everything that determines the output (data sha256 + options): see configFingerprint. */
  configFingerprint: string;
  /** Continue the run found in the directory (starting a new one if there is none). */
  resume?: boolean;
  shard?: Shard;
}

interface RunInfo {
  format: 'leaf-run/1';
  artifact: ArtifactName;
  total: number;
  fingerprint: string;
  shard: Shard;
  created: string;
  /** Set by finalize: where the artifact went. */
  finalized?: string;
}

/** A finished sample: its rows (possibly none), or the reason it was skipped. */
export type SampleResult<Row> = { index: number; rows: Row[] } | { index: number; skipped: string };

export interface SkippedSample {
  index: number;
  reason: string;
}

export interface AssembleResult extends WriteRowsResult {
  /** Samples completed (with rows, without rows, or skipped). */
  samples: number;
  skipped: SkippedSample[];
}

const RUN_FILE = 'run.json';
const PARTS_DIR = 'parts';
const PART_NAME = /^(\d{10})\.arrow$/;
const SAMPLE_COLUMN = '_sample';
const PART_METADATA_KEY = 'leaf.part';

interface PartContents {
  samples: number[];
  skipped: SkippedSample[];
}

interface Part extends PartContents {
  path: string;
  table: Table;
}

const belongsTo = (shard: Shard, sample: number) => Math.floor(sample / (shard.block ?? 1)) % shard.count === shard.index;
const describeShard = (shard: Shard) => `${shard.index}/${shard.count}${(shard.block ?? 1) > 1 ? ` in blocks of ${shard.block}` : ''}`;

/** The samples of a corpus of `total` that belong to `shard`, ascending. */
export function shardSamples(shard: Shard, total: number): number[] {
  const samples = [];
  for (let sample = 0; sample < total; sample++) if (belongsTo(shard, sample)) samples.push(sample);
  return samples;
}

function readRunInfo(dir: string): RunInfo | undefined {
  const path = join(dir, RUN_FILE);
  if (!existsSync(path)) return undefined;
  const info = JSON.parse(readFileSync(path, 'utf8')) as RunInfo;
  if (info.format !== 'leaf-run/1') throw new Error(`${path}: not a leaf run file`);
  return info;
}

function readPart(path: string): Part {
  let table: Table;
  let contents: PartContents;
  try {
    table = tableFromIPC(readFileSync(path));
    contents = JSON.parse(table.schema.metadata.get(PART_METADATA_KEY) ?? 'null');
    if (!contents || !Array.isArray(contents.samples)) throw new Error('no part metadata');
  } catch (error) {
    throw new Error(
      `${path} is not a readable part (${(error as Error).message}); parts appear only complete, so the file was changed ` +
        'after it was written: delete it to recompute its samples',
    );
  }
  return { path, table, ...contents };
}

function readParts(dir: string): Part[] {
  const partsDir = join(dir, PARTS_DIR);
  if (!existsSync(partsDir)) return [];
  return readdirSync(partsDir)
    .filter((name) => PART_NAME.test(name))
    .sort()
    .map((name) => readPart(join(partsDir, name)));
}

/** Leftovers of writes cut short by a kill: temp files, never renamed into parts. */
function removeUnfinishedWrites(dir: string): void {
  const partsDir = join(dir, PARTS_DIR);
  if (!existsSync(partsDir)) return;
  for (const name of readdirSync(partsDir)) if (name.startsWith('.') && name.endsWith('.tmp')) rmSync(join(partsDir, name), { force: true });
}

export class Run<N extends ArtifactName> {
  /** Samples completed so far (with or without rows, or skipped). */
  readonly done = new Set<number>();
  readonly skipped: SkippedSample[] = [];

  constructor(
    readonly dir: string,
    readonly info: RunInfo,
    parts: Part[],
  ) {
    for (const part of parts) {
      for (const sample of part.samples) {
        if (this.done.has(sample)) throw new Error(`${part.path}: sample ${sample} is also in another part`);
        this.done.add(sample);
      }
      this.skipped.push(...part.skipped);
    }
  }

  get shard(): Shard {
    return this.info.shard;
  }

  /** This shard's samples that are not done yet, ascending. */
  todo(): number[] {
    return shardSamples(this.shard, this.info.total).filter((sample) => !this.done.has(sample));
  }

  get complete(): boolean {
    return this.todo().length === 0;
  }

  /**
   * Commit a finished batch atomically. Rows are checked against the artifact schema before
   * anything is written, so a bad row fails here, with its batch, not hours later at finalize.
   */
  async commit(results: SampleResult<ArtifactRow<N>>[]): Promise<void> {
    if (this.info.finalized) throw new Error(`the run in ${this.dir} is finalized; nothing more can be committed`);
    if (results.length === 0) return;
    const ordered = [...results].sort((a, b) => a.index - b.index);
    ordered.forEach((result, i) => {
      const sample = result.index;
      if (!Number.isInteger(sample) || sample < 0 || sample >= this.info.total)
        throw new Error(`sample ${sample} is outside the corpus (0..${this.info.total - 1})`);
      if (!belongsTo(this.shard, sample)) throw new Error(`sample ${sample} does not belong to shard ${describeShard(this.shard)}`);
      if (this.done.has(sample) || ordered[i + 1]?.index === sample) throw new Error(`sample ${sample} is committed twice`);
    });
    const skipped = ordered.flatMap((result) => ('skipped' in result ? [{ index: result.index, reason: result.skipped }] : []));
    const rows = ordered.flatMap((result) => ('rows' in result ? result.rows.map((row) => ({ sample: result.index, row })) : []));
    const contents: PartContents = { samples: ordered.map((result) => result.index), skipped };
    const name = this.info.artifact;
    const extraFields = artifactSchema(name).carriesExtraColumns ? inferExtraFields(rows.map(({ row }) => row as unknown as AnyRow)) : [];
    const artifact = arrowSchema(name, extraFields);
    const schema = new Schema(
      [...artifact.fields, new Field(SAMPLE_COLUMN, new Int32(), false)],
      new Map([...artifact.metadata, [PART_METADATA_KEY, JSON.stringify(contents)]]),
    );
    const fixedNames = fixedFields(name).map((field) => field.name);
    const flat = rows.map(({ sample, row }) => ({ ...flattenRow(row as unknown as AnyRow, fixedNames), [SAMPLE_COLUMN]: sample }));
    const path = join(this.dir, PARTS_DIR, `${String(contents.samples[0]).padStart(10, '0')}.arrow`);
    try {
      await writeSchemaRows(path, schema, flat, 'arrow');
    } catch (error) {
      throw new Error(`cannot commit samples ${contents.samples.join(', ')}: ${(error as Error).message}`, { cause: error });
    }
    for (const sample of contents.samples) this.done.add(sample);
    this.skipped.push(...skipped);
  }

  /**
   * Write the artifact of a complete unsharded run in corpus order. The parts stay until `close`:
   * a kill before then leaves a run that --resume completes again, to the same bytes.
   */
  async finalize(path: string, options: WriteRowsOptions = {}): Promise<AssembleResult> {
    if (this.shard.count > 1)
      throw new Error(`${this.dir} is shard ${describeShard(this.shard)}: combine the shards with mergeShards (leaf merge)`);
    return assemble([this.dir], path, options);
  }

  /**
   * Mark the run finished once everything that describes its output (the artifact, a manifest) is
   * written, then remove the parts. From the mark on, reopening the run finds it complete.
   */
  close(path: string): void {
    writeFileAtomic(join(this.dir, RUN_FILE), JSON.stringify({ ...this.info, finalized: path }, null, 2) + '\n');
    this.info.finalized = path;
    rmSync(join(this.dir, PARTS_DIR), { recursive: true, force: true });
  }
}

/**
 * The output of the run in `dir` if it was closed with this configuration fingerprint (what
 * `--resume` of a finished job needs to say it is complete), removing parts a kill after the close
 * left behind. Undefined when there is no finished run; an error when it was configured otherwise.
 */
export function finishedRun(dir: string, configFingerprint: string): string | undefined {
  const info = readRunInfo(dir);
  if (!info?.finalized) return undefined;
  if (info.fingerprint !== configFingerprint)
    throw new Error(
      `the run in ${dir} is finished with another configuration (data sha256 + options fingerprint ${info.fingerprint}, now ${configFingerprint}); choose another directory`,
    );
  rmSync(join(dir, PARTS_DIR), { recursive: true, force: true });
  return info.finalized;
}

/**
 * Open the run directory `dir`: a new run, or (with `resume`) the one already there, which must
 * have been started with the same artifact, corpus size, shard and config fingerprint.
 */
export async function openRun<N extends ArtifactName>(dir: string, options: RunOptions & { artifact: N }): Promise<Run<N>> {
  const shard = options.shard ?? WHOLE_CORPUS;
  if (!Number.isInteger(options.total) || options.total < 0) throw new Error(`total must be a sample count, got ${options.total}`);
  const existing = readRunInfo(dir);
  if (existing) {
    if (existing.finalized)
      throw new Error(`the run in ${dir} is finished: its output is ${existing.finalized}; choose another directory (or --resume, which confirms it is complete)`);
    if (!options.resume)
      throw new Error(`${dir} holds an unfinished run; resume it (--resume) or choose another directory`);
    const mismatch = (what: string, was: unknown, now: unknown) =>
      new Error(`cannot resume the run in ${dir}: ${what} was ${was} and is now ${now}`);
    if (existing.fingerprint !== options.configFingerprint)
      throw mismatch('the configuration (data sha256 + options) fingerprint', existing.fingerprint, options.configFingerprint);
    if (existing.artifact !== options.artifact) throw mismatch('the artifact', existing.artifact, options.artifact);
    if (existing.total !== options.total) throw mismatch('the number of samples', existing.total, options.total);
    if (describeShard(existing.shard) !== describeShard(shard)) throw mismatch('the shard', describeShard(existing.shard), describeShard(shard));
    removeUnfinishedWrites(dir);
    return new Run<N>(dir, existing, readParts(dir));
  }
  mkdirSync(join(dir, PARTS_DIR), { recursive: true });
  removeUnfinishedWrites(dir);
  if (readParts(dir).length > 0) throw new Error(`${join(dir, PARTS_DIR)} holds parts but ${join(dir, RUN_FILE)} is missing`);
  const info: RunInfo = {
    format: 'leaf-run/1',
    artifact: options.artifact,
    total: options.total,
    fingerprint: options.configFingerprint,
    shard,
    created: new Date().toISOString(),
  };
  writeFileAtomic(join(dir, RUN_FILE), JSON.stringify(info, null, 2) + '\n');
  return new Run<N>(dir, info, []);
}

/** How far the run in `dir` got: samples committed and its shard's sample count (undefined: no run there). */
export function runProgress(dir: string): { done: number; total: number; shard: Shard } | undefined {
  const info = readRunInfo(dir);
  if (!info) return undefined;
  const total = shardSamples(info.shard, info.total).length;
  if (info.finalized) return { done: total, total, shard: info.shard };
  return { done: readParts(dir).reduce((n, part) => n + part.samples.length, 0), total, shard: info.shard };
}

/** Rows of all parts in corpus order (a sample's rows keep their committed order). */
function* rowsInCorpusOrder(name: ArtifactName, parts: Part[]): Generator<ArtifactRow<ArtifactName>> {
  const order: [sample: number, part: number, row: number][] = [];
  parts.forEach((part, p) => {
    const samples = part.table.getChild(SAMPLE_COLUMN)!;
    for (let row = 0; row < part.table.numRows; row++) order.push([samples.get(row) as number, p, row]);
  });
  order.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
  for (const [, p, row] of order) {
    const { table, path } = parts[p];
    const record: Record<string, unknown> = {};
    for (const field of table.schema.fields)
      if (field.name !== SAMPLE_COLUMN) record[field.name] = plainValue(table.getChild(field.name)!.get(row));
    yield artifactRowFrom(record, name, `${path}: row ${row}`);
  }
}

async function assemble(dirs: string[], path: string, options: WriteRowsOptions): Promise<AssembleResult> {
  const infos = dirs.map((dir) => {
    const info = readRunInfo(dir);
    if (!info) throw new Error(`${dir} holds no run (${RUN_FILE} is missing)`);
    if (info.finalized) throw new Error(`the run in ${dir} was already finalized into ${info.finalized}`);
    return info;
  });
  const first = infos[0];
  infos.forEach((info, i) => {
    if (info.fingerprint !== first.fingerprint || info.artifact !== first.artifact || info.total !== first.total)
      throw new Error(`${dirs[i]} and ${dirs[0]} come from different runs (configuration fingerprint, artifact or corpus size differ)`);
  });
  const owner = new Map<number, string>();
  const parts: Part[] = [];
  const skipped: SkippedSample[] = [];
  dirs.forEach((dir, i) => {
    for (const part of readParts(dir)) {
      for (const sample of part.samples) {
        const other = owner.get(sample);
        if (other !== undefined) throw new Error(`sample ${sample} is in both ${other} and ${part.path}`);
        if (!belongsTo(infos[i].shard, sample))
          throw new Error(`${part.path} holds sample ${sample}, which is not in shard ${describeShard(infos[i].shard)}`);
        owner.set(sample, part.path);
      }
      parts.push(part);
      skipped.push(...part.skipped);
    }
  });
  const missing: number[] = [];
  for (let sample = 0; sample < first.total && missing.length < 10; sample++) if (!owner.has(sample)) missing.push(sample);
  if (missing.length > 0) {
    const count = first.total - owner.size;
    throw new Error(
      `${dirs.join(', ')}: ${count} of ${first.total} samples are not done (first: ${missing.join(', ')}); resume the run${dirs.length > 1 ? 's' : ''} before combining`,
    );
  }
  const result = await writeTable(path, first.artifact, () => rowsInCorpusOrder(first.artifact, parts), options);
  skipped.sort((a, b) => a.index - b.index);
  return { ...result, samples: owner.size, skipped };
}

/**
 * Combine the directories of n shard runs into one artifact in corpus order. The shards must
 * share the configuration fingerprint and together cover every sample exactly once; the shard
 * directories are left as they are.
 */
export async function mergeShards(shardDirs: string[], path: string, options: WriteRowsOptions = {}): Promise<AssembleResult> {
  if (shardDirs.length === 0) throw new Error('no shard directories to merge');
  const shards = shardDirs.map((dir) => {
    const info = readRunInfo(dir);
    if (!info) throw new Error(`${dir} holds no run (${RUN_FILE} is missing)`);
    return { dir, shard: info.shard };
  });
  const count = shards[0].shard.count;
  const seen = new Map<number, string>();
  for (const { dir, shard } of shards) {
    if (shard.count !== count || (shard.block ?? 1) !== (shards[0].shard.block ?? 1))
      throw new Error(`${dir} is shard ${describeShard(shard)} but ${shards[0].dir} is ${describeShard(shards[0].shard)}`);
    const other = seen.get(shard.index);
    if (other !== undefined) throw new Error(`${other} and ${dir} are both shard ${describeShard(shard)}`);
    seen.set(shard.index, dir);
  }
  const absent = Array.from({ length: count }, (_, i) => i).filter((i) => !seen.has(i));
  if (absent.length > 0) throw new Error(`shard${absent.length > 1 ? 's' : ''} ${absent.map((i) => `${i}/${count}`).join(', ')} missing from the merge`);
  return assemble(shardDirs, path, options);
}
