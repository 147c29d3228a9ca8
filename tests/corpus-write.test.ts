import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Field, Float32, Float64, List, RecordBatchReader, Table, tableFromIPC, tableToIPC, Utf8, vectorFromArray } from 'apache-arrow';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { afterAll, describe, expect, it } from 'vitest';
import {
  describeSchema,
  readAttributions,
  readPruned,
  schemaMarkdown,
  writeRows,
  type AttributionRow,
  type PrunedRow,
} from '../lib/corpus/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'leaf-corpus-write-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const out = (name: string) => join(dir, name);

function attribution(i: number): AttributionRow {
  const n = 1 + (i % 4);
  const tokens = Array.from({ length: n }, (_, t) => (t === 0 ? 'Ém' : ` w${t}`));
  const starts = tokens.map((_, t) => tokens.slice(0, t).join('').length);
  return {
    id: `s${i}`,
    region: i % 3 === 0 ? 'response-1' : 'instruction',
    text: tokens.join(''),
    tokens,
    char_start: starts,
    char_end: starts.map((start, t) => start + tokens[t].length),
    teacher_score: tokens.map((_, t) => 0.1 * (t + 1) + i),
    student_score: tokens.map((_, t) => 1 / (t + 3)),
    teacher_norm: tokens.map((_, t) => t / n),
    student_norm: tokens.map((_, t) => (n - t) / n),
    delta: tokens.map((_, t) => (2 * t - n) / n),
    flagged: tokens.map((_, t) => t % 2 === 1),
    spans: i % 2 ? [{ start: 0, end: 2 }] : [],
    teacher_loss: 1.1 + i,
    student_loss: 2.2,
    threshold: 0.05,
  };
}

function pruned(i: number): PrunedRow {
  return {
    id: `s${i}#${i % 2 ? 'cf1' : 'orig'}`,
    source_id: `s${i}`,
    kind: i % 2 ? 'counterfactual' : 'original',
    instruction: `Instruction ${i} with ünïcödé 🍎`,
    input: i % 3 ? '' : 'extra input',
    output: `Output ${i}`,
    answer: String(i),
    removed_spans: i % 2 ? [{ start: 3, end: 7, text: 'ünï' }] : [],
    removed_chars: i % 2 ? 4 : 0,
    mode: 'span',
    level: 'instruction',
    rule: 'percentile(p=0.05,cap=0.5)',
    threshold: 0.1,
    verified: i % 3 === 0 ? null : i % 3 === 1,
    weight: i % 2 ? 1 / 3 : 0.5,
    extra: { topic: `t${i % 2}`, difficulty: i, score: i + 0.25, tags: i % 2 ? ['a', 'b'] : [], meta: { src: 'gsm', n: i } },
  };
}

const FLOAT32_COLUMNS = new Set(['teacher_score', 'student_score', 'teacher_norm', 'student_norm', 'delta', 'teacher_loss', 'student_loss', 'threshold', 'weight']);

/** What a row must read back as: the float32 columns rounded to float32, by hand. */
function stored<T extends object>(row: T): T {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    if (!FLOAT32_COLUMNS.has(key)) out[key] = value;
    else out[key] = Array.isArray(value) ? value.map(Math.fround) : Math.fround(value as number);
  }
  return out as T;
}

describe('writeRows: attributions', () => {
  const rows = Array.from({ length: 2500 }, (_, i) => attribution(i));

  it('writes an Arrow IPC stream with the documented schema, read back by apache-arrow itself', async () => {
    const path = out('attributions.arrow');
    const result = await writeRows(path, rows, 'attributions');
    expect(result).toMatchObject({ rows: rows.length, format: 'arrow' });
    const bytes = readFileSync(path);
    expect([...bytes.subarray(0, 4)]).toEqual([0xff, 0xff, 0xff, 0xff]); // stream: continuation marker, not "ARROW1"
    const reader = RecordBatchReader.from(bytes);
    expect(reader.isStream()).toBe(true);
    const table = tableFromIPC(bytes);
    expect(table.batches.length).toBe(3);
    const types = Object.fromEntries(table.schema.fields.map((field) => [field.name, String(field.type)]));
    expect(types).toEqual({
      id: 'Utf8',
      region: 'Utf8',
      text: 'Utf8',
      tokens: 'List<Utf8>',
      char_start: 'List<Int32>',
      char_end: 'List<Int32>',
      teacher_score: 'List<Float32>',
      student_score: 'List<Float32>',
      teacher_norm: 'List<Float32>',
      student_norm: 'List<Float32>',
      delta: 'List<Float32>',
      flagged: 'List<Bool>',
      spans: 'List<Struct<{start:Int32, end:Int32}>>',
      teacher_loss: 'Float32',
      student_loss: 'Float32',
      threshold: 'Float32',
    });
    expect(table.numRows).toBe(rows.length);
    const row = 1777;
    expect(table.getChild('id')!.get(row)).toBe(`s${row}`);
    expect([...table.getChild('teacher_score')!.get(row)!]).toEqual(rows[row].teacher_score.map(Math.fround));
    expect([...table.getChild('flagged')!.get(row)!]).toEqual(rows[row].flagged);
    expect(table.getChild('spans')!.get(row)!.get(0)!.toJSON()).toEqual({ start: 0, end: 2 });
    expect(table.getChild('teacher_loss')!.get(row)).toBe(Math.fround(1.1 + row));
  });

  it('writes the random-access file encoding when asked', async () => {
    const path = out('attributions.feather');
    await writeRows(path, rows.slice(0, 5), 'attributions', { arrowFormat: 'file' });
    const bytes = readFileSync(path);
    expect(bytes.subarray(0, 6).toString()).toBe('ARROW1');
    expect(bytes.subarray(bytes.length - 6).toString()).toBe('ARROW1');
    expect(tableFromIPC(bytes).numRows).toBe(5);
    expect(await readAttributions(path)).toEqual(rows.slice(0, 5).map(stored));
  });

  it('reads back what it wrote, in every format', async () => {
    const some = rows.slice(0, 1100);
    for (const format of ['arrow', 'parquet', 'jsonl'] as const) {
      const path = out(`round.${format}`);
      await writeRows(path, some, 'attributions', { format });
      expect(await readAttributions(path)).toEqual(some.map(stored));
    }
  });

  it('gives the same bytes for the same rows', async () => {
    await writeRows(out('a1.arrow'), rows, 'attributions');
    await writeRows(out('a2.arrow'), [...rows], 'attributions');
    expect(readFileSync(out('a1.arrow')).equals(readFileSync(out('a2.arrow')))).toBe(true);
  });

  it('writes a valid empty table', async () => {
    const path = out('empty.arrow');
    await writeRows(path, [], 'attributions');
    const table = tableFromIPC(readFileSync(path));
    expect(table.numRows).toBe(0);
    expect(table.schema.fields.length).toBe(16);
    expect(await readAttributions(path)).toEqual([]);
  });

  it('accepts typed arrays for list columns', async () => {
    const row = { ...attribution(1), teacher_score: new Float32Array([0.5, 0.25]) as unknown as number[] };
    const path = out('typed.arrow');
    await writeRows(path, [row], 'attributions');
    expect((await readAttributions(path))[0].teacher_score).toEqual([0.5, 0.25]);
  });
});

describe('writeRows: pruned datasets', () => {
  const rows = Array.from({ length: 30 }, (_, i) => pruned(i));

  it('carries the same rows in Arrow, Parquet and JSONL, each read by an independent reader', async () => {
    const expected = rows.map((row) => {
      const { extra, ...fixed } = stored(row);
      return { ...fixed, ...extra };
    });
    // Arrow, by apache-arrow.
    await writeRows(out('p.arrow'), rows, 'pruned');
    const table = tableFromIPC(readFileSync(out('p.arrow')));
    const fromArrow = table.toArray().map((row) => JSON.parse(JSON.stringify(row.toJSON(), (_, v) => (typeof v === 'bigint' ? Number(v) : v))));
    expect(fromArrow).toEqual(expected);
    expect(String(table.schema.fields.find((f) => f.name === 'verified')!.type)).toBe('Bool');
    expect(table.schema.fields.find((f) => f.name === 'verified')!.nullable).toBe(true);
    expect(String(table.schema.fields.find((f) => f.name === 'removed_spans')!.type)).toBe('List<Struct<{start:Int32, end:Int32, text:Utf8}>>');
    // Extra columns follow the fixed ones, with types inferred from the values.
    expect(table.schema.fields.slice(-5).map((f) => `${f.name}:${f.type}`)).toEqual([
      'topic:Utf8',
      'difficulty:Int64',
      'score:Float64',
      'tags:List<Utf8>',
      'meta:Struct<{src:Utf8, n:Int64}>',
    ]);

    // Parquet, by hyparquet.
    await writeRows(out('p.parquet'), rows, 'pruned');
    const parquetBytes = readFileSync(out('p.parquet'));
    const file = parquetBytes.buffer.slice(parquetBytes.byteOffset, parquetBytes.byteOffset + parquetBytes.byteLength);
    const fromParquet = (await parquetReadObjects({ file })).map((row) => JSON.parse(JSON.stringify(row, (_, v) => (typeof v === 'bigint' ? Number(v) : v))));
    expect(fromParquet).toEqual(expected);
    const elements = Object.fromEntries(parquetMetadata(file).schema.map((element) => [element.name, element]));
    expect(elements.weight.type).toBe('FLOAT');
    expect(elements.verified.repetition_type).toBe('OPTIONAL');
    expect(elements.removed_chars.type).toBe('INT32');

    // JSONL, by JSON.parse: float32 values are written as the shortest decimal that rounds to them.
    await writeRows(out('p.jsonl'), rows, 'pruned');
    const lines = readFileSync(out('p.jsonl'), 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(lines[1].weight).toBe(0.33333334);
    expect(lines.map((line) => ({ ...line, threshold: Math.fround(line.threshold), weight: Math.fround(line.weight) }))).toEqual(expected);

    // And our own reader gives identical rows from all three.
    const ours = await Promise.all(['p.arrow', 'p.parquet', 'p.jsonl'].map((name) => readPruned(out(name))));
    expect(ours[0]).toEqual(rows.map(stored));
    expect(ours[1]).toEqual(ours[0]);
    expect(ours[2]).toEqual(ours[0]);
  });

  it('rejects extra columns whose types disagree across rows, or that shadow a schema column', async () => {
    const mixed = [pruned(0), { ...pruned(1), extra: { ...pruned(1).extra, topic: 3 } }];
    await expect(writeRows(out('mixed.arrow'), mixed, 'pruned')).rejects.toThrow(
      'extra column "topic": row 0 holds a string but row 1 holds an integer; a column must hold one type of value',
    );
    const shadow = [{ ...pruned(0), extra: { weight: 'heavy' } }];
    await expect(writeRows(out('shadow.arrow'), shadow, 'pruned')).rejects.toThrow(/source column "weight" has the name of a pruned column/);
  });
});

describe('writeRows: bad rows', () => {
  it('names row and column of a bad value, leaves the old file intact and no temp file', async () => {
    const path = out('keep.arrow');
    await writeRows(path, [attribution(0)], 'attributions');
    const before = readFileSync(path);
    const bad = { ...attribution(2), delta: [0.1, Number.NaN] };
    await expect(writeRows(path, [attribution(1), bad], 'attributions')).rejects.toThrow(
      `cannot write attributions to ${path}: row 1, column "delta"[1]: NaN is not written: leaf tables hold finite numbers only`,
    );
    const missing = { ...attribution(1), spans: [{ start: 1 }] } as unknown as AttributionRow;
    await expect(writeRows(path, [missing], 'attributions')).rejects.toThrow('row 0, column "spans"[0].end: missing value');
    const wrong = { ...attribution(1), char_start: [0.5] };
    await expect(writeRows(path, [wrong], 'attributions', { format: 'parquet' })).rejects.toThrow('expected a 32-bit integer, got number 0.5');
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });
});

describe('readAttributions / readPruned: schema checks', () => {
  it('names the file and column that is missing or mistyped', async () => {
    const base = tableFromIPC(readFileSync(await writeRows(out('base.arrow'), [attribution(1)], 'attributions').then((r) => r.path)));
    const columns = Object.fromEntries(base.schema.fields.map((field) => [field.name, base.getChild(field.name)!]));

    const { delta: _delta, ...withoutDelta } = columns;
    const missingPath = out('missing.arrow');
    writeFileSync(missingPath, tableToIPC(new Table(withoutDelta), 'stream'));
    await expect(readAttributions(missingPath)).rejects.toThrow(`${missingPath}: column "delta" (list<float32>) is missing`);

    const float64Delta = vectorFromArray([[0.5, 0.25]], new List(new Field('item', new Float64(), true)));
    const mistypedPath = out('mistyped.arrow');
    writeFileSync(mistypedPath, tableToIPC(new Table({ ...columns, delta: float64Delta }), 'file'));
    await expect(readAttributions(mistypedPath)).rejects.toThrow(`${mistypedPath}: column "delta" has type list<float64>, expected list<float32>`);

    // A table written by another tool with the right types (nullable list items, no leaf metadata) is accepted.
    const foreign = vectorFromArray([[Math.fround(0.5)]], new List(new Field('element', new Float32(), true)));
    const foreignPath = out('foreign.arrow');
    writeFileSync(foreignPath, tableToIPC(new Table({ ...columns, delta: foreign }), 'stream'));
    expect((await readAttributions(foreignPath))[0].delta).toEqual([0.5]);
  });

  it('refuses a pruned dataset read as attributions', async () => {
    const path = (await writeRows(out('kind.arrow'), [pruned(0)], 'pruned')).path;
    await expect(readAttributions(path)).rejects.toThrow(`${path} holds leaf pruned rows, not attributions`);
  });

  it('names line and column of a bad value in JSONL', async () => {
    const path = out('bad.jsonl');
    const good = JSON.stringify({ ...pruned(0), extra: undefined });
    const bad = JSON.stringify({ ...pruned(1), extra: undefined, weight: 'half' });
    writeFileSync(path, `${good}\n${bad}\n`);
    await expect(readPruned(path)).rejects.toThrow(`${path}:2, column "weight": expected a number, got the string "half"`);
    writeFileSync(path, `${good}\n{"id": "x"}\n`);
    await expect(readPruned(path)).rejects.toThrow(`${path}:2: column "source_id" (utf8) is missing`);
  });

  it('does not create files when reading fails', async () => {
    expect(existsSync(out('never.arrow'))).toBe(false);
    await expect(readAttributions(out('never.arrow'))).rejects.toThrow(/ENOENT/);
  });
});

describe('schema docs', () => {
  it('describes every column with its pyarrow-style type', () => {
    const attributions = Object.fromEntries(describeSchema('attributions').map((c) => [c.name, c.type]));
    expect(attributions.spans).toBe('list<struct<start: int32, end: int32>>');
    expect(attributions.flagged).toBe('list<bool>');
    expect(attributions.teacher_loss).toBe('float32');
    const verified = describeSchema('pruned').find((c) => c.name === 'verified')!;
    expect(verified).toMatchObject({ type: 'bool', nullable: true });
    const table = schemaMarkdown('pruned');
    expect(table).toContain('| `removed_spans` | `list<struct<start: int32, end: int32, text: utf8>>` |');
    expect(table).toContain('| `verified` | `bool` (nullable) |');
    expect(table).toContain('Every other column of the source corpus follows');
  });
});
