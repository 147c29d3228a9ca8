import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  generateSplit,
  generateSynthCorpus,
  getFamily,
  listFamilies,
  listTemplates,
  listDistractorKinds,
  resolveSynthOptions,
  Rng,
  splitStats,
  writeSynthCorpus,
  type SynthSample,
} from '../lib/synth/index.ts';

// ---- Independent references: written from the task description, not from the generator ----

/**
 * Solves a distractor-free instruction; throws when the text is not exactly one known problem.
 * `family` is the surface form: kv-lookup and kv-ordered share one.
 */
function solve(instruction: string): { family: string; answer: number; keys?: string[] } {
  let m = /^((?:[a-h] = \d+ )+); what is ([a-h]) \?$/.exec(instruction);
  if (m) {
    const facts = [...m[1].matchAll(/([a-h]) = (\d+)/g)];
    const pairs = new Map(facts.map((p) => [p[1], Number(p[2])]));
    return { family: 'kv', answer: pairs.get(m[2])!, keys: facts.map((p) => p[1]) };
  }
  m = /^([a-h] is \d+(?: , [a-h] is \d+)*) \. then ([a-h]) is \?$/.exec(instruction);
  if (m) {
    const pairs = new Map(m[1].split(' , ').map((clause) => {
      const [key, , value] = clause.split(' ');
      return [key, Number(value)] as const;
    }));
    return { family: 'kv-sentence', answer: pairs.get(m[2])! };
  }
  m = /^list ((?:\d+ )+)\. which is (first|second|third|fourth|fifth|sixth) \?$/.exec(instruction);
  if (m) {
    const items = m[1].trim().split(' ').map(Number);
    const position = ['first', 'second', 'third', 'fourth', 'fifth', 'sixth'].indexOf(m[2]);
    if (position >= items.length) throw new Error(`ordinal beyond the list: ${instruction}`);
    return { family: 'list-index', answer: items[position] };
  }
  m = /^take (\d) and (\d) \. what is the sum \?$/.exec(instruction);
  if (m) return { family: 'add', answer: Number(m[1]) + Number(m[2]) };
  throw new Error(`not a distractor-free problem: "${instruction}"`);
}

/** What each distractor kind looks like and where it sits, per the task description. */
const KIND_SHAPES: Record<string, { pattern: RegExp; where: 'start' | 'before-question' | 'end' }> = {
  hint: { pattern: /^hint : (\d+) \.$/, where: 'before-question' },
  guess: { pattern: /^i guess (\d+) \.$/, where: 'before-question' },
  tag: { pattern: /^\[ (\d+) \]$/, where: 'start' },
  aside: { pattern: /^\( (\d+) \)$/, where: 'end' },
  preface: { pattern: /^i guess (\d+) ;$/, where: 'start' },
};
const DEFAULT_KINDS = ['hint', 'guess', 'tag', 'aside'];
const QUESTION = /^(what is [a-h] \?|then [a-h] is \?|which is \w+ \?|what is the sum \?)/;

/** Removes spans and collapses the whitespace left doubled at each seam, as the pruner does. */
/**
 * Each recorded span holds one distractor of a kind the sample names (in some order), showing the
 * sample's value, in its kind's place, without the separating spaces.
 */
function checkSpans(s: SynthSample): void {
  if (s.distractor_kind === 'none') {
    expect(s.split).not.toBe('test');
    expect(s.distractor_spans).toEqual([]);
    expect([s.distractor_text, s.distractor_value, s.distractor_kind]).toEqual(['', '', 'none']);
    return;
  }
  const kinds = s.distractor_kind.split('+');
  expect(s.distractor_spans).toHaveLength(kinds.length);
  expect(new Set(kinds).size).toBe(kinds.length);
  const texts = s.distractor_spans.map(({ start, end }) => s.instruction.slice(start, end));
  expect(texts.join(' | ')).toBe(s.distractor_text);
  const unmatched = new Set(kinds);
  for (const [k, { start, end }] of s.distractor_spans.entries()) {
    if (k > 0) expect(start).toBeGreaterThan(s.distractor_spans[k - 1].end);
    const kind = [...unmatched].find((name) => KIND_SHAPES[name].pattern.test(texts[k]));
    expect(kind, `${s.id}: "${texts[k]}" is none of ${[...unmatched].join(', ')}`).toBeDefined();
    unmatched.delete(kind!);
    const shape = KIND_SHAPES[kind!];
    expect(shape.pattern.exec(texts[k])![1]).toBe(s.distractor_value);
    // Spans never swallow the separating spaces: the pruner must keep the text around them.
    expect(s.instruction[start - 1] ?? ' ').toBe(' ');
    expect(s.instruction[end] ?? ' ').toBe(' ');
    // Several distractors may share a place: what follows a span is then another distractor.
    const after = s.instruction.slice(end + 1);
    const nextIsDistractor = s.distractor_spans[k + 1]?.start === end + 1;
    if (shape.where === 'start' && k === 0) expect(start).toBe(0);
    if (shape.where === 'end' && k === kinds.length - 1) expect(end).toBe(s.instruction.length);
    if (shape.where === 'before-question' && !nextIsDistractor) expect(after).toMatch(QUESTION);
  }
}

const matchRate = (samples: SynthSample[]) => samples.filter((s) => s.distractor_value === s.answer).length / samples.length;

function removeSpans(text: string, spans: { start: number; end: number }[]): string {
  let out = text;
  for (const { start, end } of [...spans].sort((a, b) => b.start - a.start)) {
    const left = out.slice(0, start).replace(/ +$/, '');
    const right = out.slice(end).replace(/^ +/, '');
    out = left && right ? `${left} ${right}` : left + right;
  }
  return out;
}

const ALL_TEMPLATES = ['kv-lookup', 'kv-ordered', 'kv-sentence', 'list-index', 'add'];
const FAMILY: Record<string, string> = { 'kv-lookup': 'kv', 'kv-ordered': 'kv', 'kv-sentence': 'kv-sentence', 'list-index': 'list-index', add: 'add' };
const SIZES = { 'train-student': 3000, 'train-teacher': 3000, 'train-distill': 3000, test: 600, clean: 600 };
const corpus = generateSynthCorpus({ seed: 7, sizes: SIZES, templates: ALL_TEMPLATES });
const everySample: SynthSample[] = Object.values(corpus).flat();

describe('synthetic corpus: ground truth', () => {
  it('uses every template and distractor kind it was given', () => {
    expect(new Set(everySample.map((s) => s.template))).toEqual(new Set(ALL_TEMPLATES));
    expect(new Set(corpus.test.map((s) => s.distractor_kind))).toEqual(new Set(DEFAULT_KINDS));
    expect(listTemplates().map((t) => t.name).sort()).toEqual([...ALL_TEMPLATES].sort());
    expect(listDistractorKinds().map((k) => k.name).sort()).toEqual(Object.keys(KIND_SHAPES).sort());
  });

  it('records spans that lie exactly on the distractor text, in its place', () => {
    for (const s of everySample) {
      expect(s.distractor_spans).toHaveLength(s.distractor_kind === 'none' ? 0 : 1);
      checkSpans(s);
    }
  });

  it('keeps the answer when the distractor is removed (independent solver on the pruned text)', () => {
    for (const s of everySample) {
      const pruned = removeSpans(s.instruction, s.distractor_spans);
      const solved = solve(pruned);
      expect(solved.family, s.id).toBe(FAMILY[s.template]);
      if (s.template === 'kv-ordered') expect(solved.keys!.join('')).toBe('abcdefgh'.slice(0, solved.keys!.length));
      expect(String(solved.answer), `${s.id}: ${pruned}`).toBe(s.answer);
      expect(s.output).toBe(s.answer);
    }
  });

  it('shows distractor values a template could give as answers (sums of two digits stay <= 18)', () => {
    for (const s of everySample.filter((x) => x.distractor_value !== '')) {
      expect(Number(s.distractor_value), s.id).toBeLessThanOrEqual(s.template === 'add' ? 18 : 99);
    }
    expect(everySample.some((s) => s.template !== 'add' && Number(s.distractor_value) > 18)).toBe(true);
  });

  it('keeps sequences short: at most 30 whitespace-separated words per instruction', () => {
    const longest = Math.max(...everySample.map((s) => s.instruction.split(' ').length));
    expect(longest).toBeLessThanOrEqual(30);
  });
});

describe('synthetic corpus: planted correlation per split (measured)', () => {
  // Binomial standard deviation at n = 3000 and p = 0.9 is 0.0055; 4 sd.
  const TOLERANCE = 0.022;

  it('train-student: the distractor shows the answer at the shortcut rate, else a wrong value', () => {
    expect(corpus['train-student'].every((s) => s.distractor_spans.length === 1)).toBe(true);
    expect(Math.abs(matchRate(corpus['train-student']) - 0.9)).toBeLessThan(TOLERANCE);
  });

  it('train-distill: correlated like the student data, with its own rate when given', () => {
    expect(Math.abs(matchRate(corpus['train-distill']) - 0.9)).toBeLessThan(TOLERANCE);
    const own = generateSplit('train-distill', { seed: 7, sizes: { 'train-distill': 3000 }, distillShortcutRate: 0.6 });
    expect(Math.abs(matchRate(own) - 0.6)).toBeLessThan(0.036);
  });

  it('train-teacher: the distractor is independent of the answer, and 20 % of samples have none', () => {
    const teacher = corpus['train-teacher'].filter((s) => s.distractor_spans.length === 1);
    // Binomial sd at n = 3000, p = 0.2: 0.0073.
    expect(Math.abs(teacher.length / corpus['train-teacher'].length - 0.8)).toBeLessThan(0.03);
    // Chance agreement for uniform values over 0..99 is 1 %.
    expect(matchRate(teacher)).toBeLessThan(0.025);
    // Independence: |distractor - answer| of independent uniforms has mean (n^2 - 1) / (3n) = 33.3 over 0..99;
    // a distractor tied to the answer would pull it towards 0.
    const gaps = teacher.filter((s) => s.template !== 'add').map((s) => Math.abs(Number(s.distractor_value) - Number(s.answer)));
    const meanGap = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    expect(Math.abs(meanGap - 33.33)).toBeLessThan(2);
  });

  it('takes a clean fraction for any training split, keeping the correlation among the others', () => {
    const student = generateSplit('train-student', { seed: 5, sizes: { 'train-student': 3000 }, cleanRates: { 'train-student': 0.5 } });
    const planted = student.filter((s) => s.distractor_spans.length === 1);
    expect(Math.abs(planted.length / student.length - 0.5)).toBeLessThan(0.04);
    expect(Math.abs(matchRate(planted) - 0.9)).toBeLessThan(0.03);
    const noClean = generateSplit('train-teacher', { sizes: { 'train-teacher': 200 }, cleanRates: { 'train-teacher': 0 } });
    expect(noClean.every((s) => s.distractor_spans.length === 1)).toBe(true);
  });

  it('test: the shortcut is always broken; clean: no distractor at all', () => {
    expect(corpus.test.every((s) => s.distractor_spans.length === 1 && s.distractor_value !== s.answer)).toBe(true);
    expect(corpus.clean.every((s) => s.distractor_spans.length === 0)).toBe(true);
  });

  it('shortcut rate 1 and 0 are exact', () => {
    expect(matchRate(generateSplit('train-student', { sizes: { 'train-student': 500 }, shortcutRate: 1 }))).toBe(1);
    expect(matchRate(generateSplit('train-student', { sizes: { 'train-student': 500 }, shortcutRate: 0 }))).toBe(0);
  });

  it('splitStats counts match a hand count', () => {
    const mk = (answer: string, value: string, kind: string, template: string) =>
      ({ answer, distractor_value: value, distractor_kind: kind, template, distractor_spans: value ? [{ start: 0, end: 1 }] : [] }) as unknown as SynthSample;
    const stats = splitStats([mk('1', '1', 'hint', 'add'), mk('2', '3', 'tag', 'add'), mk('4', '', 'none', 'kv-lookup'), mk('5', '5', 'hint', 'add')]);
    expect(stats).toEqual({
      count: 4,
      distractorRate: 0.75,
      shortcutMatchRate: 2 / 3,
      templates: { add: 3, 'kv-lookup': 1 },
      distractorKinds: { hint: 2, tag: 1, none: 1 },
    });
  });
});

describe('synthetic corpus: determinism', () => {
  it('is a function of the seed', () => {
    const again = generateSynthCorpus({ seed: 7, sizes: SIZES, templates: ALL_TEMPLATES });
    expect(again).toEqual(corpus);
    const other = generateSplit('test', { seed: 8, sizes: { test: 600 }, templates: ALL_TEMPLATES });
    expect(other.map((s) => s.instruction)).not.toEqual(corpus.test.map((s) => s.instruction));
  });

  it('gives a split the same samples whatever the other splits\' sizes, and a longer split extends a shorter one', () => {
    const small = generateSynthCorpus({ seed: 7, sizes: { 'train-student': 10, test: 50 }, templates: ALL_TEMPLATES });
    expect(small.test).toEqual(corpus.test.slice(0, 50));
    expect(small['train-student']).toEqual(corpus['train-student'].slice(0, 10));
  });

  it('has unique ids', () => {
    expect(new Set(everySample.map((s) => s.id)).size).toBe(everySample.length);
  });
});

describe('Rng', () => {
  /** mulberry32 as published by its author (Tommy Ettinger), in its original form. */
  function referenceMulberry32(a: number) {
    return function () {
      let t = (a += 0x6d2b79f5);
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  it('produces the reference mulberry32 stream', () => {
    for (const seed of [0, 1, 123456789, 0xffffffff]) {
      const ours = new Rng(seed);
      const ref = referenceMulberry32(seed | 0);
      for (let i = 0; i < 1000; i++) expect(ours.next()).toBe(ref());
    }
  });

  it('draws integers uniformly over the inclusive range', () => {
    const rng = new Rng(3);
    const counts = new Array(10).fill(0);
    for (let i = 0; i < 50_000; i++) counts[rng.int(0, 9)]++;
    for (const c of counts) expect(Math.abs(c - 5000)).toBeLessThan(300);
  });

  it('samples distinct items', () => {
    const rng = new Rng(4);
    for (let i = 0; i < 200; i++) expect(new Set(rng.sample([1, 2, 3, 4, 5, 6], 4)).size).toBe(4);
    expect(() => rng.sample([1, 2], 3)).toThrow(/cannot draw 3/);
  });
});

describe('options', () => {
  it('rejects what the generator cannot honour, naming the field', () => {
    expect(() => resolveSynthOptions({ templates: ['nope'] })).toThrow(/unknown synth template "nope"/);
    expect(() => resolveSynthOptions({ distractorKinds: ['nope'] })).toThrow(/unknown distractor kind "nope"/);
    expect(() => resolveSynthOptions({ shortcutRate: 1.5 })).toThrow(/shortcutRate must be in \[0, 1\]/);
    expect(() => resolveSynthOptions({ items: { min: 3, max: 7 }, templates: ['list-index'] })).toThrow(/items.max must be <= 6 for template "list-index"/);
    expect(() => resolveSynthOptions({ maxValue: 5 })).toThrow(/maxValue must be an integer >= 9/);
    expect(() => resolveSynthOptions({ sizes: { test: -1 } })).toThrow(/sizes.test must be a non-negative integer/);
    expect(() => resolveSynthOptions({ sizes: { tset: 3 } as never })).toThrow(/unknown split "tset"/);
    expect(() => resolveSynthOptions({ cleanRates: { test: 0.5 } as never })).toThrow(/cleanRates has "test"/);
    expect(() => resolveSynthOptions({ cleanRates: { 'train-teacher': -0.1 } })).toThrow(/cleanRates.train-teacher must be in \[0, 1\]/);
  });
});

describe('writeSynthCorpus', () => {
  it('writes one JSONL per split and a manifest with the measured rates', () => {
    const dir = mkdtempSync(join(tmpdir(), 'leaf-synth-'));
    try {
      const sizes = { 'train-student': 40, 'train-teacher': 30, 'train-distill': 20, test: 10, clean: 5 };
      const manifest = writeSynthCorpus(dir, { seed: 1, sizes });
      const expected = generateSynthCorpus({ seed: 1, sizes });
      for (const [split, samples] of Object.entries(expected)) {
        const lines = readFileSync(join(dir, `${split}.jsonl`), 'utf8').trimEnd().split('\n');
        expect(lines.map((line) => JSON.parse(line))).toEqual(samples);
      }
      const onDisk = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
      expect(onDisk).toEqual(JSON.parse(JSON.stringify(manifest)));
      expect(onDisk.splits.test.count).toBe(10);
      expect(onDisk.splits.test.shortcutMatchRate).toBe(0);
      expect(onDisk.splits.clean.distractorRate).toBe(0);
      expect(onDisk.options.shortcutRate).toBe(0.9);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('task families', () => {
  const sizes = { 'train-student': 1500, 'train-teacher': 1500, 'train-distill': 1500, test: 500, clean: 300 };
  const byFamily = Object.fromEntries(listFamilies().map((f) => [f.name, Object.values(generateSynthCorpus({ ...f.options, sizes })).flat()]));

  it('registers the shipped task and at least two families with other distractor forms', () => {
    expect(listFamilies().map((f) => f.name)).toEqual(expect.arrayContaining(['shipped', 'far', 'multi']));
    // The shipped family is the demo's task: its corpus is the one in data/synth.
    const shipped = generateSplit('train-distill', getFamily('shipped').options);
    expect(shipped.map((s) => JSON.stringify(s) + '\n').join('')).toBe(readFileSync('data/synth/train-distill.jsonl', 'utf8'));
  });

  it('far: one distractor opening a long instruction, every fact (>= 7 words) between it and the question', () => {
    const samples = byFamily.far.filter((s) => s.distractor_spans.length > 0);
    for (const s of samples) {
      checkSpans(s);
      expect(s.distractor_spans).toHaveLength(1);
      expect(s.distractor_spans[0].start).toBe(0);
      const question = s.instruction.search(/(what is [a-h]|which is \w+) \?$/);
      expect(s.instruction.slice(s.distractor_spans[0].end, question).trim().split(' ').length, s.id).toBeGreaterThanOrEqual(7);
    }
    expect(new Set(samples.map((s) => s.distractor_kind))).toEqual(new Set(['tag', 'preface']));
  });

  it('multi: two or three distractors of different kinds per sample, all showing one value', () => {
    const samples = byFamily.multi.filter((s) => s.distractor_spans.length > 0);
    for (const s of samples) {
      checkSpans(s);
      expect(s.distractor_spans.length).toBeGreaterThanOrEqual(2);
      expect(s.distractor_spans.length).toBeLessThanOrEqual(3);
    }
    expect(new Set(samples.map((s) => s.distractor_spans.length))).toEqual(new Set([2, 3]));
  });

  it('keeps the answer with every distractor removed (independent solver), and the planted correlation', () => {
    for (const [name, samples] of Object.entries(byFamily)) {
      for (const s of samples) {
        const solved = solve(removeSpans(s.instruction, s.distractor_spans));
        expect(String(solved.answer), `${name} ${s.id}`).toBe(s.answer);
      }
      expect(matchRate(samples.filter((s) => s.split === 'test'))).toBe(0);
      expect(matchRate(samples.filter((s) => s.split === 'train-student'))).toBeCloseTo(0.9, 1);
    }
  });

  it('is deterministic per family and seed', () => {
    for (const family of listFamilies()) {
      const again = generateSplit('test', { ...family.options, sizes });
      expect(again).toEqual(byFamily[family.name].filter((s) => s.split === 'test'));
    }
    expect(generateSplit('test', { ...getFamily('multi').options, seed: 2, sizes })).not.toEqual(byFamily.multi.filter((s) => s.split === 'test'));
  });

  it('rejects more distractors per sample than distinct kinds', () => {
    expect(() => resolveSynthOptions({ distractorKinds: ['hint', 'tag'], distractorsPerSample: { min: 2, max: 3 } })).toThrow(/distractorsPerSample.max/);
  });
});
