import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  Bool,
  CompressionType,
  RecordBatchStreamWriter,
  compressionRegistry,
  Field,
  Float64,
  Int64,
  List,
  Struct,
  Table,
  Utf8,
  tableToIPC,
  vectorFromArray,
} from 'apache-arrow';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, describe, expect, it } from 'vitest';
import { CorpusError, readCorpus, type Sample } from '../lib/corpus/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'leaf-corpus-read-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

// One corpus, written by hand in every format; extras cover the value kinds leaf carries through.
const records = [
  { instruction: 'Add 2 and 3.', input: '', output: 'The sum is 5.', answer: '5', score: 0.5, n: 7, tags: ['math', 'easy'], meta: { source: 'gsm', level: 1 }, ok: true },
  { instruction: 'Émile a 3 pommes 🍎', input: 'context\nline', output: 'Il en a 3.', answer: '3', score: 1.25, n: -2, tags: [], meta: { source: 'x', level: 2 }, ok: false },
  { instruction: 'code: `x = 1`', input: '', output: 'done', answer: '', score: 2, n: 0, tags: ['c'], meta: { source: 'y', level: 3 }, ok: true },
];

function expectedSamples(): Sample[] {
  return records.map(({ instruction, input, output, answer, ...extra }, index) => ({
    id: String(index),
    index,
    instruction,
    input,
    output,
    answer,
    extra,
  }));
}

function arrowTable(): Table {
  const column = <T>(pick: (record: (typeof records)[number]) => T) => records.map(pick);
  const metaType = new Struct([new Field('source', new Utf8(), true), new Field('level', new Int64(), true)]);
  return new Table({
    instruction: vectorFromArray(column((r) => r.instruction), new Utf8()),
    input: vectorFromArray(column((r) => r.input), new Utf8()),
    output: vectorFromArray(column((r) => r.output), new Utf8()),
    answer: vectorFromArray(column((r) => r.answer), new Utf8()),
    score: vectorFromArray(column((r) => r.score), new Float64()),
    n: vectorFromArray(column((r) => BigInt(r.n)), new Int64()),
    tags: vectorFromArray(column((r) => r.tags), new List(new Field('item', new Utf8(), true))),
    meta: vectorFromArray(column((r) => ({ source: r.meta.source, level: BigInt(r.meta.level) })), metaType),
    ok: vectorFromArray(column((r) => r.ok), new Bool()),
  });
}

function parquetBytes(codec: 'SNAPPY' | 'GZIP'): Uint8Array {
  const columnData = Object.keys(records[0]).map((name) => ({
    name,
    data: records.map((record) => {
      const value = (record as Record<string, unknown>)[name];
      return name === 'n' ? BigInt(value as number) : value;
    }),
  }));
  const schema = [
    { name: 'root', num_children: columnData.length },
    ...['instruction', 'input', 'output', 'answer'].map((name) => ({ name, type: 'BYTE_ARRAY' as const, converted_type: 'UTF8' as const, repetition_type: 'REQUIRED' as const })),
    { name: 'score', type: 'DOUBLE' as const, repetition_type: 'REQUIRED' as const },
    { name: 'n', type: 'INT64' as const, repetition_type: 'REQUIRED' as const },
    { name: 'tags', repetition_type: 'REQUIRED' as const, converted_type: 'LIST' as const, num_children: 1 },
    { name: 'list', repetition_type: 'REPEATED' as const, num_children: 1 },
    { name: 'element', type: 'BYTE_ARRAY' as const, converted_type: 'UTF8' as const, repetition_type: 'REQUIRED' as const },
    { name: 'meta', repetition_type: 'REQUIRED' as const, num_children: 2 },
    { name: 'source', type: 'BYTE_ARRAY' as const, converted_type: 'UTF8' as const, repetition_type: 'REQUIRED' as const },
    { name: 'level', type: 'INT32' as const, repetition_type: 'REQUIRED' as const },
    { name: 'ok', type: 'BOOLEAN' as const, repetition_type: 'REQUIRED' as const },
  ];
  const buffer = parquetWriteBuffer({
    columnData,
    schema,
    codec,
    compressors: { GZIP: (input: Uint8Array) => gzipSync(input) },
  });
  return new Uint8Array(buffer);
}

const jsonl = records.map((record) => JSON.stringify(record)).join('\n') + '\n';

describe('readCorpus: formats', () => {
  const cases: [string, () => string][] = [
    ['JSONL', () => file('c.jsonl', jsonl)],
    ['JSONL with BOM, CRLF and blank lines', () => file('crlf.jsonl', '\ufeff' + records.map((r) => JSON.stringify(r)).join('\r\n\r\n') + '\r\n')],
    ['JSON array', () => file('c.json', JSON.stringify(records, null, 2))],
    ['JSONL in a .json file (content wins)', () => file('lines.json', jsonl)],
    ['gzipped JSONL', () => file('c.jsonl.gz', gzipSync(jsonl))],
    ['Arrow IPC stream', () => file('c.arrow', tableToIPC(arrowTable(), 'stream'))],
    ['Arrow IPC file', () => file('c.feather', tableToIPC(arrowTable(), 'file'))],
    ['Arrow IPC file without a known extension', () => file('c.bin', tableToIPC(arrowTable(), 'file'))],
    ['Parquet (snappy)', () => file('c.parquet', parquetBytes('SNAPPY'))],
    ['Parquet (gzip) with an unknown extension', () => file('c.data', parquetBytes('GZIP'))],
  ];
  for (const [name, make] of cases) {
    it(`reads ${name}`, async () => {
      const path = make();
      const corpus = await readCorpus(path);
      expect(corpus.samples).toEqual(expectedSamples());
      expect(corpus.skipped).toEqual([]);
      expect(corpus.sha256).toBe(createHash('sha256').update(readFileSync(path)).digest('hex'));
    });
  }

  it('names the format it detected', async () => {
    expect((await readCorpus(file('f.jsonl', jsonl))).format).toBe('jsonl');
    expect((await readCorpus(file('f.parquet', parquetBytes('SNAPPY')))).format).toBe('parquet');
    expect((await readCorpus(file('f.arrow', tableToIPC(arrowTable(), 'stream')))).format).toBe('arrow');
    expect((await readCorpus(file('f.json', JSON.stringify(records)))).format).toBe('json');
  });

  it('rejects a file whose format it cannot tell', async () => {
    const path = file('notes.txt', 'just some text');
    await expect(readCorpus(path)).rejects.toThrow(/notes\.txt: cannot tell the file format/);
  });

  it('rejects a JSON document that is not an array, or an array that is not closed', async () => {
    await expect(readCorpus(file('obj.json', '{\n  "data": [\n    {"instruction": "a"}\n  ]\n}\n'))).rejects.toThrow(
      /obj\.json: .*one JSON object \(keys: data\), not JSON Lines or a JSON array/,
    );
    await expect(readCorpus(file('num.json', '  \n42'))).rejects.toThrow(/num\.json: .*expected a JSON array of records/);
    await expect(readCorpus(file('open.json', '[\n{"instruction": "a", "output": "b"},\n'))).rejects.toThrow(
      /open\.json: .*the JSON array is not closed \(the file ends at line 3\)/,
    );
    await expect(readCorpus(file('after.json', '[{"instruction": "a", "output": "b"}]\n]'))).rejects.toThrow(
      /after\.json: .*unexpected text after the JSON array at line 2/,
    );
  });

  it('reports a broken element of a JSON array at its line, and can skip it', async () => {
    const text = '[\n  {"instruction": "a", "output": "b"},\n  {"instruction": },\n  {"instruction": "c, [x]", "output": "d\\"}"}\n]';
    const path = file('broken.json', text);
    await expect(readCorpus(path)).rejects.toThrow(`${path}:3: invalid JSON`);
    const { samples, skipped } = await readCorpus(path, {}, { onError: 'skip' });
    expect(samples.map((s) => [s.index, s.instruction, s.output])).toEqual([
      [0, 'a', 'b'],
      [2, 'c, [x]', 'd"}'],
    ]);
    expect(skipped.map((s) => [s.index, s.line])).toEqual([[1, 3]]);
  });
});

/** A valid zstd frame that stores `data` in one raw (uncompressed) block: enough to exercise decoding. */
function storedZstd(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 1 + 4 + 3 + data.length);
  const view = new DataView(out.buffer);
  out.set([0x28, 0xb5, 0x2f, 0xfd]); // magic
  out[4] = 0xa0; // 4-byte content size, single segment
  view.setUint32(5, data.length, true);
  const blockHeader = 1 | (data.length << 3); // last block, raw
  out.set([blockHeader & 0xff, (blockHeader >> 8) & 0xff, (blockHeader >> 16) & 0xff], 9);
  out.set(data, 12);
  return out;
}

function compressedIpc(type: CompressionType, encode: (data: Uint8Array) => Uint8Array): Uint8Array {
  const previous = compressionRegistry.get(type);
  compressionRegistry.set(type, { ...previous, encode });
  try {
    const writer = new RecordBatchStreamWriter({ compressionType: type });
    return writer.writeAll(arrowTable()).toUint8Array(true);
  } finally {
    compressionRegistry.set(type, previous ?? {});
  }
}

describe('readCorpus: compressed Arrow IPC', () => {
  it('reads zstd-compressed record batches', async () => {
    const path = file('zstd.arrow', compressedIpc(CompressionType.ZSTD, storedZstd));
    expect((await readCorpus(path)).samples).toEqual(expectedSamples());
  });

  it('explains that LZ4-compressed batches cannot be read', async () => {
    const lz4Header = (data: Uint8Array) => new Uint8Array([4, 34, 77, 24, 0x40, 0x40, 0, ...data]);
    const path = file('lz4.feather', compressedIpc(CompressionType.LZ4_FRAME, lz4Header));
    await expect(readCorpus(path)).rejects.toThrow(/lz4\.feather: cannot read as arrow: its record batches are LZ4-compressed/);
  });
});

describe('readCorpus: field mapping', () => {
  it('maps custom field names and keeps the others in extra', async () => {
    const path = file(
      'mapped.jsonl',
      [
        { uid: 17, prompt: 'Q1', completion: 'A1', gold: 42, context: 'ctx', lang: 'en' },
        { uid: 'b-2', prompt: 'Q2', completion: 'A2', gold: null, lang: 'fr' },
      ]
        .map((r) => JSON.stringify(r))
        .join('\n'),
    );
    const { samples } = await readCorpus(path, {
      idField: 'uid',
      instructionField: 'prompt',
      responseField: 'completion',
      answerField: 'gold',
      inputField: 'context',
    });
    expect(samples).toEqual([
      { id: '17', index: 0, instruction: 'Q1', input: 'ctx', output: 'A1', answer: '42', extra: { lang: 'en' } },
      { id: 'b-2', index: 1, instruction: 'Q2', input: '', output: 'A2', answer: '', extra: { lang: 'fr' } },
    ]);
  });
});

describe('readCorpus: bad records', () => {
  const lines = [
    '{"instruction": "ok 0", "output": "fine"}', // line 1, record 0
    '{"instruction": "ok 1", "output": "fine",', // line 2: invalid JSON
    '', // blank: not a record
    '{"output": "no instruction"}', // line 4: missing field
    '{"instruction": 5, "output": "x"}', // line 5: non-string
    '{"instruction": "   ", "output": "x"}', // line 6: empty instruction
    '{"instruction": "y", "output": ""}', // line 7: empty response
    '[1, 2]', // line 8: not an object
    '{"instruction": "ok 7", "output": "fine", "input": 3}', // line 9: input not a string
    '{"instruction": "ok 8", "output": "fine"}', // line 10, record 8
  ];
  const expected: [number, number, RegExp][] = [
    [1, 2, /invalid JSON/],
    [2, 4, /missing field "instruction" \(fields present: output\)/],
    [3, 5, /field "instruction" must be a string, got a number/],
    [4, 6, /field "instruction" is empty/],
    [5, 7, /field "output" is empty/],
    [6, 8, /record must be an object with named fields, got an array/],
    [7, 9, /field "input" must be a string, got a number/],
  ];

  it('fails by default, naming file, line and reason of every bad record', async () => {
    const path = file('bad.jsonl', lines.join('\n'));
    const error = await readCorpus(path).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(CorpusError);
    const problems = (error as CorpusError).problems;
    expect(problems.map((p) => [p.index, p.line])).toEqual(expected.map(([index, line]) => [index, line]));
    problems.forEach((problem, i) => {
      expect(problem.reason).toMatch(expected[i][2]);
      expect(problem.message).toBe(`${path}:${expected[i][1]}: ${problem.reason}`);
    });
    expect((error as Error).message).toContain(`${path}:2: invalid JSON`);
    expect((error as Error).message).toContain('and 2 more');
  });

  it('skips bad records when asked, keeping the good ones with their record index', async () => {
    const corpus = await readCorpus(file('bad2.jsonl', lines.join('\n')), {}, { onError: 'skip' });
    expect(corpus.samples.map((s) => [s.index, s.id, s.instruction])).toEqual([
      [0, '0', 'ok 0'],
      [8, '8', 'ok 8'],
    ]);
    expect(corpus.skipped.map((s) => s.line)).toEqual(expected.map(([, line]) => line));
  });

  it('reports rows (not lines) for Arrow input', async () => {
    const table = new Table({
      instruction: vectorFromArray(['a', null, 'c'], new Utf8()),
      output: vectorFromArray(['x', 'y', ''], new Utf8()),
    });
    const path = file('bad.arrow', tableToIPC(table, 'stream'));
    const error = (await readCorpus(path).catch((caught: unknown) => caught)) as CorpusError;
    expect(error.problems.map((p) => p.message)).toEqual([
      `${path}: row 1: field "instruction" must be a string, got null`,
      `${path}: row 2: field "output" is empty`,
    ]);
  });

  it('rejects duplicate ids naming both records', async () => {
    const path = file('dup.jsonl', ['a', 'b', 'a'].map((id) => JSON.stringify({ id, instruction: 'i', output: 'o' })).join('\n'));
    await expect(readCorpus(path, { idField: 'id' })).rejects.toThrow(`${path}:3: duplicate id "a" (first at line 1)`);
    const skipped = await readCorpus(path, { idField: 'id' }, { onError: 'skip' });
    expect(skipped.samples.map((s) => s.id)).toEqual(['a', 'b']);
  });

  it('rejects a missing id field and a corpus without usable records', async () => {
    const path = file('noid.jsonl', JSON.stringify({ instruction: 'i', output: 'o' }));
    await expect(readCorpus(path, { idField: 'uid' })).rejects.toThrow('no record has the field "uid" (--id-field); the records have: instruction, output.');
    const partly = file('partly-noid.jsonl', [{ uid: 'a', instruction: 'i', output: 'o' }, { instruction: 'i', output: 'o' }].map((r) => JSON.stringify(r)).join('\n'));
    await expect(readCorpus(partly, { idField: 'uid' })).rejects.toThrow('missing id field "uid"');
    const allBad = file('all-bad.jsonl', JSON.stringify({ instruction: 5, output: 'o' }));
    await expect(readCorpus(allBad, {}, { onError: 'skip' })).rejects.toThrow(/no usable records \(all 1 were skipped\)/);
    await expect(readCorpus(file('empty.jsonl', '\n\n'))).rejects.toThrow(/holds no records/);
  });
});

describe('readCorpus: scale', () => {
  it('reads 100k JSONL records', async () => {
    const count = 100_000;
    const body = Array.from({ length: count }, (_, i) =>
      JSON.stringify({ instruction: `Question ${i}: what is ${i} + ${i}?`, output: `It is ${2 * i}.`, answer: 2 * i, topic: i % 7 }),
    ).join('\n');
    const path = file('big.jsonl', body);
    const { samples } = await readCorpus(path);
    expect(samples.length).toBe(count);
    expect(samples[count - 1]).toEqual({
      id: String(count - 1),
      index: count - 1,
      instruction: `Question ${count - 1}: what is ${count - 1} + ${count - 1}?`,
      input: '',
      output: `It is ${2 * (count - 1)}.`,
      answer: String(2 * (count - 1)),
      extra: { topic: (count - 1) % 7 },
    });
  });
});
