import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { beforeAll, describe, expect, it } from 'vitest';
import { sampleRegions } from '../lib/confounders/index.ts';
import { readPruned, type PrunedRow } from '../lib/corpus/index.ts';
import { userMessage } from '../lib/corpus/prompt.ts';
import { prune, pruneDefaults, type PruneOptions } from '../lib/pruning/index.ts';
import { attributionRow, reinsert, writeAnalysis, writeJsonl } from './prune-fixtures.ts';

const root = mkdtempSync(join(tmpdir(), 'leaf-prune-'));
let counter = 0;
const freshDir = (name: string) => join(root, `${name}-${counter++}`);

const CORPUS = [
  { uid: 'a', instruction: 'Tom has 3 apples and buys 2 more. His cat is named Rex. How many apples does Tom have?', input: '', output: 'Tom has 3 + 2 = 5 apples.', answer: '5', topic: 'fruit', hint: 1 },
  { uid: 'b', instruction: 'Add the two numbers.', input: 'Numbers: 4 and 6. The sky is blue.', output: '4 + 6 = 10', answer: '10', topic: 'math', hint: 2 },
  { uid: 'c', instruction: 'What is 1 + 1?', input: '', output: '2', answer: '2', topic: 'math', hint: 3 },
  { uid: 'd', instruction: 'Name a colour.', input: '', output: 'Red', answer: '', topic: 'misc', hint: 4 },
  { uid: 'e', instruction: 'Ignore: x. Compute 9 - 4 now, please.', input: '', output: '5', answer: 5, topic: 'math', hint: 5 },
];
const user = (row: (typeof CORPUS)[number]) => userMessage({ instruction: row.instruction, input: row.input });

const ROWS = [
  attributionRow('a', user(CORPUS[0]), [{ text: 'His cat is named Rex.', delta: 0.05 }, { text: 'apples does', delta: 0 }]),
  attributionRow('b', user(CORPUS[1]), [{ text: 'The sky is blue.', delta: 0.1 }]),
  attributionRow('c', user(CORPUS[2]), []),
  attributionRow('e', user(CORPUS[4]), [{ text: 'Ignore:', delta: 0.1 }, { text: 'x', delta: 0.2, from: 5 }, { text: 'please.', delta: 0.3 }]),
];

let dataPath: string;
let analysis: string;

beforeAll(async () => {
  dataPath = writeJsonl(join(root, 'data.jsonl'), CORPUS);
  analysis = await writeAnalysis(join(root, 'analysis'), dataPath, ROWS, { idField: 'uid' });
});

function options(overrides: Partial<PruneOptions> = {}): PruneOptions {
  return { ...pruneDefaults, attributions: analysis, data: dataPath, out: join(freshDir('out'), 'pruned.arrow'), progress: false, ...overrides } as PruneOptions;
}

const byId = (rows: PrunedRow[]) => new Map(rows.map((row) => [row.id, row]));

describe('leaf prune (span mode, Arrow stream)', () => {
  let rows: PrunedRow[];
  let out: string;
  let summary: Record<string, any>;

  beforeAll(async () => {
    const o = options();
    out = o.out;
    const result = await prune(o);
    summary = JSON.parse(readFileSync(result.summaryPath, 'utf8'));
    expect(result.summaryPath).toBe(join(o.out, '..', 'summary.json'));
    rows = await readPruned(out);
  });

  it('writes an Arrow IPC stream that apache-arrow reads with the documented schema', () => {
    const bytes = readFileSync(out);
    expect(bytes.readUInt32LE(0)).toBe(0xffffffff); // stream encoding: continuation marker, no ARROW1 magic
    const table = tableFromIPC(bytes);
    expect(table.schema.fields.map((f) => [f.name, String(f.type), f.nullable])).toEqual([
      ['id', 'Utf8', false],
      ['source_id', 'Utf8', false],
      ['kind', 'Utf8', false],
      ['instruction', 'Utf8', false],
      ['input', 'Utf8', false],
      ['output', 'Utf8', false],
      ['answer', 'Utf8', false],
      ['removed_spans', 'List<Struct<{start:Int32, end:Int32, text:Utf8}>>', false],
      ['removed_chars', 'Int32', false],
      ['mode', 'Utf8', false],
      ['level', 'Utf8', false],
      ['rule', 'Utf8', false],
      ['threshold', 'Float32', false],
      ['verified', 'Bool', true],
      ['weight', 'Float32', false],
      ['topic', 'Utf8', true],
      ['hint', 'Int64', true],
    ]);
    expect(table.schema.metadata.get('leaf.artifact')).toBe('pruned');
    expect(table.numRows).toBe(11);
    const ids = table.getChild('id')!.toArray();
    expect(ids).toEqual(['a', 'a#cf1', 'a#cf2', 'b', 'b#cf1', 'c', 'd', 'e', 'e#cf1', 'e#cf2', 'e#cf3']);
    const spans = table.getChild('removed_spans')!.get(1)!.toArray().map((s: any) => s.toJSON());
    const text = user(CORPUS[0]);
    const at = text.indexOf('His');
    expect(spans).toEqual([{ start: at, end: at + 'His cat is named Rex. '.length, text: 'His cat is named Rex. ' }]);
  });

  it('rebuilds counterfactual texts from character spans, collapsing doubled whitespace only at the seam', () => {
    const r = byId(rows);
    expect(r.get('a#cf1')!.instruction).toBe('Tom has 3 apples and buys 2 more. How many apples does Tom have?');
    expect(r.get('a#cf2')!.instruction).toBe('Tom has 3 apples and buys 2 more. His cat is named Rex. How many Tom have?');
    expect(r.get('b#cf1')).toMatchObject({ instruction: 'Add the two numbers.', input: 'Numbers: 4 and 6.', output: '4 + 6 = 10' });
    expect(r.get('e#cf1')!.instruction).toBe('x. Compute 9 - 4 now, please.');
    expect(r.get('e#cf2')!.instruction).toBe('Ignore: . Compute 9 - 4 now, please.');
    expect(r.get('e#cf3')!.instruction).toBe('Ignore: x. Compute 9 - 4 now,');
  });

  it('re-inserting removed_spans gives back the original user message exactly', () => {
    const r = byId(rows);
    for (const row of rows.filter((x) => x.kind === 'counterfactual')) {
      const original = r.get(row.source_id)!;
      expect(reinsert(userMessage(row), row.removed_spans)).toBe(userMessage(original));
      expect(row.removed_chars).toBe(row.removed_spans.reduce((sum, s) => sum + s.end - s.start, 0));
      expect(row.output).toBe(original.output);
    }
  });

  it('records provenance, weights and carries the other columns through', () => {
    const r = byId(rows);
    expect(r.get('a')).toMatchObject({ kind: 'original', source_id: 'a', weight: 0.5, verified: null, removed_spans: [], rule: 'percentile:p=0.1,cap=0.5', mode: 'span', level: 'instruction' });
    expect(r.get('a#cf1')).toMatchObject({ kind: 'counterfactual', source_id: 'a', weight: 0.25, level: 'instruction', answer: '5' });
    expect(r.get('a#cf1')!.threshold).toBeCloseTo(0.1, 6);
    expect(r.get('b')!.weight).toBe(0.5);
    expect(r.get('b#cf1')!.weight).toBe(0.5);
    expect(r.get('c')!.weight).toBe(1); // analysed, nothing flagged
    expect(r.get('d')).toMatchObject({ weight: 1, rule: 'not-analysed', threshold: 0 });
    expect(r.get('e#cf2')!.weight).toBe(Math.fround(0.5 / 3));
    expect(r.get('e')!.answer).toBe('5');
    for (const row of rows) {
      const source = CORPUS.find((c) => c.uid === row.source_id)!;
      expect(row.extra).toEqual({ topic: source.topic, hint: source.hint });
    }
    // each sample's weights sum to 1
    for (const source of CORPUS) expect(rows.filter((x) => x.source_id === source.uid).reduce((s, x) => s + x.weight, 0)).toBeCloseTo(1, 6);
  });

  it('writes summary.json with counts and removed-character statistics', () => {
    expect(summary).toMatchObject({
      format: 'leaf-prune-summary/1',
      samples: 5,
      samples_analysed: 4,
      samples_with_counterfactuals: 3,
      spans: 6,
      spans_too_short: 0,
      counterfactuals_built: 6,
      counterfactuals_written: 6,
      originals_written: 5,
      rows: 11,
      verification: null,
    });
    // hand computation: removed lengths of the six counterfactuals
    const lengths = ['His cat is named Rex. ', ' apples does', ' The sky is blue.', 'Ignore: ', 'x', ' please.'].map((s) => s.length).sort((a, b) => a - b);
    const mean = lengths.reduce((a, b) => a + b, 0) / lengths.length;
    expect(summary.removed_chars.mean).toBeCloseTo(mean, 10);
    expect(summary.removed_chars.p50).toBeCloseTo((lengths[2] + lengths[3]) / 2, 10);
    expect(summary.removed_chars.p95).toBeCloseTo(lengths[4] + 0.75 * (lengths[5] - lengths[4]), 10);
  });
});

describe('modes and volume controls', () => {
  const count = async (overrides: Partial<PruneOptions>) => {
    const rows = await readPruned((await prune(options(overrides))).summary.output.path);
    return { originals: rows.filter((r) => r.kind === 'original').length, counterfactuals: rows.filter((r) => r.kind === 'counterfactual'), rows };
  };

  it('collective mode writes one counterfactual per sample with spans, removing them all', async () => {
    const { originals, counterfactuals } = await count({ mode: 'collective' });
    expect(originals).toBe(5);
    expect(counterfactuals.map((r) => r.id)).toEqual(['a#cf1', 'b#cf1', 'e#cf1']);
    expect(counterfactuals[0].instruction).toBe('Tom has 3 apples and buys 2 more. How many Tom have?');
    expect(counterfactuals[2].instruction).toBe('. Compute 9 - 4 now,');
    expect(counterfactuals.every((r) => r.mode === 'collective')).toBe(true);
    expect(counterfactuals[0].weight).toBe(0.5);
  });

  it('--originals analysed leaves out samples without attributions', async () => {
    const { originals } = await count({ originals: 'analysed' });
    expect(originals).toBe(4);
  });

  it('--min-span-chars and --max-per-sample limit the counterfactuals', async () => {
    const short = await count({ minSpanChars: 2 });
    expect(short.counterfactuals.map((r) => r.id)).toEqual(['a#cf1', 'a#cf2', 'b#cf1', 'e#cf1', 'e#cf2']);
    expect(short.counterfactuals.find((r) => r.id === 'e#cf2')!.instruction).toBe('Ignore: x. Compute 9 - 4 now,');
    const capped = await count({ maxPerSample: 1 });
    // the lowest mean delta per sample: "apples does" (0), "The sky is blue." (0.1), "Ignore:" (0.1)
    expect(capped.counterfactuals.map((r) => r.id)).toEqual(['a#cf2', 'b#cf1', 'e#cf1']);
  });

  it('--lambda sets the original and counterfactual weights', async () => {
    const { rows } = await count({ lambda: 0.2 });
    const r = byId(rows);
    expect(r.get('a')!.weight).toBe(Math.fround(0.2));
    expect(r.get('a#cf1')!.weight).toBe(Math.fround(0.4));
    expect(r.get('d')!.weight).toBe(1);
  });
});

describe('output formats', () => {
  it('Arrow stream, Arrow file, Parquet and JSONL carry the same rows', async () => {
    const stream = (await prune(options())).summary.output.path;
    const filePath = join(freshDir('file'), 'pruned.arrow');
    await prune(options({ out: filePath, arrowFormat: 'file' }));
    expect(readFileSync(filePath).subarray(0, 6).toString()).toBe('ARROW1');
    const parquet = join(freshDir('pq'), 'pruned.parquet');
    const parquetResult = await prune(options({ out: parquet }));
    expect(parquetResult.summary.output.format).toBe('parquet');
    expect(readFileSync(parquet).subarray(0, 4).toString()).toBe('PAR1');
    const jsonl = join(freshDir('jsonl'), 'pruned.data');
    await prune(options({ out: jsonl, format: 'jsonl' }));

    const reference = await readPruned(stream);
    expect(reference).toHaveLength(11);
    for (const path of [filePath, parquet, jsonl]) expect(await readPruned(path)).toEqual(reference);
    // and the JSONL lines themselves, parsed without leaf
    const lines = readFileSync(jsonl, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    expect(lines.map((l) => [l.id, l.kind, l.instruction, l.input, Math.fround(l.weight), l.verified, l.topic, l.hint])).toEqual(
      reference.map((r) => [r.id, r.kind, r.instruction, r.input, r.weight, r.verified, r.extra!.topic, r.extra!.hint]),
    );
  });
});

describe('response-level attributions', () => {
  it('prunes an earlier response segment in the response field, by its offset', async () => {
    const dir = freshDir('resp');
    const sample = { id: 'r1', instruction: 'How much is 2 + 3?', output: 'First, note that the cat is grey.\nThen 2 + 3 = 5.', answer: '5' };
    const data = writeJsonl(join(dir, 'data.jsonl'), [sample]);
    const layout = sampleRegions(sample.instruction, sample.output, 'response', 2);
    const segment = layout.regions[1];
    expect(segment).toMatchObject({ name: 'response-1', text: 'First, note that the cat is grey.\n' });
    const rows = [
      attributionRow('r1', sample.instruction, [{ text: '2 + 3?' }]),
      attributionRow('r1', segment.text, [{ text: 'note that the cat is grey.' }], 'response-1'),
    ];
    const analysisDir = await writeAnalysis(join(dir, 'analysis'), data, rows, { idField: 'id', level: 'response', segments: 2, responseRule: 'absolute:tau=0.2' });
    const result = await prune(options({ attributions: analysisDir, data, out: join(dir, 'out.jsonl') }));
    const written = await readPruned(result.summary.output.path);
    const response = written.find((r) => r.kind === 'counterfactual' && r.level === 'response')!;
    expect(response).toMatchObject({ id: 'r1#cf2', instruction: sample.instruction, output: 'First,\nThen 2 + 3 = 5.', rule: 'absolute:tau=0.2' });
    expect(reinsert(response.output, response.removed_spans)).toBe(sample.output);
    const instruction = written.find((r) => r.id === 'r1#cf1')!;
    expect(instruction).toMatchObject({ level: 'instruction', instruction: 'How much is', output: sample.output, rule: 'percentile:p=0.1,cap=0.5' });
    expect(written[0]).toMatchObject({ kind: 'original', level: 'response' });
    expect(result.summary.settings.level).toBe('response');
  });
});

describe('bad input fails with a clear message and writes nothing', () => {
  async function expectFailure(overrides: Partial<PruneOptions>, message: RegExp) {
    const o = options(overrides);
    await expect(prune(o)).rejects.toThrow(message);
    const dir = join(o.out, '..');
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
  }

  it('data changed since the analysis (sha256 in the manifest)', async () => {
    const changed = writeJsonl(join(freshDir('changed'), 'data.jsonl'), [{ ...CORPUS[0], instruction: CORPUS[0].instruction.replace('Rex', 'Max') }, ...CORPUS.slice(1)]);
    await expectFailure({ data: changed }, /sha256 .* is not the data the attributions were computed from.*changed since the analysis/);
  });

  it('attributed ids missing from the data', async () => {
    const dir = freshDir('missing');
    const fewer = writeJsonl(join(dir, 'data.jsonl'), CORPUS.slice(1));
    const stale = await writeAnalysis(join(dir, 'analysis'), fewer, ROWS, { idField: 'uid' });
    await expectFailure({ attributions: stale, data: fewer }, /1 attributed sample id\(s\) are not in .*"a"/);
  });

  it('a region text that is not the data\'s (per-row check)', async () => {
    const dir = freshDir('text');
    const rows = [attributionRow('a', user(CORPUS[0]).replace('Rex', 'Max'), [{ text: 'Max' }]), ...ROWS.slice(1)];
    const stale = await writeAnalysis(join(dir, 'analysis'), dataPath, rows, { idField: 'uid' });
    await expectFailure({ attributions: stale }, /sample "a", region "instruction": the analysed text is not the data's \(they differ at character 51/);
  });

  it('the data read with other field options than the analysis', async () => {
    await expectFailure({ idField: 'topic' }, /attributed sample id|duplicate id/);
  });

  it('an attributions file changed after the analysis wrote it', async () => {
    const dir = freshDir('edited');
    const edited = await writeAnalysis(join(dir, 'analysis'), dataPath, ROWS, { idField: 'uid' });
    writeFileSync(join(edited, 'attributions.arrow'), readFileSync(join(analysis, 'attributions.arrow')).subarray(0, 100));
    await expectFailure({ attributions: edited }, /attributions\.arrow \(sha256 .*\) is not the file the analysis wrote/);
  });

  it('flagged spans outside the region text', async () => {
    const dir = freshDir('spans');
    const bad = { ...ROWS[1], spans: [{ start: 10, end: 500 }] };
    const broken = await writeAnalysis(join(dir, 'analysis'), dataPath, [ROWS[0], bad], { idField: 'uid' });
    await expectFailure({ attributions: broken }, /sample "b", region "instruction": flagged span \[10, 500\) is not inside the region text/);
  });

  it('no manifest', async () => {
    await expectFailure({ attributions: freshDir('nothing') }, /manifest\.json does not exist: --attributions must be a leaf analyze output directory/);
  });

  it('options that would do nothing', async () => {
    await expectFailure({ teacher: 'x' }, /--teacher only applies with --verify/);
    await expectFailure({ verify: true }, /--verify needs --teacher and --student/);
  });
});

describe('leaf prune CLI', () => {
  it('prints the summary table and writes the output', () => {
    const out = join(freshDir('cli'), 'pruned.arrow');
    const stdout = execFileSync('node', ['bin/leaf.js', 'prune', '--attributions', analysis, '--data', dataPath, '--out', out, '--mode', 'collective'], { encoding: 'utf8' });
    expect(stdout).toMatch(/counterfactuals\s+3 written of 3 built \(collective mode/);
    expect(stdout).toMatch(/samples\s+5 \(analysed 4, with counterfactuals 3\)/);
    expect(stdout).toMatch(/chars removed\s+mean /);
    expect(existsSync(out)).toBe(true);
    expect(existsSync(join(out, '..', 'summary.json'))).toBe(true);
  });
});
