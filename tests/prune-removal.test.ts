import { describe, expect, it } from 'vitest';
import { userMessage } from '../lib/corpus/prompt.ts';
import type { Sample } from '../lib/corpus/types.ts';
import { removeFromField, removeSpans, reinsertSpans, type RemovedSpan } from '../lib/pruning/index.ts';
import { mulberry32 } from '../lib/util/random.ts';

type Span = { start: number; end: number };

/** Test-side reference: rebuild the original by walking its coordinates (independent of reinsertSpans). */
function referenceReinsert(pruned: string, removed: RemovedSpan[]): string {
  const total = pruned.length + removed.reduce((sum, span) => sum + span.text.length, 0);
  const out: string[] = [];
  let next = 0;
  for (let i = 0; i < total; i++) {
    const span = removed.find((s) => i >= s.start && i < s.end);
    out.push(span ? span.text[i - span.start] : pruned[next++]);
  }
  expect(next).toBe(pruned.length);
  return out.join('');
}


// Code points (not code units): emoji and flags are surrogate pairs, 'é' as e + combining mark.
const ALPHABET = ['a', 'b', 'Z', '7', '.', ' ', ' ', ' ', '\n', '\t', '\r\n', '\u00a0', 'é', 'e\u0301', '中', '文', '😀', '🇫🇷', '𝔸', 'ß'];

function randomText(random: () => number, maxPieces: number): string {
  const n = Math.floor(random() * maxPieces);
  let text = '';
  for (let i = 0; i < n; i++) text += ALPHABET[Math.floor(random() * ALPHABET.length)];
  return text;
}

/** Code-unit offsets that do not split a surrogate pair. */
function boundaries(text: string): number[] {
  const out = [0];
  let at = 0;
  for (const char of text) out.push((at += char.length));
  return out;
}

/** Sorted, disjoint random spans on code-point boundaries (possibly touching). */
function randomSpans(random: () => number, text: string): Span[] {
  const points = boundaries(text);
  const picks = [...new Set(Array.from({ length: Math.floor(random() * 7) }, () => points[Math.floor(random() * points.length)]))].sort((a, b) => a - b);
  const spans: Span[] = [];
  for (let i = 0; i + 1 < picks.length; i += 2) spans.push({ start: picks[i], end: picks[i + 1] });
  return spans;
}

const isSpace = (char: string | undefined) => char !== undefined && /\s/.test(char);
const isHigh = (char: string | undefined) => char !== undefined && /[\uD800-\uDBFF]/.test(char);

/** Everything the removal promises, checked from the original text and the spans asked for. */
function checkRemoval(text: string, spans: Span[], parts: Span[], result: { text: string; removed: RemovedSpan[] }): void {
  const { removed } = result;
  // exact undo, by two independent routes
  expect(referenceReinsert(result.text, removed)).toBe(text);
  expect(reinsertSpans(result.text, removed)).toBe(text);
  const removedAt = new Array<boolean>(text.length).fill(false);
  let previousEnd = -1;
  for (const span of removed) {
    expect(span.start).toBeGreaterThan(previousEnd - 1);
    expect(span.end).toBeGreaterThan(span.start);
    expect(span.text).toBe(text.slice(span.start, span.end));
    expect(isHigh(text[span.start - 1])).toBe(false);
    expect(isHigh(text[span.end - 1])).toBe(false);
    for (let i = span.start; i < span.end; i++) removedAt[i] = true;
    previousEnd = span.end;
  }
  // every character outside removed spans is kept, in order
  expect(result.text).toBe(text.split('').filter((_, i) => !removedAt[i]).join(''));
  const inPart = (i: number) => parts.some((p) => i >= p.start && i < p.end);
  const asked = (i: number) => spans.some((s) => i >= s.start && i < s.end);
  for (let i = 0; i < text.length; i++) {
    if (asked(i) && inPart(i)) expect(removedAt[i]).toBe(true);
    if (!inPart(i)) expect(removedAt[i]).toBe(false);
    // beyond what was asked, only whitespace goes
    if (removedAt[i] && !asked(i)) expect(isSpace(text[i])).toBe(true);
  }
  // no seam inside a part is left with whitespace on both sides
  for (const span of removed) {
    const part = parts.find((p) => span.start >= p.start && span.end <= p.end)!;
    expect(part).toBeDefined();
    if (span.start > part.start && span.end < part.end) expect(isSpace(text[span.start - 1]) && isSpace(text[span.end])).toBe(false);
  }
}

describe('removeSpans', () => {
  it('collapses a doubled space at the seam and records it', () => {
    expect(removeSpans('foo BAR baz', [{ start: 4, end: 7 }])).toEqual({ text: 'foo baz', removed: [{ start: 4, end: 8, text: 'BAR ' }] });
  });

  it('keeps the line break and drops the space when they meet', () => {
    expect(removeSpans('x BAR\ny', [{ start: 2, end: 5 }])).toEqual({ text: 'x\ny', removed: [{ start: 1, end: 5, text: ' BAR' }] });
    expect(removeSpans('x\nBAR y', [{ start: 2, end: 5 }])).toEqual({ text: 'x\ny', removed: [{ start: 2, end: 6, text: 'BAR ' }] });
  });

  it('keeps the original spacing on the longer side', () => {
    expect(removeSpans('a  BAR b', [{ start: 3, end: 6 }])).toEqual({ text: 'a  b', removed: [{ start: 3, end: 7, text: 'BAR ' }] });
  });

  it('does not touch whitespace that is not doubled', () => {
    expect(removeSpans('foo BAR.', [{ start: 4, end: 7 }])).toEqual({ text: 'foo .', removed: [{ start: 4, end: 7, text: 'BAR' }] });
    expect(removeSpans('foo BAR baz', [{ start: 3, end: 7 }])).toEqual({ text: 'foo baz', removed: [{ start: 3, end: 7, text: ' BAR' }] });
  });

  it('trims the whitespace a removal exposes at the start or end', () => {
    expect(removeSpans('BAR baz', [{ start: 0, end: 3 }]).text).toBe('baz');
    expect(removeSpans('foo BAR', [{ start: 4, end: 7 }])).toEqual({ text: 'foo', removed: [{ start: 3, end: 7, text: ' BAR' }] });
    expect(removeSpans('  BAR baz', [{ start: 2, end: 5 }]).text).toBe('  baz');
  });

  it('treats spans separated by whitespace only as one removal', () => {
    expect(removeSpans('a X Y b', [{ start: 2, end: 3 }, { start: 4, end: 5 }])).toEqual({ text: 'a b', removed: [{ start: 2, end: 6, text: 'X Y ' }] });
    expect(removeSpans('a X, Y b', [{ start: 2, end: 3 }, { start: 5, end: 6 }]).text).toBe('a , b');
  });

  it('works on surrogate pairs and CJK', () => {
    expect(removeSpans('猫 😀 が', [{ start: 2, end: 4 }])).toEqual({ text: '猫 が', removed: [{ start: 2, end: 5, text: '😀 ' }] });
  });

  it('round-trips and keeps every promise over many random span sets (Unicode)', () => {
    const random = mulberry32(20250607);
    for (let trial = 0; trial < 3000; trial++) {
      const text = randomText(random, 30);
      const points = boundaries(text);
      // Sometimes two parts with a gap between them, like instruction / separator / input.
      const cut = points[Math.floor(random() * points.length)];
      const gapEnd = points.find((p) => p >= cut + 2) ?? text.length;
      const parts = random() < 0.5 ? [{ start: 0, end: text.length }] : [{ start: 0, end: cut }, { start: gapEnd, end: text.length }];
      const spans = randomSpans(random, text);
      checkRemoval(text, spans, parts, removeSpans(text, spans, parts));
    }
  });
});

describe('removeFromField', () => {
  const sample = (instruction: string, input: string, output = 'the answer is 5'): Sample => ({ id: 's', index: 0, instruction, input, output, answer: '5', extra: {} });

  it('cuts a span over the separator in two and keeps the separator', () => {
    const s = sample('Add the numbers. Ignore', 'this: 2 and 3');
    const text = userMessage(s);
    const start = text.indexOf('Ignore');
    const removal = removeFromField(s, 'user', [{ start, end: text.indexOf(':') + 1 }]);
    expect(removal.fields).toEqual({ instruction: 'Add the numbers.', input: '2 and 3', output: s.output });
    expect(removal.text).toBe('Add the numbers.\n\n2 and 3');
    expect(reinsertSpans(removal.text, removal.removed)).toBe(text);
  });

  it('removes the separator with a wholly removed input', () => {
    const s = sample('What is 2 + 3?', 'My cat is called Tom.');
    const text = userMessage(s);
    const removal = removeFromField(s, 'user', [{ start: text.indexOf('My'), end: text.length }]);
    expect(removal.fields.input).toBe('');
    expect(removal.removed).toEqual([{ start: s.instruction.length, end: text.length, text: '\n\nMy cat is called Tom.' }]);
    expect(removal.text).toBe(userMessage(removal.fields));
    expect(reinsertSpans(removal.text, removal.removed)).toBe(text);
  });

  it('round-trips user messages for random fields and spans', () => {
    const random = mulberry32(7);
    for (let trial = 0; trial < 1500; trial++) {
      const s = sample(randomText(random, 12) || 'q', random() < 0.5 ? '' : randomText(random, 12));
      const text = userMessage(s);
      const spans = randomSpans(random, text);
      const removal = removeFromField(s, 'user', spans);
      expect(removal.text).toBe(userMessage(removal.fields));
      expect(referenceReinsert(removal.text, removal.removed)).toBe(text);
      for (const span of removal.removed) expect(span.text).toBe(text.slice(span.start, span.end));
      // the separator goes only when the whole input went
      const separatorRemoved = removal.removed.some((span) => span.start <= s.instruction.length && span.end > s.instruction.length);
      expect(separatorRemoved).toBe(s.input !== '' && removal.fields.input === '');
    }
  });

  it('prunes the response field without touching the instruction', () => {
    const s = sample('Q?', '', 'Step 1: note the cat.\nStep 2: 2 + 3 = 5');
    const removal = removeFromField(s, 'response', [{ start: 8, end: 21 }]);
    expect(removal.fields).toEqual({ instruction: 'Q?', input: '', output: 'Step 1:\nStep 2: 2 + 3 = 5' });
    expect(reinsertSpans(removal.fields.output, removal.removed)).toBe(s.output);
  });
});
