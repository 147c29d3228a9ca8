import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import type { AttributionRow } from '../lib/corpus/types.ts';
import { buildReport } from '../lib/report/index.ts';
import { CLIENT_FILES, clientPath } from '../lib/report/assets.ts';
import { narrowInts, packPayload, unpackPayload } from '../lib/report/container.ts';
import { buildPayload, EXPLICIT } from '../lib/report/payload.ts';
import { counterfactualsByRow, pruneStats } from '../lib/report/pruning.ts';
import { reinsertSpans } from '../lib/pruning/removal.ts';
import { decodeRow, encodeRow, QUANT_ERROR } from '../lib/report/quantize.ts';
import { readRun } from '../lib/report/runs.ts';
import { corpusStats, histogram } from '../lib/report/stats.ts';
import type { ReportPrunedRow } from '../lib/report/types.ts';
import { validateAttributionRow } from '../lib/report/validate.ts';

/** A row built by hand: tokens "Tom", " has", " 3", " red", " apples", "." of "Tom has 3 red apples." */
function handRow(overrides: Partial<AttributionRow> = {}): AttributionRow {
  const tokens = ['Tom', ' has', ' 3', ' red', ' apples', '.'];
  const start = [0, 3, 7, 9, 13, 20];
  const end = [3, 7, 9, 13, 20, 21];
  const teacherRaw = [0.5, 0.1, 0.9, 0.1, 0.3, 0.1];
  const studentRaw = [2, 1, 2, 5, 5, 1];
  // min-max by hand: teacher (x - 0.1) / 0.8, student (x - 1) / 4
  const teacherNorm = [0.5, 0, 1, 0, 0.25, 0];
  const studentNorm = [0.25, 0, 0.25, 1, 1, 0];
  return {
    id: 'hand',
    region: 'instruction',
    text: 'Tom has 3 red apples.',
    tokens,
    char_start: start,
    char_end: end,
    teacher_score: teacherRaw,
    student_score: studentRaw,
    teacher_norm: teacherNorm,
    student_norm: studentNorm,
    delta: teacherNorm.map((t, i) => t - studentNorm[i]),
    flagged: [false, false, false, true, true, false],
    spans: [{ start: 9, end: 20 }],
    teacher_loss: 0.5,
    student_loss: 1.25,
    threshold: -0.75,
    ...overrides,
  };
}

const temp = mkdtempSync(join(tmpdir(), 'leaf-report-test-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

describe('score encoding', () => {
  it('stores raw scores as an affine map of the normalised ones when they are min-max related', () => {
    const row = handRow();
    const encoding = encodeRow(row.teacher_score, row.teacher_norm, QUANT_ERROR);
    expect(encoding.derived).toBe(true);
    expect(encoding.a).toBeCloseTo(0.1, 6);
    expect(encoding.b).toBeCloseTo(0.8, 6);
    decodeRow(encoding, row.teacher_norm).forEach((v, i) => expect(v).toBeCloseTo(row.teacher_score[i], 6));
  });

  it('falls back to per-token values within half a step of the row range when no affine map fits', () => {
    const values = [3, -1, 7, 0.5, 2];
    const reference = [0, 0.5, 1, 0.25, 0.75];
    const encoding = encodeRow(values, reference, QUANT_ERROR);
    expect(encoding.derived).toBe(false);
    const range = 8;
    decodeRow(encoding, reference).forEach((v, i) => expect(Math.abs(v - values[i])).toBeLessThanOrEqual((range * 0.5) / 1000 + 1e-6));
  });

  it('round-trips the header and typed columns through the gzip container', () => {
    const columns = { a: new Uint16Array([1, 2, 65535]), b: new Float32Array([0.5, -2]), c: new Uint8Array([7]), d: new Int32Array([-5]) };
    const { header, columns: back } = unpackPayload(packPayload({ title: 'x<y' }, columns));
    expect(header.title).toBe('x<y');
    expect(Array.from(back.a)).toEqual([1, 2, 65535]);
    expect(Array.from(back.b)).toEqual([0.5, -2]);
    expect(Array.from(back.c)).toEqual([7]);
    expect(Array.from(back.d)).toEqual([-5]);
  });

  it('encodes a corpus into columns the page can decode to the input values', () => {
    const rows = [handRow(), handRow({ id: 'second', delta: [0.9, 0.1, 0.5, 0, 0.2, 0.3] })];
    const { header, columns } = buildPayload({ attributions: rows });
    expect(Array.from(columns.tokenOffset as Uint32Array)).toEqual([0, 6, 12]);
    // Tokens abut, so every gap is 0 and the lengths are end - start.
    expect(Array.from(columns.charGap as Int32Array).slice(0, 6)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(Array.from(columns.charLen as Uint32Array).slice(0, 6)).toEqual([3, 4, 2, 4, 7, 1]);
    expect(Array.from(columns.teacherNorm as Uint16Array).slice(0, 6)).toEqual([500, 0, 1000, 0, 250, 0]);
    expect(Array.from(columns.flagged as Uint8Array).slice(0, 6)).toEqual([0, 0, 0, 1, 1, 0]);
    // Row 0: Δ = teacher_norm - student_norm exactly, so nothing per token; row 1's Δ is unrelated, so stored.
    expect((columns.rowMode as Uint8Array)[0] & EXPLICIT.delta).toBe(0);
    expect((columns.rowMode as Uint8Array)[1] & EXPLICIT.delta).toBe(EXPLICIT.delta);
    expect(Array.from((columns.affine as Float32Array).slice(4, 6))).toEqual([0, 1]);
    // Only row 1's Δ is stored per token, quantised over its own range [0, 0.9]: round(v / 0.9 · 1000).
    expect(Array.from(columns.delta as Uint16Array)).toEqual([1000, 111, 556, 0, 222, 333]);
    expect((columns.teacherRaw as Uint16Array).length).toBe(0);
    expect(header.samples).toMatchObject({ count: 2, id: ['hand', 'second'] });
  });

  it('stores small integers in the narrowest array that holds them', () => {
    expect(narrowInts([0, 255])).toBeInstanceOf(Uint8Array);
    expect(narrowInts([0, 256])).toBeInstanceOf(Uint16Array);
    expect(narrowInts([-128, 127])).toBeInstanceOf(Int8Array);
    expect(narrowInts([-129, 0])).toBeInstanceOf(Int16Array);
    expect(narrowInts([70000])).toBeInstanceOf(Uint32Array);
    expect(Array.from(narrowInts([-40000, 5]))).toEqual([-40000, 5]);
  });

  it('summarises the analyze manifest: counts, skip reasons grouped, other fields flattened', () => {
    const manifest = {
      step: 'analyze',
      method: 'grad-l2',
      rule: { name: 'percentile', p: 0.05 },
      command: ['analyze', '--data', 'x.jsonl'],
      counts: { done: 1, selected: 1, skipped: [{ index: 3, reason: 'empty text' }, { id: 'a', reason: 'NaN score' }, { index: 9, reason: 'empty text' }] },
    };
    const { header } = buildPayload({ attributions: [handRow()], manifest });
    expect(header.manifest).toEqual({
      counts: [['done', 1], ['selected', 1], ['skipped', 3]],
      skipReasons: [
        { reason: 'empty text', count: 2, examples: ['#3', '#9'] },
        { reason: 'NaN score', count: 1, examples: ['a'] },
      ],
      details: [['step', 'analyze'], ['method', 'grad-l2'], ['rule.name', 'percentile'], ['rule.p', '0.05'], ['command', 'analyze --data x.jsonl']],
    });
  });

  it('keeps decoded token strings only where they differ from the text slice', () => {
    const row = handRow({ tokens: ['Tom', 'Ġhas', ' 3', ' red', ' apples', '.'] });
    const { header, columns } = buildPayload({ attributions: [row] });
    expect(Array.from(columns.tokenOverrideIndex as Uint32Array)).toEqual([1]);
    expect(header.tokenOverrideText).toEqual(['Ġhas']);
  });
});

describe('validation', () => {
  it.each([
    [{ teacher_norm: [0.5, 0, 1.5, 0, 0.25, 0] }, /row 0 \(id "hand"\): field teacher_norm\[2\] = 1.5 is outside \[0, 1\]/],
    [{ delta: [0, 0, 0] }, /field delta has 3 entries but tokens has 6/],
    [{ char_end: [3, 7, 9, 13, 20, 22] }, /token 5 has character span \[20, 22\) outside the text \(length 21\)/],
    [{ student_score: [1, 1, NaN, 1, 1, 1] }, /field student_score\[2\] is NaN/],
    [{ spans: [{ start: 4, end: 30 }] }, /spans\[0\] = \[4, 30\) is outside the text/],
  ])('rejects a malformed row naming the record and field (%#)', (overrides, message) => {
    expect(() => validateAttributionRow(handRow(overrides as Partial<AttributionRow>), 0)).toThrow(message);
  });

  it('buildReport refuses rows that fail validation', () => {
    expect(() => buildReport({ attributions: [handRow(), handRow({ id: 'bad', flagged: [true] })] })).toThrow(/row 1 \(id "bad"\): field flagged has 1 entries/);
  });
});

describe('corpus statistics', () => {
  const a = handRow();
  // Second row: "red apples and red apples" with both "red apples" flagged as separate spans.
  const b = handRow({
    id: 'b',
    text: 'red apples and red apples',
    tokens: ['red', ' apples', ' and', ' red', ' apples'],
    char_start: [0, 3, 10, 14, 18],
    char_end: [3, 10, 14, 18, 25],
    teacher_score: [1, 2, 3, 4, 5],
    student_score: [1, 2, 3, 4, 5],
    teacher_norm: [0, 0.25, 0.5, 0.75, 1],
    student_norm: [0, 0.25, 0.5, 0.75, 1],
    delta: [-1, -0.5, 0, 0.5, 1],
    flagged: [true, true, false, true, true],
    spans: [
      { start: 0, end: 10 },
      { start: 14, end: 25 },
    ],
  });
  const stats = corpusStats([a, b]);

  it('counts tokens, flags and spans', () => {
    expect(stats).toMatchObject({ rows: 2, tokens: 11, flaggedTokens: 6, spans: 3, rowsWithFlags: 2, deltaDomain: [-1, 1] });
  });

  it('ranks flagged tokens and in-span n-grams with the rows they occur in', () => {
    // "red" and "apples": flagged once in row 0 and twice in row 1.
    expect(stats.topTokens.slice(0, 2)).toEqual([
      { text: 'apples', n: 1, count: 3, rows: [0, 1] },
      { text: 'red', n: 1, count: 3, rows: [0, 1] },
    ]);
    expect(stats.topNgrams).toEqual([{ text: 'red apples', n: 2, count: 3, rows: [0, 1] }]);
  });

  it('bins span lengths and flagged fractions', () => {
    expect(stats.spanTokenCounts).toEqual([0, 3]);
    // fractions 2/6 and 4/5 -> bound 1, 20 bins of 0.05: bins 6 and 16
    const expected = new Array(20).fill(0);
    expected[6] = 1;
    expected[16] = 1;
    expect(stats.flaggedFractionHistogram).toEqual({ lo: 0, hi: 1, counts: expected });
  });

  it('puts out-of-range values into the edge bins and the maximum into the last bin', () => {
    expect(histogram([-5, 0, 0.49, 0.5, 1, 7], 0, 1, 2).counts).toEqual([3, 3]);
  });

  it('uses [0, 1] for Δ only when no Δ is negative (re-normalised)', () => {
    expect(corpusStats([handRow({ delta: [0, 0.1, 0.2, 0.3, 0.4, 1] })]).deltaDomain).toEqual([0, 1]);
  });
});

describe('pruning view', () => {
  const base = { instruction: 'Tom has 3 red apples.', input: '', output: 'He has 3.', answer: '3', mode: 'span' as const, level: 'instruction' as const, rule: 'percentile', threshold: 0.1, weight: 0.5 };
  const pruned: ReportPrunedRow[] = [
    { ...base, id: 'hand', source_id: 'hand', kind: 'original', removed_spans: [], removed_chars: 0, verified: null },
    { ...base, id: 'hand#1', source_id: 'hand', kind: 'counterfactual', instruction: 'Tom has 3 apples.', removed_spans: [{ start: 9, end: 13, text: ' red' }], removed_chars: 4, verified: true, teacher_answer: '3' },
    { ...base, id: 'hand#2', source_id: 'hand', kind: 'counterfactual', instruction: 'Tom has 3 red.', removed_spans: [{ start: 13, end: 20, text: ' apples' }], removed_chars: 7, verified: false, extra: { student_answer: '4' } },
    { ...base, id: 'other#1', source_id: 'other', kind: 'counterfactual', instruction: 'x', removed_spans: [{ start: 1, end: 3, text: 'yz' }], removed_chars: 2, verified: null },
  ];

  it('computes pass rate over verified counterfactuals and reads the flip rate from the summary', () => {
    expect(pruneStats(pruned, { verification: { flip_rate: 0.25 } })).toEqual({
      originals: 1,
      counterfactuals: 3,
      sources: 2,
      removedChars: { mean: 13 / 3, p50: 4, p95: 7 },
      verified: 2,
      passed: 1,
      passRate: 0.5,
      flipRate: 0.25,
      modes: ['span'],
    });
  });

  it('re-inserts removed spans into a counterfactual to recover the original', () => {
    expect(reinsertSpans('Tom 3 apples.', [{ start: 3, end: 7, text: ' has' }, { start: 9, end: 13, text: ' red' }])).toBe('Tom has 3 red apples.');
    expect(reinsertSpans('', [{ start: 0, end: 3, text: 'abc' }])).toBe('abc');
  });

  it('attaches counterfactuals to their attribution row with spans in the source text', () => {
    const byRow = counterfactualsByRow([handRow()], pruned);
    expect([...byRow.keys()]).toEqual([0]);
    const views = byRow.get(0)!;
    expect(views.map((v) => [v.id, v.text, v.spans, v.verified, v.teacherAnswer, v.studentAnswer])).toEqual([
      ['hand#1', null, [[9, 13]], true, '3', undefined],
      ['hand#2', null, [[13, 20]], false, undefined, '4'],
    ]);
  });

  it('rejects a removed span that lies outside its source text', () => {
    const bad = [{ ...pruned[1], removed_spans: [{ start: 15, end: 40, text: 'x' }] }, pruned[0]];
    expect(() => counterfactualsByRow([handRow()], bad)).toThrow(/pruned row id "hand#1": removed span \[15, 40\) lies outside its source text/);
  });
});

describe('distill runs', () => {
  it('reads metrics.jsonl, eval*.json and run.json', () => {
    const dir = join(temp, 'leaf-run');
    const lines = [
      { kind: 'train', step: 1, lr: 1e-5, loss: 2, loss_terms: { kd: 1.5, ce: 0.5 }, grad_norm: 3, tokens_per_s: 100 },
      { kind: 'validation', step: 1, val_loss: 2.5 },
      { kind: 'train', step: 2, loss: 1, loss_terms: { kd: 1 } },
      { kind: 'progress', step: 2 },
    ];
    mkdir(dir);
    writeFileSync(join(dir, 'metrics.jsonl'), `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
    writeFileSync(join(dir, 'eval-test.json'), JSON.stringify({ accuracy: 0.5, attention_mass: 0.12, n: 10 }));
    writeFileSync(join(dir, 'eval.json'), JSON.stringify({ data: '/x/control.jsonl', accuracy: null, attention_mass: null }));
    writeFileSync(join(dir, 'run.json'), JSON.stringify({ name: 'LeaF λ=0.5' }));
    const run = readRun(dir);
    expect(run.name).toBe('LeaF λ=0.5');
    expect(run.train).toEqual([
      { step: 1, loss: 2, lr: 1e-5, grad_norm: 3, tokens_per_s: 100, loss_terms: { kd: 1.5, ce: 0.5 } },
      { step: 2, loss: 1, loss_terms: { kd: 1 } },
    ]);
    expect(run.validation).toEqual([{ step: 1, val_loss: 2.5 }]);
    // Files in name order: "eval-test.json" sorts before "eval.json".
    expect(run.evals).toEqual([
      { split: 'test', accuracy: 0.5, attention_mass: 0.12, n: 10 },
      { split: 'control.jsonl', accuracy: null, attention_mass: null },
    ]);
  });

  it('names the file and line of a bad metrics record', () => {
    const dir = join(temp, 'bad-run');
    mkdir(dir);
    writeFileSync(join(dir, 'metrics.jsonl'), '{"step": 1, "loss": 1}\n{"step": 2, "loss": "x"}\n');
    expect(() => readRun(dir)).toThrow(/bad-run\/metrics.jsonl line 2: field loss must be a number, got "x"/);
    writeFileSync(join(dir, 'metrics.jsonl'), '{"step": 1, "loss": 1\n');
    expect(() => readRun(dir)).toThrow(/metrics.jsonl line 1: not valid JSON/);
    rmSync(join(dir, 'metrics.jsonl'));
    expect(() => readRun(dir)).toThrow(/no metrics.jsonl/);
  });
});

function mkdir(path: string) {
  rmSync(path, { recursive: true, force: true });
  mkdirSync(path, { recursive: true });
}

describe('client scripts', () => {
  // The page's JavaScript is outside the project's tsc run (it is not TypeScript); check it here
  // with the same strictness, as the concatenated global script it becomes.
  it('type-check with // @ts-check under strict settings', () => {
    const program = ts.createProgram(
      CLIENT_FILES.map(clientPath),
      { allowJs: true, checkJs: true, noEmit: true, strict: true, target: ts.ScriptTarget.ES2022, lib: ['lib.es2023.d.ts', 'lib.dom.d.ts', 'lib.dom.iterable.d.ts'], types: [] },
    );
    const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n') + (d.file ? ` (${d.file.fileName})` : ''));
    expect(diagnostics).toEqual([]);
  });
});
