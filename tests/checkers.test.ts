import { describe, expect, it } from 'vitest';
import { extractNumber, getChecker, lastBoxed, listCheckers } from '../lib/eval/checkers/index.ts';

describe('answer checkers registry', () => {
  it('lists the built-in checkers and rejects unknown names with the list', () => {
    expect(listCheckers().sort()).toEqual(['contains', 'exact', 'numeric']);
    expect(() => getChecker('fuzzy')).toThrow(/unknown answer checker "fuzzy"; available: .*exact/);
  });
});

describe('exact', () => {
  const exact = getChecker('exact');
  it('trims surrounding whitespace only', () => {
    expect(exact.check('  42\n', '42')).toBe(true);
    expect(exact.check('42', ' 42 ')).toBe(true);
    expect(exact.check('4 2', '42')).toBe(false);
    expect(exact.check('Paris', 'paris')).toBe(false);
    expect(exact.check('42.0', '42')).toBe(false);
  });
});

describe('contains', () => {
  const contains = getChecker('contains');
  it('finds the trimmed answer anywhere', () => {
    expect(contains.check('I think the capital is Paris.', ' Paris ')).toBe(true);
    expect(contains.check('I think the capital is Rome.', 'Paris')).toBe(false);
    expect(contains.check('a plain 17', '7')).toBe(true);
  });
  it('refuses an empty gold answer', () => {
    expect(() => contains.check('anything', '  ')).toThrow(/gold answer is empty/);
  });
});

describe('numeric', () => {
  const numeric = getChecker('numeric');
  it('reads \\boxed{} first, with nested braces', () => {
    expect(numeric.check('the answer is \\boxed{42}', '42')).toBe(true);
    expect(numeric.check('first 41, so \\boxed{42}. Check: 43', '42')).toBe(true);
    expect(lastBoxed('x \\boxed{\\frac{1}{2}} y')).toBe('\\frac{1}{2}');
    expect(numeric.check('\\boxed{\\frac{1}{2}}', '0.5')).toBe(true);
    expect(numeric.check('\\boxed{-\\dfrac{3}{4}}', '-0.75')).toBe(true);
    expect(numeric.check('\\boxed{1/2}', '0.5')).toBe(true);
    expect(numeric.check('\\boxed{\\$1,000}', '1000')).toBe(true);
    expect(numeric.check('\\boxed{50\\%}', '50')).toBe(true);
    expect(numeric.check('\\boxed{1\\,000}', '1000')).toBe(true);
  });
  it('does not take the last number out of a boxed expression', () => {
    // \frac{3}{2} would read as "2" by a last-number rule; 3/2 != 2.
    expect(numeric.check('\\boxed{\\frac{3}{2}}', '2')).toBe(false);
    expect(numeric.check('\\boxed{x+2}', '2')).toBe(false);
  });
  it('otherwise takes the last number, with signs, decimals and thousands commas', () => {
    expect(numeric.check('x = -3.50', '-3.5')).toBe(true);
    expect(numeric.check('x = 3.50', '-3.5')).toBe(false);
    expect(numeric.check('The total is 1,234,567 dollars.', '1234567')).toBe(true);
    expect(numeric.check('1,234.5', '1234.50')).toBe(true);
    expect(numeric.check('values 1,2,3', '3')).toBe(true);
    expect(numeric.check('it is 42.', '42')).toBe(true);
    expect(numeric.check('it was 41 then 42', '41')).toBe(false);
    expect(numeric.check('no number here', '42')).toBe(false);
    expect(numeric.check('x = \u22125', '-5')).toBe(true);
    expect(numeric.check('0.1', '0.10000000001')).toBe(true);
    expect(numeric.check('0.1', '0.11')).toBe(false);
  });
  it('treats a minus glued to a word or number as an operator', () => {
    expect(extractNumber('5-3')).toBe(3);
    expect(extractNumber('x-2')).toBe(2);
    expect(extractNumber('(-2)')).toBe(-2);
    expect(extractNumber('a = -2')).toBe(-2);
  });
  it('accepts a gold answer written the same ways and refuses one without a number', () => {
    expect(numeric.check('so 7', '\\boxed{7}')).toBe(true);
    expect(numeric.check('so 7', 'x = 7')).toBe(true);
    expect(() => numeric.check('7', 'seven')).toThrow(/gold answer "seven" contains no number/);
  });
});
