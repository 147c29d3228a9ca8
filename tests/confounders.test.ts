import { describe, expect, it } from 'vitest';
import {
  compareRegion,
  flaggedSpans,
  flagTokens,
  isWhitespaceToken,
  minMaxNormalize,
  parseRuleSpec,
  projectOntoTokens,
  quantile,
  resolveRule,
  sampleRegions,
  spanPieces,
  splitPoints,
  thresholdRuleNames,
  withoutWord,
  words,
} from '../lib/confounders/index.ts';

const spans = (...pairs: [number, number][]) => pairs.map(([start, end]) => ({ start, end }));
const close = (actual: ArrayLike<number>, expected: number[]) => {
  expect(actual.length).toBe(expected.length);
  expected.forEach((value, i) => expect(actual[i]).toBeCloseTo(value, 6));
};

describe('min-max normalisation', () => {
  it('maps the region to [0, 1]', () => close(minMaxNormalize([1, 3, 2]), [0, 1, 0.5]));
  it('maps a constant region (and a single token) to zeros', () => {
    close(minMaxNormalize([4, 4, 4]), [0, 0, 0]);
    close(minMaxNormalize([7]), [0]);
  });
});

describe('projection through characters', () => {
  // text "abcdef": teacher tokens "abc" | "def", student tokens "ab" | "cd" | "ef"
  const teacher = spans([0, 3], [3, 6]);
  const student = spans([0, 2], [2, 4], [4, 6]);
  it('max takes the largest character score of each student token', () =>
    close(projectOntoTokens([1, 2], teacher, student, 6, 'max'), [1, 2, 2]));
  it('mean averages over the characters of each student token', () =>
    close(projectOntoTokens([1, 2], teacher, student, 6, 'mean'), [1, 1.5, 2]));
  it('weights the mean by characters', () =>
    close(projectOntoTokens([3, 0], spans([0, 3], [3, 6]), spans([0, 4], [4, 6]), 6, 'mean'), [2.25, 0]));
  it('identical tokenisations project onto themselves', () =>
    close(projectOntoTokens([0.1, 0.7, 0.3], student, student, 6, 'mean'), [0.1, 0.7, 0.3]));
  it('characters no teacher token covers are left out; an uncovered token gets 0', () =>
    close(projectOntoTokens([5], spans([1, 3]), spans([0, 2], [3, 4]), 4, 'mean'), [5, 0]));
});

describe('threshold rules', () => {
  it('registers percentile and absolute', () => expect(thresholdRuleNames()).toEqual(expect.arrayContaining(['percentile', 'absolute'])));
  it('quantile interpolates linearly like numpy', () => {
    // sorted: -0.5 -0.2 0.1 0.3 0.9; q=0.05 -> position 0.2 -> -0.5 + 0.2 * 0.3
    expect(quantile([0.3, -0.2, 0.1, 0.9, -0.5], 0.05)).toBeCloseTo(-0.44, 12);
    expect(quantile([0.3, -0.2, 0.1, 0.9, -0.5], 0.5)).toBeCloseTo(0.1, 12);
  });
  it('percentile defaults to p=0.05 cap=0.5 and the cap binds', () => {
    const rule = resolveRule('percentile');
    expect(rule.spec).toBe('percentile:p=0.05,cap=0.5');
    const delta = [0.3, -0.2, 0.1, 0.9, -0.5];
    expect(rule.rule.threshold(delta, rule.params)).toBeCloseTo(-0.44, 6);
    const high = parseRuleSpec('percentile:p=0.9');
    expect(high.rule.threshold(delta, high.params)).toBe(0.5); // quantile 0.66 capped at 0.5
  });
  it('absolute returns tau', () => {
    const rule = parseRuleSpec('absolute:tau=0.15');
    expect(rule.rule.threshold([0, 1], rule.params)).toBe(0.15);
  });
  it('rejects unknown rules, parameters and bad values', () => {
    expect(() => parseRuleSpec('median')).toThrow(/unknown threshold rule "median"/);
    expect(() => parseRuleSpec('percentile:q=0.1')).toThrow(/no parameter "q"/);
    expect(() => parseRuleSpec('percentile:p=abc')).toThrow(/expected NAME:key=number/);
    expect(() => parseRuleSpec('percentile:p=1.5')).toThrow(/p must be <= 1/);
  });
});

describe('flags and spans', () => {
  // text: "Tom has 3 red apples .\n"; tokens: "Tom"," has"," 3"," red"," apples"," ."," ", "\n"
  const text = 'Tom has 3 red apples .\n';
  const tokenSpans = spans([0, 3], [3, 7], [7, 9], [9, 13], [13, 20], [20, 22], [22, 23]);
  const ws = tokenSpans.map((s) => isWhitespaceToken(text, s));
  it('detects whitespace/newline-only tokens', () => expect(ws).toEqual([false, false, false, false, false, false, true]));
  it('never flags whitespace tokens', () => expect(flagTokens([0, 0, 0, 0, 0, 0, 0], 0.1, ws)).toEqual([true, true, true, true, true, true, false]));
  it('flags Δ ≤ τ (inclusive)', () =>
    expect(flagTokens([0.2, 0.1, 0.3, -1, 0.5, 0.1, 0], 0.1, ws)).toEqual([false, true, false, true, false, true, false]));
  it('spans are maximal runs, in characters', () =>
    expect(flaggedSpans([true, true, false, true, true, false, false], tokenSpans, ws)).toEqual(spans([0, 7], [9, 20])));

  // "a", " ", "b", " ", " ", "c", "x": whitespace tokens at 1, 3, 4
  const t2 = 'a b  cx';
  const s2 = spans([0, 1], [1, 2], [2, 3], [3, 4], [4, 5], [5, 6], [6, 7]);
  const ws2 = s2.map((s) => isWhitespaceToken(t2, s));
  const f2 = [true, false, true, false, false, true, false];
  it('merge-gap 0 keeps runs apart', () => expect(flaggedSpans(f2, s2, ws2, 0)).toEqual(spans([0, 1], [2, 3], [5, 6])));
  it('merge-gap 1 bridges one whitespace token, not two', () =>
    expect(flaggedSpans(f2, s2, ws2, 1)).toEqual(spans([0, 3], [5, 6])));
  it('merge-gap 2 bridges two', () => expect(flaggedSpans(f2, s2, ws2, 2)).toEqual(spans([0, 6])));
  it('never bridges a non-whitespace token', () =>
    expect(flaggedSpans([true, false, true], spans([0, 1], [1, 2], [2, 3]), [false, false, false], 5)).toEqual(spans([0, 1], [2, 3])));
});

describe('spans cut at phrase edges (--span-cut phrase)', () => {
  // A bracketed distractor and the clause after it: two units the contrastive detector measured apart.
  const text = '[ 1 ] take 1 and 0 . what is the sum ?';
  const leading = [...text.matchAll(/ ?\S+/g)].map((m) => ({ start: m.index, end: m.index + m[0].length })); // "[", " 1", " ]", " take", ...
  const trailing = [...text.matchAll(/\S+ ?/g)].map((m) => ({ start: m.index, end: m.index + m[0].length })); // "[ ", "1 ", "] ", "take ", ...
  const flagged = leading.map((_, i) => i < 8); // "[ 1 ]" and "take 1 and 0 ."
  const noWhitespace = leading.map(() => false);
  const texts = (found: { start: number; end: number }[]) => found.map((span) => text.slice(span.start, span.end).trim());

  it('none: touching flagged units are one span (the paper\'s maximal runs)', () =>
    expect(texts(flaggedSpans(flagged, leading, noWhitespace, 0, spanPieces(text, leading, 'none')))).toEqual(['[ 1 ] take 1 and 0 .']));
  it('phrase: one span per phrase, whichever side of a token its space is on', () => {
    expect(texts(flaggedSpans(flagged, leading, noWhitespace, 0, spanPieces(text, leading, 'phrase')))).toEqual(['[ 1 ]', 'take 1 and 0 .']);
    expect(texts(flaggedSpans(flagged, trailing, noWhitespace, 0, spanPieces(text, trailing, 'phrase')))).toEqual(['[ 1 ]', 'take 1 and 0 .']);
  });
  it('phrase: a run inside one phrase stays whole, and words outside every phrase are not cut apart', () => {
    const inside = leading.map((_, i) => i >= 3 && i < 6); // "take 1 and"
    expect(texts(flaggedSpans(inside, leading, noWhitespace, 0, spanPieces(text, leading, 'phrase')))).toEqual(['take 1 and']);
    const plain = 'no punctuation here';
    const tokens = [...plain.matchAll(/ ?\S+/g)].map((m) => ({ start: m.index, end: m.index + m[0].length }));
    expect(flaggedSpans([true, true, true], tokens, [false, false, false], 0, spanPieces(plain, tokens, 'phrase'))).toEqual(spans([0, plain.length]));
  });
  it('phrase: --merge-gap does not bridge whitespace across a phrase edge', () => {
    const gapped = 'a b . c d .';
    const tokens = spans([0, 1], [1, 2], [2, 3], [3, 4], [4, 5], [5, 6], [6, 7], [7, 8], [8, 9], [9, 10], [10, 11]);
    const ws = tokens.map((span) => isWhitespaceToken(gapped, span));
    const marks = tokens.map((_, i) => !ws[i]);
    expect(flaggedSpans(marks, tokens, ws, 1, spanPieces(gapped, tokens, 'none'))).toEqual(spans([0, 11]));
    expect(flaggedSpans(marks, tokens, ws, 1, spanPieces(gapped, tokens, 'phrase'))).toEqual(spans([0, 5], [6, 11]));
  });
  it('compareRegion cuts only when asked (default none)', () => {
    const teacher = { spans: leading, scores: Float32Array.from(leading, (_, i) => (i < 8 ? 0 : 1)) };
    const student = { spans: leading, scores: Float32Array.from(leading, () => 0) };
    const rule = parseRuleSpec('absolute:tau=0.1');
    expect(texts(compareRegion(text, teacher, student, { rule }).flaggedSpans)).toEqual(['[ 1 ] take 1 and 0 .']);
    expect(texts(compareRegion(text, teacher, student, { rule, spanCut: 'phrase' }).flaggedSpans)).toEqual(['[ 1 ]', 'take 1 and 0 .']);
  });
});

describe('compareRegion', () => {
  const text = 'ab cd ef';
  const tokenSpans = spans([0, 2], [2, 5], [5, 8]);
  it('computes Δ = ĝ_T − ĝ_S and flags by the rule', () => {
    const result = compareRegion(
      text,
      { spans: tokenSpans, scores: Float32Array.from([2, 4, 3]) }, // ĝ_T = 0, 1, 0.5
      { spans: tokenSpans, scores: Float32Array.from([1, 1, 5]) }, // ĝ_S = 0, 0, 1
      { rule: parseRuleSpec('absolute:tau=-0.2') },
    );
    close(result.teacherNorm, [0, 1, 0.5]);
    close(result.studentNorm, [0, 0, 1]);
    close(result.delta, [0, 1, -0.5]);
    expect(result.flagged).toEqual([false, false, true]);
    expect(result.flaggedSpans).toEqual(spans([5, 8]));
    expect(result.identicalTokenization).toBe(true);
    close(result.teacherScore, [2, 4, 3]);
  });
  it('--renormalize rescales Δ to [0, 1]', () => {
    const result = compareRegion(
      text,
      { spans: tokenSpans, scores: Float32Array.from([2, 4, 3]) },
      { spans: tokenSpans, scores: Float32Array.from([1, 1, 5]) },
      { rule: parseRuleSpec('absolute:tau=0'), renormalize: true },
    );
    close(result.delta, [1 / 3, 1, 0]); // (Δ + 0.5) / 1.5
    expect(result.flagged).toEqual([false, false, true]);
  });
  it('projects a differently tokenised teacher onto student tokens', () => {
    const result = compareRegion(
      text,
      { spans: spans([0, 5], [5, 8]), scores: Float32Array.from([1, 3]) }, // ĝ_T = 0, 1
      { spans: tokenSpans, scores: Float32Array.from([1, 2, 3]) },
      { rule: parseRuleSpec('absolute:tau=0'), projection: 'max' },
    );
    expect(result.identicalTokenization).toBe(false);
    close(result.teacherScore, [1, 1, 3]);
    close(result.teacherNorm, [0, 0, 1]);
    close(result.delta, [0, -0.5, 0]);
  });
  it('forced projection equals the identical path', () => {
    const teacher = { spans: tokenSpans, scores: Float32Array.from([0.3, 0.9, 0.1]) };
    const student = { spans: tokenSpans, scores: Float32Array.from([0.5, 0.2, 0.4]) };
    for (const projection of ['max', 'mean'] as const) {
      const direct = compareRegion(text, teacher, student, { rule: resolveRule('percentile'), projection });
      const forced = compareRegion(text, teacher, student, { rule: resolveRule('percentile'), projection, forceProjection: true });
      expect(Array.from(forced.delta)).toEqual(Array.from(direct.delta));
      expect(forced.flaggedSpans).toEqual(direct.flaggedSpans);
    }
  });
});

describe('regions', () => {
  it('instruction level: one region, the whole response is the target', () => {
    const r = sampleRegions('Q?', 'A.', 'instruction');
    expect(r.regions.map((x) => x.name)).toEqual(['instruction']);
    expect(r.target).toEqual({ start: 0, end: 2 });
  });
  it('splits at the line boundary closest to equal halves', () => {
    const response = 'Step 1: a\nStep 2: bb\nStep 3: c\nSo 4.';
    expect(splitPoints(response, 2)).toEqual([21]);
    const r = sampleRegions('Q', response, 'response', 2);
    expect(r.regions.map((x) => [x.name, x.text])).toEqual([
      ['instruction', 'Q'],
      ['response-1', 'Step 1: a\nStep 2: bb\n'],
    ]);
    expect(response.slice(r.target.start, r.target.end)).toBe('Step 3: c\nSo 4.');
  });
  it('three segments, blank lines kept with the earlier segment', () => {
    const response = 'one one\n\ntwo two\n\nthree three';
    const r = sampleRegions('Q', response, 'response', 3);
    expect(r.regions.slice(1).map((x) => x.text)).toEqual(['one one\n\n', 'two two\n\n']);
    expect(response.slice(r.target.start)).toBe('three three');
  });
  it('falls back to sentence boundaries, and fails without any', () => {
    expect(splitPoints('First. Second one. Third!', 2)).toEqual([7]);
    expect(() => sampleRegions('Q', 'no boundary here', 'response', 2)).toThrow(/no line or sentence boundaries/);
  });
  it('words and word removal', () => {
    expect(words(' ab  c\nd ')).toEqual(spans([1, 3], [5, 6], [7, 8]));
    expect(withoutWord('ab cd ef', { start: 3, end: 5 })).toBe('ab ef');
    expect(withoutWord('ab cd ef', { start: 0, end: 2 })).toBe('cd ef');
    expect(withoutWord('ab cd ef', { start: 6, end: 8 })).toBe('ab cd');
    expect(withoutWord('ab cd\n', { start: 3, end: 5 })).toBe('ab\n');
    expect(withoutWord('ab', { start: 0, end: 2 })).toBe('');
  });
});
