import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeDefaults, runAnalyze, type AnalyzeOptions } from '../lib/analyze/index.ts';
import { getAttributionMethod } from '../lib/attribution/index.ts';
import { phrases } from '../lib/confounders/index.ts';
import { readAttributions } from '../lib/corpus/index.ts';
import type { AttributionRow } from '../lib/corpus/types.ts';
import { auroc, plantedPairs, plantedTokenLabels, reflag, SHIPPED, spanOnPlanted, spansByDelta } from '../lib/demo/index.ts';
import type { SynthSample } from '../lib/synth/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'leaf-contrastive-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('phrases', () => {
  it('cuts clauses at . ; ? ! , and bracketed groups, leaving out one-word and whole-text units', () => {
    const text = 'list 4 9 7 . hint : 8 . which is third ? ( 8 )';
    expect(phrases(text).map((s) => text.slice(s.start, s.end))).toEqual(['list 4 9 7 .', 'hint : 8 .', 'which is third ?', '( 8 )']);
    const tagged = '[ 6 ] a = 1 b = 2 ; what is b ?';
    expect(phrases(tagged).map((s) => tagged.slice(s.start, s.end))).toEqual(['[ 6 ]', 'a = 1 b = 2 ;', 'what is b ?']);
    expect(phrases('no punctuation here')).toEqual([]);
    expect(phrases('one two .')).toEqual([]);
    expect(phrases('one . two').map((s) => 'one . two'.slice(s.start, s.end))).toEqual(['one .']);
  });
});

describe('contrastive detector on the shipped planted-confounder task', () => {
  // The first 40 shipped train-distill samples; ground truth = the planted distractor spans.
  const samples = readFileSync(join(SHIPPED.corpus, 'train-distill.jsonl'), 'utf8').split('\n').filter(Boolean).slice(0, 40).map((l) => JSON.parse(l) as SynthSample);
  const data = join(dir, 'data.jsonl');
  writeFileSync(data, samples.map((s) => JSON.stringify(s)).join('\n') + '\n');

  async function quality(method: string) {
    const out = join(dir, method);
    await runAnalyze({ ...analyzeDefaults, teacher: SHIPPED.teacher, student: SHIPPED.student, data, out, idField: 'id', method, progress: false, batchSize: 16 });
    const pairs = plantedPairs(await readAttributions(join(out, 'attributions.arrow')), samples);
    const scores = pairs.flatMap(({ row }) => row.delta.map((d) => -d));
    const labels = pairs.flatMap(({ row, sample }) => plantedTokenLabels(row, sample.distractor_spans));
    const top = pairs.filter(({ row, sample }) => {
      const best = spansByDelta(row)[0];
      return best !== undefined && spanOnPlanted(row.text, best.span, sample.distractor_spans);
    }).length;
    return { auroc: auroc(scores, labels)!, top: top / pairs.length };
  }

  it('is the default of leaf analyze and compares raw loss changes', () => {
    expect(analyzeDefaults.method).toBe('contrastive');
    expect(getAttributionMethod('contrastive').comparison).toBe('raw');
  });

  it('ranks the planted distractor above the rest and puts its top span on it, where grad-l2 does not', async () => {
    const contrastive = await quality('contrastive');
    const paper = await quality('grad-l2');
    expect(contrastive.auroc).toBeGreaterThan(0.9);
    expect(contrastive.top).toBeGreaterThanOrEqual(0.95);
    expect(paper.auroc).toBeLessThan(contrastive.auroc - 0.1);
  }, 120_000);
});

describe('contrastive detector on the multi family (several copies of the distractor per sample)', () => {
  // The student reads pairs of copies: removing any one copy changes nothing, so without the joint
  // removal of a repeated word's copies (all but one, each kept in turn) the token AUROC is ≈ 0.71 here.
  const root = join('data', 'families', 'multi');
  const samples = readFileSync(join(root, 'synth', 'train-distill.jsonl'), 'utf8').split('\n').filter(Boolean).slice(0, 40).map((l) => JSON.parse(l) as SynthSample);
  const data = join(dir, 'multi.jsonl');
  writeFileSync(data, samples.map((s) => JSON.stringify(s)).join('\n') + '\n');

  it('ranks every planted copy above the rest', async () => {
    const out = join(dir, 'multi');
    await runAnalyze({ ...analyzeDefaults, teacher: join(root, 'models', 'teacher'), student: join(root, 'models', 'student'), data, out, idField: 'id', progress: false, batchSize: 16 });
    const pairs = plantedPairs(await readAttributions(join(out, 'attributions.arrow')), samples);
    const scores = pairs.flatMap(({ row }) => row.delta.map((d) => -d));
    const labels = pairs.flatMap(({ row, sample }) => plantedTokenLabels(row, sample.distractor_spans));
    expect(auroc(scores, labels)!).toBeGreaterThan(0.8);
  }, 120_000);
});

describe('flagged spans follow the units the detector measured', () => {
  // Shipped samples whose flagged distractor touches a flagged neighbouring clause under the demo's
  // rule ("[ 1 ]" / "i guess 1 ." next to a fact clause sharing its value): with plain maximal runs
  // their top span is "[ 1 ] take 1 and 0 .", a miss that also removes a fact.
  const all = readFileSync(join(SHIPPED.corpus, 'train-distill.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as SynthSample);
  const samples = [17, 23, 30, 162, 0, 1, 2, 3].map((i) => all[i]);
  const data = join(dir, 'touching.jsonl');
  writeFileSync(data, samples.map((s) => JSON.stringify(s)).join('\n') + '\n');
  const rule = 'absolute:tau=0.1';
  const analyse = async (name: string, options: Pick<AnalyzeOptions, 'method' | 'rule'> & Partial<AnalyzeOptions>) => {
    const out = join(dir, name);
    const { manifest } = await runAnalyze({ ...analyzeDefaults, teacher: SHIPPED.teacher, student: SHIPPED.student, data, out, idField: 'id', progress: false, batchSize: 16, ...options });
    return { spanCut: manifest.options.spanCut, pairs: plantedPairs(await readAttributions(join(out, 'attributions.arrow')), samples) };
  };
  /** The span's text without its edge whitespace crosses the edge of one of the region's phrases. */
  const crossesPhrase = (text: string, span: { start: number; end: number }) => {
    const slice = text.slice(span.start, span.end);
    const start = span.start + (slice.length - slice.trimStart().length);
    const end = span.end - (slice.length - slice.trimEnd().length);
    return phrases(text).some((p) => [p.start, p.end].some((edge) => start < edge && edge < end));
  };
  const onDistractor = ({ row, sample }: { row: AttributionRow; sample: SynthSample }) => {
    const top = spansByDelta(row)[0];
    return top !== undefined && spanOnPlanted(row.text, top.span, sample.distractor_spans);
  };

  it('contrastive cuts its spans at phrase edges by default, so the top span is the distractor alone', async () => {
    const cut = await analyse('touching-contrastive', { method: 'contrastive', rule });
    const plain = await analyse('touching-contrastive-none', { method: 'contrastive', rule, spanCut: 'none' });
    expect(cut.spanCut).toBe('phrase');
    expect(plain.spanCut).toBe('none');
    expect(plain.pairs.slice(0, 4).filter(onDistractor)).toHaveLength(0);
    expect(plain.pairs.some(({ row }) => row.spans.some((span) => crossesPhrase(row.text, span)))).toBe(true);
    expect(cut.pairs.every(({ row }) => row.spans.every((span) => !crossesPhrase(row.text, span)))).toBe(true);
    expect(cut.pairs.every(onDistractor)).toBe(true);
    // Same Δ and flags: only where the runs are cut differs.
    cut.pairs.forEach(({ row }, i) => {
      expect(row.delta).toEqual(plain.pairs[i].row.delta);
      expect(row.flagged).toEqual(plain.pairs[i].row.flagged);
    });
  }, 120_000);

  it('grad-l2 keeps plain maximal runs, across phrase edges too (the paper\'s pipeline and under the same rule)', async () => {
    for (const [name, rule] of [['paper', 'percentile:p=0.05,cap=0.5'], ['absolute', 'absolute:tau=0.1']]) {
      const run = await analyse(`touching-grad-l2-${name}`, { method: 'grad-l2', rule });
      expect(run.spanCut).toBe('none');
      for (const { row } of run.pairs) expect(row.spans).toEqual(reflag(row, rule).spans);
      if (name === 'absolute') expect(run.pairs.some(({ row }) => row.spans.some((span) => crossesPhrase(row.text, span)))).toBe(true);
    }
  }, 120_000);
});
